import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * DESIGN.md §1: the cores are pure. Time enters as tick(), randomness is injected, and no I/O
 * module is imported. ESLint enforces the same; this test keeps it true even if lint rules
 * change.
 */
const cores = ['raft', 'gossip', 'crdt', 'decision', 'replica'];

const forbidden: [string, RegExp][] = [
  ['node:net / net', /from ['"](node:)?net['"]/],
  ['node:dgram / dgram', /from ['"](node:)?dgram['"]/],
  ['node:fs / fs', /from ['"](node:)?fs(\/promises)?['"]/],
  ['node:timers / timers', /from ['"](node:)?timers(\/promises)?['"]/],
  ['Date', /\bDate\b/],
  ['Math.random', /Math\.random/],
  ['setTimeout / setInterval', /\bset(Timeout|Interval|Immediate)\(/],
  ['process', /\bprocess\./],
  ['@nestjs', /from ['"]@nestjs\//],
];

describe.each(cores)('the %s core is pure', (core) => {
  const sourceDir = join(__dirname, '..', '..', 'libs', core, 'src');
  const sources = readdirSync(sourceDir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'))
    .map((name) => ({ name, text: readFileSync(join(sourceDir, name), 'utf8') }));

  it('has source files to check', () => {
    expect(sources.length).toBeGreaterThan(3);
  });

  it.each(forbidden)('uses no %s', (_what, pattern) => {
    const offenders = sources.filter((s) => pattern.test(s.text)).map((s) => s.name);
    expect(offenders).toEqual([]);
  });
});
