import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGoldenScript } from './__tests__/golden';
import { RaftLog } from './log';

/**
 * The golden scripts have teeth: with the commit rule of Raft §5.4.2 broken (a leader commits
 * an entry of an earlier term by counting its replicas), the Figure 8 script fails. The broken
 * rule is patched in for this test only; production code is untouched.
 */
const FIGURE_8 = 'figure-8-leader-commits-only-entries-of-its-term.txt';

function countingReplicas(this: RaftLog, index: number): boolean {
  if (index <= this.committed) return false;
  this.commitTo(index);
  return true;
}

describe('the golden scripts catch a broken commit rule', () => {
  afterEach(() => jest.restoreAllMocks());

  it('passes with the real rule', () => {
    const text = readFileSync(join(__dirname, '..', 'testdata', FIGURE_8), 'utf8');
    expect(runGoldenScript(FIGURE_8, text).mismatches).toEqual([]);
  });

  it('fails when a leader commits an entry of an earlier term by counting replicas', () => {
    jest.spyOn(RaftLog.prototype, 'maybeCommit').mockImplementation(countingReplicas);
    const text = readFileSync(join(__dirname, '..', 'testdata', FIGURE_8), 'utf8');
    const { mismatches } = runGoldenScript(FIGURE_8, text);
    const actual = mismatches.map((m) => m.actual).join('\n');
    expect(mismatches.length).toBeGreaterThan(0);
    // 1 commits and applies "a" (2/7), which the term-5 leader later replaces with 3/7.
    expect(actual).toContain('CommittedEntries:\n  2/7 EntryNormal "a"');
    expect(actual).toMatch(/SAFETY VIOLATION|panic: invariant violated/);
  });
});
