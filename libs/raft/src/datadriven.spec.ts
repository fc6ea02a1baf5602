import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeMismatches } from './__tests__/datadriven';
import { runGoldenScript } from './__tests__/golden';

/**
 * The golden interaction scripts of libs/raft/testdata (format: __tests__/datadriven.ts,
 * commands: __tests__/interaction-env.ts). Each file is one test. With PARLEY_REWRITE=1 the
 * actual outputs are written back into the files instead (review the diff before committing).
 */
const TESTDATA = join(__dirname, '..', 'testdata');
const rewrite = process.env.PARLEY_REWRITE === '1';

const files = readdirSync(TESTDATA)
  .filter((name) => name.endsWith('.txt'))
  .sort();

describe('golden interaction scripts (libs/raft/testdata)', () => {
  it('finds the scripts', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  it.each(files)('%s', (name) => {
    const path = join(TESTDATA, name);
    const { rewritten, mismatches } = runGoldenScript(name, readFileSync(path, 'utf8'));
    if (rewrite) {
      writeFileSync(path, rewritten);
      return;
    }
    if (mismatches.length > 0) throw new Error(describeMismatches(name, mismatches));
  });
});
