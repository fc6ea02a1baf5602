import { backoffDelayMs, retry, RetryExhaustedError } from './retry';
import { breakerState, breakerStates, createBreaker } from './breaker';
import { DeadlineExceededError, withDeadline } from './deadline';

describe('retry with exponential back-off and full jitter', () => {
  const instant = { sleep: async () => undefined, random: () => 0.5 };

  it.each([
    [0, 100],
    [1, 200],
    [3, 800],
    [4, 1000],
    [20, 1000],
  ])(
    'after attempt %i the delay stays below min(cap, base * 2^attempt) = %i',
    (attempt, ceiling) => {
      const options = { delayMsBase: 100, delayMsMax: 1000 };
      expect(backoffDelayMs(attempt, options, () => 0.999999)).toBe(ceiling - 1);
      expect(backoffDelayMs(attempt, options, () => 0)).toBe(0);
    },
  );

  it('returns the first success', async () => {
    let calls = 0;
    const value = await retry(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('transient');
        return 'done';
      },
      { attemptsMax: 5, delayMsBase: 10, delayMsMax: 100, deadlineMs: 10_000, ...instant },
    );
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it('gives up after the attempt bound with the last error', async () => {
    let calls = 0;
    const failing = retry(
      async () => {
        calls += 1;
        throw new Error(`failure ${calls}`);
      },
      { attemptsMax: 4, delayMsBase: 10, delayMsMax: 100, deadlineMs: 10_000, ...instant },
    );
    await expect(failing).rejects.toThrow(RetryExhaustedError);
    await expect(failing).rejects.toThrow('failure 4');
    expect(calls).toBe(4);
  });

  it('stops at the deadline even with attempts left', async () => {
    let clock = 0;
    let calls = 0;
    const failing = retry(
      async () => {
        calls += 1;
        throw new Error('down');
      },
      {
        attemptsMax: 100,
        delayMsBase: 100,
        delayMsMax: 100,
        deadlineMs: 250,
        random: () => 0.99,
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      },
    );
    await expect(failing).rejects.toThrow(RetryExhaustedError);
    expect(calls).toBe(3);
  });

  it('does not retry an error that is not retryable', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          throw new Error('bad request');
        },
        {
          attemptsMax: 5,
          delayMsBase: 1,
          delayMsMax: 1,
          deadlineMs: 1000,
          retryable: () => false,
          ...instant,
        },
      ),
    ).rejects.toThrow('bad request');
    expect(calls).toBe(1);
  });
});

describe('circuit breaker', () => {
  it('opens after failures, fails fast while open, and reports its state', async () => {
    let calls = 0;
    const breaker = createBreaker(
      async () => {
        calls += 1;
        throw new Error('dependency down');
      },
      {
        name: 'test-dependency',
        timeoutMs: 1000,
        errorThresholdPercentage: 50,
        resetTimeoutMs: 60_000,
        volumeThreshold: 2,
      },
    );
    for (let i = 0; i < 3; i += 1) await expect(breaker.fire()).rejects.toThrow();
    expect(breakerState(breaker)).toBe('open');
    expect(breakerStates()['test-dependency']).toBe('open');
    const before = calls;
    await expect(breaker.fire()).rejects.toThrow(/Breaker is open/);
    expect(calls).toBe(before);
    breaker.shutdown();
    expect(breakerStates()['test-dependency']).toBeUndefined();
  });
});

describe('deadline', () => {
  it('rejects a promise that outlives its deadline', async () => {
    const never = new Promise<never>(() => undefined);
    await expect(withDeadline(never, 5, 'a call')).rejects.toThrow(DeadlineExceededError);
  });

  it('passes a timely result through', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, 'a call')).resolves.toBe(7);
  });
});
