import { temporaryRefusal } from './command-log-client';
import { ClusterRefused, isFinalRefusal, temporarilyRefused } from './outcomes';
import { Problem } from '../http/problem';

describe('agent-events: which refusals are dead-lettered', () => {
  it('never a temporary refusal (back-pressure, a leadership transfer): it is retried', () => {
    for (const reason of ['too-large', 'too-many-pending', 'transferring-leadership']) {
      // As an older replica says it, too.
      const refusal = temporaryRefusal({ status: 'rejected', reason });
      expect(refusal).toBe(reason);
      expect(isFinalRefusal(temporarilyRefused(refusal!))).toBe(false);
    }
  });

  it('a bad command or a refused requestId is final, and so dead-lettered', () => {
    expect(isFinalRefusal(new ClusterRefused({ kind: 'invalid', detail: 'no' }))).toBe(true);
    expect(isFinalRefusal(new ClusterRefused({ kind: 'key-reuse', requestId: 'r' }))).toBe(true);
    const late = new ClusterRefused({ kind: 'window-passed', requestId: 'r', windowMs: 1 });
    expect(isFinalRefusal(late)).toBe(true);
  });

  it('an unknown outcome, a full window, an unexpected answer or any other error is not', () => {
    for (const outcome of [
      { kind: 'outcome-unknown', detail: '?' },
      { kind: 'ids-full', retryAfterS: 1 },
      { kind: 'unexpected', detail: '?' },
    ] as const)
      expect(isFinalRefusal(new ClusterRefused(outcome))).toBe(false);
    // The consumer decides on the outcome, not on an HTTP status.
    expect(isFinalRefusal(new Problem(400, 'Bad Request', 'requestId is required'))).toBe(false);
    expect(isFinalRefusal(new Error('socket closed'))).toBe(false);
  });
});
