import { BODIES, KV_DELETE_QUERY, READ_QUERY } from '@parley/decision-api-contract';
import { ZodValidationPipe } from './validation';
import { Problem } from './problem';

function refusal(pipe: ZodValidationPipe<never>, value: unknown) {
  try {
    pipe.transform(value);
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    return { status: error.getStatus(), detail: error.detail, errors: error.extra.errors };
  }
  throw new Error('accepted');
}

const pipe = (schema: unknown, of?: 'query') =>
  new ZodValidationPipe(schema as never, of) as ZodValidationPipe<never>;

describe('ZodValidationPipe', () => {
  it('names every bad field of a body once, with the messages the state machine uses', () => {
    expect(
      refusal(pipe(BODIES.reserve.validated), { orderId: 'o9', quantity: -1, colour: 'red' }),
    ).toEqual({
      status: 400,
      detail: 'the request is not valid',
      errors: expect.arrayContaining([
        'colour is not a field of this request',
        'requestId (or the Idempotency-Key header) is required',
        'quantity must be an integer from 1 to 1000000000',
      ]) as unknown,
    });
    const proposal = refusal(pipe(BODIES.propose.validated), {
      requestId: 'r',
      proposalId: 'p',
      options: ['a', 'a', 5],
      policy: { kind: 'x', deadlineMs: 0, onDeadline: 'z', extra: 1 },
    });
    expect(proposal.errors).toEqual(
      expect.arrayContaining([
        'options must hold option names of 1-128 characters',
        'policy.kind must be majority, threshold, unanimous or weighted',
        'policy.deadlineMs must be an integer from 1 to 31536000000',
        'policy.onDeadline must be "plurality", "reject" or {"default": option}',
        'policy.extra is not a known field',
      ]),
    );
    expect(new Set(proposal.errors).size).toBe(proposal.errors!.length);
  });

  it('refuses a body that is not an object, and reads a missing one as empty', () => {
    expect(refusal(pipe(BODIES.increment.validated), [1])).toEqual({
      status: 400,
      detail: 'the body must be a JSON object',
      errors: undefined,
    });
    expect(refusal(pipe(BODIES.flag.validated), undefined).errors).toEqual(['value is required']);
    expect(pipe(BODIES.transfer.validated).transform(undefined as never)).toEqual({});
  });

  it('hands on the parsed value', () => {
    const body = { requestId: 'r', orderId: 'o', quantity: 2 };
    expect(pipe(BODIES.reserve.validated).transform(body as never)).toEqual(body);
    expect(pipe(READ_QUERY, 'query').transform({ minIndex: '5' } as never)).toEqual({
      consistency: 'linearizable',
      minIndex: 5,
    });
  });

  it('refuses an empty or spaced minIndex instead of reading it as 0', () => {
    for (const minIndex of ['', ' ', '1e3', '0x10'])
      expect(refusal(pipe(READ_QUERY, 'query'), { minIndex }).errors).toEqual([
        'minIndex must be a non-negative integer',
      ]);
  });

  it("checks DELETE kv's ifVersion the same way, and names an unknown parameter", () => {
    expect(pipe(KV_DELETE_QUERY, 'query').transform({ ifVersion: '3' } as never)).toEqual({
      ifVersion: 3,
    });
    expect(pipe(KV_DELETE_QUERY, 'query').transform({} as never)).toEqual({});
    expect(refusal(pipe(KV_DELETE_QUERY, 'query'), { ifVersion: '', force: 'x' }).errors).toEqual(
      expect.arrayContaining([
        'ifVersion must be a non-negative integer',
        'force is not a query parameter of this route',
      ]),
    );
  });

  it('checks a query with its own words', () => {
    expect(
      refusal(pipe(READ_QUERY, 'query'), { consistency: 'eventually', minIndex: '-1', x: '1' }),
    ).toEqual({
      status: 400,
      detail: 'the query is not valid',
      errors: expect.arrayContaining([
        'consistency must be linearizable, lease or stale',
        'minIndex must be a non-negative integer',
        'x is not a query parameter of this route',
      ]) as unknown,
    });
  });
});
