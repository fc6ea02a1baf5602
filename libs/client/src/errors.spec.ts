import {
  ParleyBadRequest,
  ParleyCompacted,
  ParleyConflict,
  ParleyForbidden,
  ParleyIdempotencyKeyReuse,
  ParleyNotFound,
  ParleyOutcomeUnknown,
  ParleyRateLimited,
  ParleyUnauthorized,
  ParleyUnavailable,
  ParleyUnexpected,
  errorForAnswer,
} from './errors';

describe('the typed error of an answer', () => {
  it.each([
    [400, {}, ParleyBadRequest],
    [422, { type: 'idempotency-key-reuse' }, ParleyIdempotencyKeyReuse],
    [401, {}, ParleyUnauthorized],
    [403, { type: 'agent-binding-mismatch' }, ParleyForbidden],
    [404, {}, ParleyNotFound],
    [409, { type: 'idempotency-window-passed' }, ParleyConflict],
    [429, {}, ParleyRateLimited],
    [503, {}, ParleyUnavailable],
    [504, {}, ParleyOutcomeUnknown],
    [500, {}, ParleyUnexpected],
  ])('%i %j is %p', (status, problem, type) => {
    const error = errorForAnswer(
      status,
      { title: 't', detail: 'd', ...problem },
      { requestId: 'r1' },
    );
    expect(error).toBeInstanceOf(type);
    expect(error.name).toBe(type.name);
    expect(error).toMatchObject({ status, requestId: 'r1', problem: { detail: 'd' } });
  });

  it('names the problem type and every field error in its message', () => {
    const error = errorForAnswer(
      400,
      { type: 'about:blank', detail: 'invalid body', errors: ['quantity must be an integer'] },
      {},
    );
    expect(error.message).toBe('400: invalid body; quantity must be an integer');
    expect(error.problemType).toBeUndefined();
    expect(errorForAnswer(409, { type: 'reconfiguration-unsafe' }, {}).problemType).toBe(
      'reconfiguration-unsafe',
    );
  });

  it('carries the resync point of a compacted watch (410)', () => {
    const error = errorForAnswer(410, { compactedIndex: 90, resyncFrom: 91 }, {});
    expect(error).toBeInstanceOf(ParleyCompacted);
    expect(error).toMatchObject({ compactedIndex: 90, resyncFrom: 91 });
  });
});
