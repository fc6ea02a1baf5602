import { BODIES, MEMBER_REMOVE_QUERY, openApiSchema } from './schemas';

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

describe('the query of DELETE /v1/cluster/members/{id}', () => {
  it('reads force as true or false, absent as false', () => {
    expect(MEMBER_REMOVE_QUERY.parse({})).toEqual({ force: false });
    expect(MEMBER_REMOVE_QUERY.parse({ force: 'true' })).toEqual({ force: true });
    expect(MEMBER_REMOVE_QUERY.parse({ force: 'false' })).toEqual({ force: false });
  });

  it('refuses any other force and any other parameter, naming it', () => {
    for (const query of [{ force: '' }, { force: 'yes' }, { force: '1' }, { forced: 'true' }]) {
      const parsed = MEMBER_REMOVE_QUERY.safeParse(query);
      expect(parsed.success).toBe(false);
      expect(JSON.stringify(parsed.error?.issues)).toMatch(/force/);
    }
  });
});
