import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';

/** The query parameters every strong read takes (SPEC.md §2). */
export function ReadQueryDocs() {
  return applyDecorators(
    ApiQuery({ name: 'consistency', required: false, enum: ['linearizable', 'lease', 'stale'] }),
    ApiQuery({ name: 'minIndex', required: false, schema: { type: 'integer', minimum: 0 } }),
  );
}
