import { maySendBeforePersist } from './send-first';
import { HardState, Ready, Role } from './types';

const durable: HardState = { term: 3, vote: 'n1', commit: 10 };
const ready = (hardState?: HardState): Ready => ({
  readStates: [],
  entries: [],
  committedEntries: [],
  messages: [],
  mustSync: true,
  ...(hardState ? { hardState } : {}),
});

describe('maySendBeforePersist', () => {
  it.each([
    ['a leader, nothing of term or vote changing', Role.Leader, ready(), true],
    [
      'a leader whose Ready only moves commit',
      Role.Leader,
      ready({ ...durable, commit: 12 }),
      true,
    ],
    ['a leader whose Ready changes term', Role.Leader, ready({ ...durable, term: 4 }), false],
    ['a leader whose Ready changes vote', Role.Leader, ready({ ...durable, vote: 'n2' }), false],
    ['a follower', Role.Follower, ready(), false],
    ['a candidate', Role.Candidate, ready(), false],
    ['a pre-candidate', Role.PreCandidate, ready(), false],
  ])('%s: %s', (_what, role, rd, expected) => {
    expect(maySendBeforePersist(role, rd, durable)).toBe(expected);
  });
});
