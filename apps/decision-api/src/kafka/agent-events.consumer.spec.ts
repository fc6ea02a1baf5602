import { temporarilyRefused, temporaryRefusal } from '../cluster-client/command-log-client';
import { Problem } from '../http/problem';
import { isFinalRefusal } from './agent-events.consumer';

describe('agent-events: which refusals are dead-lettered', () => {
  it('never a temporary refusal (back-pressure, a leadership transfer): it is retried', () => {
    for (const reason of ['too-large', 'too-many-pending', 'transferring-leadership']) {
      // As an older replica says it, too.
      const refusal = temporaryRefusal({ status: 'rejected', reason });
      expect(refusal).toBe(reason);
      expect(isFinalRefusal(temporarilyRefused(refusal!))).toBe(false);
    }
  });

  it('a bad command is final, and so dead-lettered; an unknown outcome is not', () => {
    expect(isFinalRefusal(new Problem(400, 'Bad Request', 'requestId is required'))).toBe(true);
    expect(isFinalRefusal(new Problem(504, 'Gateway Timeout'))).toBe(false);
    expect(isFinalRefusal(new Error('socket closed'))).toBe(false);
  });
});
