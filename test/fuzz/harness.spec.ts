import fc from 'fast-check';
import {
  DEFAULT_FUZZ_RUNS,
  FuzzTarget,
  INPUT_TIME_BOUND_MS,
  fuzzRuns,
  runFuzzTarget,
  seedFor,
} from './harness';
import { applyMutation, applyMutations, toJsonText, DeepNesting, Repeated } from './mutators';

/** The harness must be able to fail: each bound is shown to catch what it is there for. */
describe('fuzz harness', () => {
  const target = <T>(
    name: string,
    arbitrary: fc.Arbitrary<T>,
    execute: (input: T) => void,
  ): FuzzTarget<T> => ({
    name,
    arbitrary,
    execute,
  });

  it('runs every input and counts executions when the target holds', async () => {
    let calls = 0;
    const report = await runFuzzTarget(
      target('holds', fc.nat(), () => {
        calls += 1;
      }),
      { numRuns: 300 },
    );
    expect(report).toMatchObject({ target: 'holds', executions: 300, failures: 0 });
    expect(calls).toBe(300);
    expect(report.failure).toBeUndefined();
    expect(report.execsPerSecond).toBeGreaterThan(0);
  });

  it('reports any exception that escapes a decoder, with the counterexample and seed', async () => {
    const report = await runFuzzTarget(
      target('throws', fc.nat({ max: 1000 }), (n) => {
        if (n > 500) (undefined as unknown as { x: number }).x += n; // a TypeError
      }),
      { numRuns: 500, seed: 42 },
    );
    expect(report.failures).toBeGreaterThan(0);
    expect(report.failure).toContain('Counterexample: [501]');
    expect(report.failure).toContain('seed: 42');
    expect(report.failure).toContain('TypeError');
  });

  it('fails an input that takes longer than the per-input bound', async () => {
    const report = await runFuzzTarget(
      target('hangs', fc.nat({ max: 100 }), (n) => {
        if (n !== 77) return;
        // A super-linear loop in miniature: it spins until it used more CPU than the bound.
        const started = process.cpuUsage();
        const cpuMs = () => {
          const used = process.cpuUsage(started);
          return (used.user + used.system) / 1000;
        };
        while (cpuMs() < INPUT_TIME_BOUND_MS + 50);
      }),
      { numRuns: 400, seed: 7 },
    );
    expect(report.failure).toContain('Counterexample: [77]');
    expect(report.failure).toMatch(
      /one input took \d+ ms of CPU besides \d+ ms of garbage collection \(\d+ ms wall; bound 1000 ms\)/,
    );
  });

  it('fails an input that allocates more than the memory bound, even when it is garbage after', async () => {
    const report = await runFuzzTarget(
      target('allocates', fc.nat({ max: 100 }), (n) => {
        // A length field believed: 300 MiB for one input (calloc'ed, so cheap to run here).
        if (n === 13) expect(new Uint8Array(300 * 1024 * 1024).length).toBeGreaterThan(0);
      }),
      { numRuns: 400, seed: 7 },
    );
    expect(report.failure).toContain('Counterexample: [13]');
    expect(report.failure).toMatch(/one input grew heap and buffers by \d+ MiB/);
  });

  it('fails a run that keeps what it allocated (a leak across inputs)', async () => {
    const kept: Uint8Array[] = [];
    const report = await runFuzzTarget(
      target('leaks', fc.nat(), () => {
        kept.push(new Uint8Array(32 * 1024 * 1024));
      }),
      { numRuns: 20 },
    );
    kept.length = 0;
    expect(report.failure).toMatch(/the run retains \d+ MiB more than at its start/);
  });

  it('reads PARLEY_FUZZ_RUNS and refuses a value that is not a positive integer', () => {
    expect(fuzzRuns({})).toBe(DEFAULT_FUZZ_RUNS);
    expect(fuzzRuns({ PARLEY_FUZZ_RUNS: '' })).toBe(DEFAULT_FUZZ_RUNS);
    expect(fuzzRuns({ PARLEY_FUZZ_RUNS: '200000' })).toBe(200_000);
    for (const bad of ['0', '-5', '1.5', 'many'])
      expect(() => fuzzRuns({ PARLEY_FUZZ_RUNS: bad })).toThrow(/positive integer/);
  });

  it('derives a fixed seed from the target name, so a unit-tier failure replays', () => {
    expect(seedFor('wal-replay')).toBe(seedFor('wal-replay'));
    expect(seedFor('wal-replay')).not.toBe(seedFor('wal-record'));
  });
});

describe('fuzz mutators', () => {
  const bytes = Uint8Array.of(1, 2, 3, 4, 5, 6);

  it('never edits its input, even a Buffer (whose slice() is a view)', () => {
    const input = Buffer.from(bytes);
    applyMutations(input, [
      { kind: 'flip', at: 0, bit: 0 },
      { kind: 'set', at: 1, value: 9 },
      { kind: 'u32', at: 2, value: 0xffffffff },
    ]);
    expect([...input]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('applies each kind of edit where it says', () => {
    expect([...applyMutation(bytes, { kind: 'flip', at: 1, bit: 7 })]).toEqual([
      1, 130, 3, 4, 5, 6,
    ]);
    expect([...applyMutation(bytes, { kind: 'truncate', at: 2 })]).toEqual([1, 2]);
    expect([...applyMutation(bytes, { kind: 'insert', at: 1, bytes: Uint8Array.of(9) })]).toEqual([
      1, 9, 2, 3, 4, 5, 6,
    ]);
    expect([...applyMutation(bytes, { kind: 'delete', at: 1, count: 2 })]).toEqual([1, 4, 5, 6]);
    expect([...applyMutation(bytes, { kind: 'duplicate', at: 1, count: 2 })]).toEqual([
      1, 2, 3, 2, 3, 4, 5, 6,
    ]);
    // Big-endian, like every length field here.
    expect([...applyMutation(bytes, { kind: 'u32', at: 1, value: 0x01020304 })]).toEqual([
      1, 1, 2, 3, 4, 6,
    ]);
    expect([...applyMutation(bytes, { kind: 'u64', at: 0, high: 0xffffffff, low: 0 })]).toEqual([
      255, 255, 255, 255, 0, 0,
    ]);
  });

  it('prints deep nesting and long arrays that JSON.stringify could not', () => {
    const text = toJsonText({ a: new DeepNesting(20_000), b: new Repeated(3, 'x') });
    expect(text.startsWith('{"a":[[[')).toBe(true);
    expect(text.endsWith(']]],"b":["x","x","x"]}')).toBe(true);
    expect(() => JSON.parse(text)).not.toThrow();
  });
});
