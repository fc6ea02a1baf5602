import fc from 'fast-check';
import { seededRandom } from './__tests__/harness';
import { maybeCommit } from './leader';
import { jointCommittedIndex, majorityCommittedIndex } from './quorum';
import { Raft } from './raft';
import { MemoryStorage } from './storage';
import { EMPTY_CONF_STATE, EntryType, NodeId } from './types';

/**
 * The commit computations checked against naive ones (etcd's quorum tests do the same): the
 * clever code sorts once; the naive code tries every candidate index and counts.
 */

const SEED = 0x5eed_c0de;
const RUNS = 500;

/** The largest index acknowledged by more than half of the voters, by counting at each index. */
function naiveMajorityIndex(voters: readonly NodeId[], match: ReadonlyMap<NodeId, number>): number {
  if (voters.length === 0) return Number.MAX_SAFE_INTEGER;
  let best = 0;
  for (const candidate of voters.map((v) => match.get(v) ?? 0)) {
    const holding = voters.filter((v) => (match.get(v) ?? 0) >= candidate).length;
    if (holding * 2 > voters.length && candidate > best) best = candidate;
  }
  return best;
}

const nodeIds = ['1', '2', '3', '4', '5', '6', '7'];
const voterSet = fc.subarray(nodeIds, { minLength: 0, maxLength: 7 });
const matchIndexes = fc.dictionary(fc.constantFrom(...nodeIds), fc.nat({ max: 20 }));

describe('the commit index against a naive computation', () => {
  it('majority: the quorum-th largest match is the largest index a majority holds', () => {
    fc.assert(
      fc.property(voterSet, matchIndexes, (voters, matches) => {
        const match = new Map(Object.entries(matches));
        expect(majorityCommittedIndex(new Set(voters), (id) => match.get(id))).toBe(
          naiveMajorityIndex(voters, match),
        );
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('joint: the smaller of what each half commits', () => {
    fc.assert(
      fc.property(voterSet, voterSet, matchIndexes, (incoming, outgoing, matches) => {
        const match = new Map(Object.entries(matches));
        const config = { incoming: new Set(incoming), outgoing: new Set(outgoing) };
        expect(jointCommittedIndex(config, (id) => match.get(id))).toBe(
          Math.min(naiveMajorityIndex(incoming, match), naiveMajorityIndex(outgoing, match)),
        );
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  /**
   * A leader over a log of older terms, with entries of its own term on top, sees its
   * followers acknowledge more and more. After every acknowledgement its commit index must be
   * what the naive rule of Raft §5.3/§5.4.2 says: the highest index stored on a majority whose
   * entry is of the current term (or the previous commit if there is none). It never goes back.
   */
  it('a leader commits the highest majority-replicated index of its own term', () => {
    const scenario = fc.record({
      voterCount: fc.integer({ min: 1, max: 5 }),
      /** Term increments of the older entries (0 = same term as the previous entry). */
      olderTermSteps: fc.array(fc.nat({ max: 2 }), { minLength: 0, maxLength: 8 }),
      ownEntries: fc.nat({ max: 4 }),
      /** (voter, index) acknowledgements, each clamped to the log and made non-decreasing. */
      acks: fc.array(fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 20 })), { maxLength: 25 }),
    });
    fc.assert(
      fc.property(scenario, ({ voterCount, olderTermSteps, ownEntries, acks }) => {
        const voters = nodeIds.slice(0, voterCount);
        const r = leaderOver(voters, olderTermSteps, ownEntries);
        const last = r.log.lastIndex();
        for (const [who, index] of acks) {
          const id = voters[who % voters.length];
          if (id === r.id) continue; // the leader's own match is its last index
          const before = r.log.committed;
          r.tracker.progress.get(id)!.maybeUpdate(Math.min(index, last));
          maybeCommit(r);
          const match = new Map(voters.map((v) => [v, r.tracker.progress.get(v)!.match]));
          expect(r.log.committed).toBe(naiveLeaderCommit(r, voters, match, before));
          expect(r.log.committed).toBeGreaterThanOrEqual(before);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

/** The naive rule: the highest index of the leader's term that a majority holds, else `before`. */
function naiveLeaderCommit(
  r: Raft,
  voters: readonly NodeId[],
  match: ReadonlyMap<NodeId, number>,
  before: number,
): number {
  let commit = before;
  for (let index = before + 1; index <= r.log.lastIndex(); index += 1) {
    const holding = voters.filter((v) => (match.get(v) ?? 0) >= index).length;
    if (holding * 2 > voters.length && r.log.term(index) === r.term) commit = index;
  }
  return commit;
}

/**
 * A leader (node "1") whose log holds the bootstrap entry 1 (term 1), entries of older terms
 * as `olderTermSteps` says, its empty entry and `ownEntries` more of its own term; nothing past
 * index 1 is committed and no follower has acknowledged anything.
 */
function leaderOver(voters: NodeId[], olderTermSteps: number[], ownEntries: number): Raft {
  const storage = new MemoryStorage();
  const confState = { ...EMPTY_CONF_STATE, voters };
  storage.applySnapshot({ meta: { index: 1, term: 1, confState }, data: new Uint8Array(0) });
  let term = 1;
  const older = olderTermSteps.map((step, i) => {
    term += step;
    return { term, index: i + 2, type: EntryType.Normal, data: new Uint8Array([i]) };
  });
  storage.append(older);
  storage.setHardState({ term, vote: '', commit: 1 });
  const r = new Raft({ id: '1', storage, random: seededRandom(1) });
  r.becomeCandidate();
  r.becomeLeader();
  for (let i = 0; i < ownEntries; i += 1) {
    r.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array([i]) }]);
  }
  return r;
}
