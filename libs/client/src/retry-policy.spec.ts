import {
  AttemptFailure,
  Safety,
  judgeAttempt,
  parseRetryAfter,
  retryDelayMs,
} from './retry-policy';

describe('when an operation may be sent again', () => {
  const answer = (status: number): AttemptFailure => ({ kind: 'answer', status });
  const table: [Safety, AttemptFailure, boolean, boolean][] = [
    // safety, failure, retry, may have applied
    ['read', { kind: 'lost' }, true, false],
    ['idempotent', { kind: 'lost' }, true, true],
    ['unsafe', { kind: 'lost' }, false, true],
    ['unsafe', { kind: 'not-sent' }, true, false],
    ['unsafe', answer(429), true, false],
    ['unsafe', answer(503), false, false],
    ['unsafe', answer(504), false, true],
    ['idempotent', answer(503), true, false],
    ['idempotent', answer(504), true, true],
    ['read', answer(504), true, false],
    ['idempotent', answer(409), false, false],
    ['read', answer(404), false, false],
    ['idempotent', answer(500), false, false],
  ];
  it.each(table)(
    '%s after %j: retry %s, may have applied %s',
    (safety, failure, retry, applied) => {
      const verdict = judgeAttempt(safety, failure);
      expect(verdict.retry).toBe(retry);
      expect(verdict.mayHaveApplied).toBe(applied);
    },
  );

  it('never retries an unsafe operation that a server may have seen', () => {
    for (const failure of [
      { kind: 'lost' },
      answer(502),
      answer(503),
      answer(504),
    ] as AttemptFailure[])
      expect(judgeAttempt('unsafe', failure).retry).toBe(false);
  });
});

describe('the pause before the next attempt', () => {
  const backoff = { delayMsBase: 100, delayMsMax: 1_000 };

  it('is full jitter below min(cap, base * 2^attempt)', () => {
    expect(retryDelayMs(3, { kind: 'lost' }, backoff, () => 0.999)).toBe(799);
    expect(retryDelayMs(3, { kind: 'lost' }, backoff, () => 0)).toBe(0);
    expect(retryDelayMs(30, { kind: 'lost' }, backoff, () => 0.5)).toBe(500);
  });

  it('is never shorter than Retry-After, even when back-off alone would be', () => {
    const failure: AttemptFailure = { kind: 'answer', status: 429, retryAfterMs: 2_000 };
    expect(retryDelayMs(0, failure, backoff, () => 0)).toBe(2_000);
    expect(retryDelayMs(0, failure, backoff, () => 0.999)).toBe(2_099);
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores nonsense', () => {
    expect(parseRetryAfter('3', 0)).toBe(3_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});
