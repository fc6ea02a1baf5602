import { Body, createParamDecorator, ExecutionContext, PipeTransform } from '@nestjs/common';
import type { BodySchemas } from '@parley/decision-api-contract';
import type { z } from 'zod';
import { Problem } from './problem';

type Issue = z.core.$ZodIssue;

/**
 * Validates a body or a query with its zod schema (schemas.ts) and hands the handler the parsed
 * value; anything else is a 400 problem naming every bad field, each message once. A missing
 * body counts as an empty one, so a body without its required fields names them.
 */
export class ZodValidationPipe<Schema extends z.ZodType> implements PipeTransform {
  constructor(
    private readonly schema: Schema,
    private readonly of: 'body' | 'query' = 'body',
  ) {}

  transform(value: unknown): z.output<Schema> {
    const input = value ?? {};
    if (this.of === 'body' && !isPlainObject(input))
      throw new Problem(400, 'Bad Request', 'the body must be a JSON object');
    const parsed = this.schema.safeParse(input);
    if (parsed.success) return parsed.data;
    const what = this.of === 'body' ? 'a field of this request' : 'a query parameter of this route';
    throw new Problem(
      400,
      'Bad Request',
      this.of === 'body' ? 'the request is not valid' : 'the query is not valid',
      { errors: issueMessages(parsed.error.issues, (key) => `${key} is not ${what}`) },
    );
  }
}

/**
 * Every issue as "quantity must be …" (the field's path up to the first list index, then the
 * message), each once; a top-level field the schema does not know is worded by `unknownField`.
 */
export function issueMessages(issues: Issue[], unknownField: (key: string) => string): string[] {
  const messages = issues.flatMap((issue) => {
    const upToIndex = issue.path.findIndex((part) => typeof part !== 'string');
    const name = (upToIndex === -1 ? issue.path : issue.path.slice(0, upToIndex)).join('.');
    if (issue.code !== 'unrecognized_keys') return [`${name} ${issue.message}`];
    if (name !== '') return issue.keys.map((key) => `${name}.${key} is not a known field`);
    return issue.keys.map(unknownField);
  });
  return [...new Set(messages)];
}

/**
 * The body of a strong write, with the Idempotency-Key header moved into it as `requestId` when
 * the body has none: the two are one field, so the body's schema names it missing or bad among
 * the other fields. Takes the body's ZodValidationPipe: `@IdempotentBody(new ZodValidationPipe(…))`.
 */
export const IdempotentBody = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const request = context
    .switchToHttp()
    .getRequest<{ body?: unknown; headers: Record<string, unknown> }>();
  const body = request.body ?? {};
  const key = request.headers['idempotency-key'];
  if (!isPlainObject(body) || body.requestId !== undefined || key === undefined) return body;
  return { ...body, requestId: key };
});

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A body checked with its schema: `@ValidBody(BODIES.increment)`. */
export const ValidBody = (body: BodySchemas) => Body(new ZodValidationPipe(body.validated));

/** A strong write's body, requestId from the body or the header: `@CommandBody(BODIES.reserve)`. */
export const CommandBody = (body: BodySchemas) =>
  IdempotentBody(new ZodValidationPipe(body.validated));
