import {
  VoteResult,
  jointCommittedIndex,
  jointVoteResult,
  majorityCommittedIndex,
  majorityVoteResult,
} from './quorum';
import { NodeId } from './types';

/** `"1 2 3"` → a set of ids; `""` → the empty configuration. */
const ids = (s: string): Set<NodeId> => new Set(s.split(' ').filter((x) => x !== ''));

/** `"1=5 2=n"` → [["1", "5"], ["2", "n"]]. */
function pairs(s: string): [NodeId, string][] {
  return s
    .split(' ')
    .filter((x) => x !== '')
    .map((pair) => pair.split('=') as [NodeId, string]);
}

/** `"1=5 2=3"` → acked indexes (ids not named acked nothing). */
function acks(s: string): (id: NodeId) => number | undefined {
  const map = new Map(pairs(s).map(([id, index]): [NodeId, number] => [id, Number(index)]));
  return (id) => map.get(id);
}

/** `"1=y 2=n"` → votes granted (y) or rejected (n); ids not named have not answered. */
function votes(s: string): Map<NodeId, boolean> {
  return new Map(pairs(s).map(([id, vote]): [NodeId, boolean] => [id, vote === 'y']));
}

const { Won, Lost, Pending } = VoteResult;
const ANY = Number.MAX_SAFE_INTEGER;

describe('majority commit index: the largest index a quorum acknowledged', () => {
  it.each([
    // voters, acked, committed
    ['', '', ANY], // the empty configuration agrees to everything (joint rules rely on it)
    ['1', '', 0],
    ['1', '1=7', 7],
    ['1 2', '1=7', 0], // two voters need both
    ['1 2', '1=7 2=5', 5],
    ['1 2 3', '1=7', 0],
    ['1 2 3', '1=7 2=5', 5],
    ['1 2 3', '1=7 2=5 3=9', 7],
    ['1 2 3', '1=7 2=7 3=7', 7],
    ['1 2 3 4', '1=7 2=5 3=9', 5], // four voters need three
    ['1 2 3 4', '1=7 2=5 3=9 4=8', 7],
    ['1 2 3 4 5', '1=1 2=2 3=3 4=4 5=5', 3],
    ['1 2 3 4 5', '1=9 2=9', 0],
    ['1 2 3', '4=100 5=100', 0], // acks of non-voters (learners) do not count
  ])('voters (%s) acked (%s) → %d', (voters, acked, committed) => {
    expect(majorityCommittedIndex(ids(voters), acks(acked))).toBe(committed);
  });
});

describe('majority vote result', () => {
  it.each([
    // voters, votes, result
    ['', '', Won],
    ['1', '', Pending],
    ['1', '1=y', Won],
    ['1', '1=n', Lost],
    ['1 2', '1=y', Pending],
    ['1 2', '1=y 2=n', Lost], // two voters need both
    ['1 2 3', '1=y', Pending],
    ['1 2 3', '1=y 2=y', Won],
    ['1 2 3', '1=y 2=n', Pending],
    ['1 2 3', '1=n 2=n', Lost],
    ['1 2 3 4', '1=y 2=y', Pending],
    ['1 2 3 4', '1=y 2=y 3=n', Pending],
    ['1 2 3 4', '1=y 2=n 3=n', Lost],
    ['1 2 3 4', '1=y 2=y 3=y', Won],
    ['1 2 3', '4=y 5=y', Pending], // votes of non-voters do not count
  ])('voters (%s) votes (%s) → %s', (voters, given, result) => {
    expect(majorityVoteResult(ids(voters), votes(given))).toBe(result);
  });
});

describe('joint consensus (dissertation §4.3): both halves must agree', () => {
  it.each([
    // incoming, outgoing, acked, committed
    ['1 2 3', '', '1=7 2=5 3=9', 7], // not joint: the incoming half alone
    ['1 2 3', '1 2 3', '1=7 2=5 3=9', 7],
    ['1 2 4', '1 2 3', '1=7 2=5 3=9 4=1', 5], // C_new (1,2,4) → 5; C_old (1,2,3) → 7
    ['1 2 4', '1 2 3', '1=9 4=9', 0], // C_new has its majority, C_old does not
    ['4 5 6', '1 2 3', '1=5 2=5 4=8 5=8', 5],
    ['1', '1 2 3', '1=9 2=3', 3],
  ])('C_new (%s) C_old (%s) acked (%s) → %d', (incoming, outgoing, acked, committed) => {
    const config = { incoming: ids(incoming), outgoing: ids(outgoing) };
    expect(jointCommittedIndex(config, acks(acked))).toBe(committed);
  });

  it.each([
    // incoming, outgoing, votes, result
    ['1 2 3', '', '1=y 2=y', Won],
    ['1 2 4', '1 2 3', '1=y 4=y', Pending], // won in C_new, pending in C_old
    ['1 2 4', '1 2 3', '1=y 2=y', Won],
    ['1 2 4', '1 2 3', '1=y 4=y 2=n 3=n', Lost], // won in C_new, lost in C_old
    ['4 5 6', '1 2 3', '1=y 2=y 4=n 5=n', Lost], // lost in C_new, won in C_old
    ['4 5 6', '1 2 3', '1=y 2=y 4=y', Pending],
    ['4 5 6', '1 2 3', '1=y 2=y 4=y 6=y', Won],
  ])('C_new (%s) C_old (%s) votes (%s) → %s', (incoming, outgoing, given, result) => {
    const config = { incoming: ids(incoming), outgoing: ids(outgoing) };
    expect(jointVoteResult(config, votes(given))).toBe(result);
  });
});
