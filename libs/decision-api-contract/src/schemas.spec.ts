import { BODIES, openApiSchema } from './schemas';

describe('the documented schemas (OpenAPI 3.0, from the zod ones)', () => {
  it('are the validated ones, with requestId optional (the header may carry it)', () => {
    const reserve = openApiSchema(BODIES.reserve.documented);
    expect(reserve).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['orderId', 'quantity'],
      properties: { quantity: { type: 'integer', minimum: 1, maximum: 1_000_000_000 } },
      example: { requestId: 'doc-reserve' },
    });
    expect(openApiSchema(BODIES.member.documented)).toMatchObject({
      required: ['id', 'address'],
    });
  });
});
