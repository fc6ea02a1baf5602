import { Problem, sessionRefusalProblem } from './problem';

describe('session-table refusals as problems', () => {
  const refused = (fields: Record<string, unknown>) =>
    sessionRefusalProblem({ status: 'refused', ...fields }) as Problem;

  it('answers a request id reused with another body 422 idempotency-key-reuse', () => {
    const problem = refused({ reason: 'idempotency-key-reuse', requestId: 'r-1' });
    expect(problem.getStatus()).toBe(422);
    expect(problem.extra.type).toBe('idempotency-key-reuse');
    expect(problem.describe()).toMatch(/^422 idempotency-key-reuse: requestId r-1 /);
  });

  it('answers a retry past the window 409 idempotency-window-passed, naming the window', () => {
    const problem = refused({
      reason: 'idempotency-window-passed',
      requestId: 'r-2',
      windowMs: 600_000,
    });
    expect(problem.getStatus()).toBe(409);
    expect(problem.extra.type).toBe('idempotency-window-passed');
    expect(problem.detail).toContain('600 s');
  });

  it('answers a full table 503 with Retry-After in whole seconds, at least one', () => {
    const problem = refused({ reason: 'idempotency-ids-full', retryAfterMs: 1_200 });
    expect(problem.getStatus()).toBe(503);
    expect(problem.extra).toEqual({ type: 'idempotency-ids-full', retryAfterSeconds: 2 });
    expect(
      refused({ reason: 'idempotency-ids-full', retryAfterMs: 1 }).extra.retryAfterSeconds,
    ).toBe(1);
  });

  it('leaves every other result alone', () => {
    for (const result of [{ status: 'ok' }, { status: 'rejected', reason: 'out-of-stock' }, {}])
      expect(sessionRefusalProblem(result)).toBeUndefined();
  });
});
