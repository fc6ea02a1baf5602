import {
  ClusterOutcome,
  ClusterRefused,
  sessionRefusal,
  temporarilyRefused,
} from '../cluster-client/outcomes';
import { ProblemFilter } from './problem';
import { problemFor } from './outcome-to-problem';

describe('session-table refusals as problems', () => {
  const refused = (fields: Record<string, unknown>) =>
    problemFor(sessionRefusal({ status: 'refused', ...fields }) as ClusterOutcome);

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

  it('answers a refusal this client does not know 500, as a bug', () => {
    expect(refused({ reason: 'something-new' }).getStatus()).toBe(500);
  });

  it('leaves every other result alone', () => {
    for (const result of [{ status: 'ok' }, { status: 'rejected', reason: 'out-of-stock' }, {}])
      expect(sessionRefusal(result)).toBeUndefined();
  });
});

describe('ProblemFilter', () => {
  function answer(error: unknown) {
    const sent: { status?: number; headers: Record<string, string>; body?: unknown } = {
      headers: {},
    };
    const response = {
      header: (name: string, value: string) => (sent.headers[name] = value),
      status: (status: number) => ((sent.status = status), response),
      send: (body: string) => (sent.body = JSON.parse(body)),
    };
    const host = {
      switchToHttp: () => ({ getResponse: () => response, getRequest: () => ({ url: '/v1/x' }) }),
    };
    new ProblemFilter().catch(error, host as never);
    return sent;
  }

  it('answers a typed cluster outcome as the one mapping says', () => {
    const sent = answer(temporarilyRefused('transferring-leadership'));
    expect(sent.status).toBe(503);
    expect(sent.headers['Retry-After']).toBe('1');
    expect(sent.body).toMatchObject({ type: 'transferring-leadership', status: 503 });
    const unknown = answer(new ClusterRefused({ kind: 'outcome-unknown', detail: 'maybe' }));
    expect(unknown).toMatchObject({ status: 504, body: { detail: 'maybe', instance: '/v1/x' } });
    const unsafe = new ClusterRefused({
      kind: 'conflict',
      detail: '2 of 3 voters reachable',
      reason: 'reconfiguration-unsafe',
    });
    expect(answer(unsafe).body).toMatchObject({ status: 409, type: 'reconfiguration-unsafe' });
    const stranger = new ClusterRefused({ kind: 'not-found', detail: 'no such member' });
    expect(answer(stranger).body).toMatchObject({ status: 404, type: 'about:blank' });
  });
});
