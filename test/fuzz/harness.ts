import fc from 'fast-check';
import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The shared fuzz harness (issue #9): every decoder of the project is a target that must answer
 * a value or its own clean error for any input, never crash, hang or allocate without bound.
 * A target is run as a fast-check property; this module adds what a plain property lacks:
 *
 * - a time bound on each call (a call slower than the bound is a hang or a super-linear
 *   blow-up: decoders see inputs of at most a few hundred KiB, so this is a correctness bound
 *   on one call, not a benchmark). It bounds the CPU time the process spent in the call, not
 *   wall time, which a busy machine stretches at will, and garbage-collection pauses are
 *   subtracted: their length follows the whole process's heap (jest's, fast-check's);
 * - a memory bound: heap and ArrayBuffer growth during one call, and what the run retains after
 *   a forced collection, stay under HEAP_GROWTH_BOUND_BYTES (a length field claiming gigabytes
 *   must not allocate them);
 * - execution and failure counts per target, for `npm run fuzz`'s table.
 *
 * The unit tier runs PARLEY_FUZZ_RUNS inputs per target (default 2,000) with a seed derived from
 * the target name, so `npm test` is reproducible; `npm run fuzz` draws fresh seeds.
 */
export const DEFAULT_FUZZ_RUNS = 2_000;
/**
 * 1 s. A legitimate near-largest input (a 12,000-dot causal context) takes ~90 ms of CPU cold on
 * a quiet machine, yet one CI run measured 384 ms for it while the other jest worker kept the
 * second core busy (the process's CPU time includes V8's compiler and GC threads); at 250 ms
 * that made a flaky test (crdt-codec, seed -1944194953, input 1727). The super-linear
 * blow-ups this bound exists for take seconds at that size (2.5–6.4 s for the n² compactions
 * the crdt regressions pin), so 1 s still catches them.
 */
export const INPUT_TIME_BOUND_MS = 1_000;
/** Targets that touch the file system spend kernel CPU in every syscall: they get more room. */
export const IO_INPUT_TIME_BOUND_MS = 2_000;
export const HEAP_GROWTH_BOUND_BYTES = 256 * 1024 * 1024;

export interface FuzzTarget<T> {
  /** Short, unique name: the row of the fuzz table and the name of the unit test. */
  readonly name: string;
  /** What one input is: random bytes, mutations of valid encodings, structured values. */
  readonly arbitrary: fc.Arbitrary<T>;
  /** True when `execute` returns a promise (file I/O); such targets get IO_INPUT_TIME_BOUND_MS. */
  readonly io?: boolean;
  /**
   * Feeds one input to the decoder and checks its answer: a valid value or the module's own
   * clean error. Throws (FuzzViolation, node:assert, or whatever escaped the decoder) on a bug.
   */
  execute(input: T): void | Promise<void>;
}

/** A decoder answered something it must not: the message says what and why. */
export class FuzzViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FuzzViolation';
  }
}

export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new FuzzViolation(message);
}

export interface FuzzRunOptions {
  numRuns: number;
  seed?: number;
  /** Stop drawing new inputs after this long (the fuzz script's --seconds). */
  timeLimitMs?: number;
}

export interface FuzzReport {
  target: string;
  /** Calls of the decoder, including the ones fast-check made while shrinking a failure. */
  executions: number;
  /** Calls that broke the contract (the first one, then each smaller one found by shrinking). */
  failures: number;
  wallMs: number;
  execsPerSecond: number;
  seed: number;
  /** True when the time limit stopped the run before numRuns inputs. */
  interrupted: boolean;
  /** fast-check's report (counterexample, seed, path) when the target failed. */
  failure?: string;
}

/** Runs per target: PARLEY_FUZZ_RUNS, or DEFAULT_FUZZ_RUNS when unset. */
export function fuzzRuns(env: Record<string, string | undefined> = process.env): number {
  const raw = env.PARLEY_FUZZ_RUNS;
  if (raw === undefined || raw === '') return DEFAULT_FUZZ_RUNS;
  const runs = Number(raw);
  if (!Number.isSafeInteger(runs) || runs < 1)
    throw new Error(`PARLEY_FUZZ_RUNS must be a positive integer, got ${JSON.stringify(raw)}`);
  return runs;
}

/** A fixed seed per target name (FNV-1a), so a unit-tier failure replays on every machine. */
export function seedFor(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i += 1) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash | 0;
}

/** CPU milliseconds (user and system) the process spent running `work`. */
export function cpuTimeMs(work: () => void): number {
  const started = process.cpuUsage();
  work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

/** Heap plus memory outside it (ArrayBuffers, Buffers): what a huge length field would grow. */
function bytesInUse(): number {
  const stats = getHeapStatistics();
  return stats.used_heap_size + stats.external_memory;
}

let forcedCollection: (() => void) | undefined;
/** A full garbage collection, to tell retained memory from garbage not yet collected. */
function collectGarbage(): void {
  if (!forcedCollection) {
    setFlagsFromString('--expose-gc');
    forcedCollection = runInNewContext('gc') as () => void;
  }
  forcedCollection();
}

interface CallStart {
  startedAt: number;
  cpu: NodeJS.CpuUsage;
  bytes: number;
}

/** Checks the time and memory bounds around each call and counts calls and failures. */
class BoundedCalls {
  executions = 0;
  failures = 0;
  private baseline = bytesInUse();
  /** Reports the garbage-collection pauses of one call (about 20 µs per call). */
  private readonly collections = new GCProfiler();
  private profiling = false;

  constructor(
    private readonly targetName: string,
    private readonly timeBoundMs: number,
  ) {}

  before(): CallStart {
    this.executions += 1;
    this.collections.start();
    this.profiling = true;
    return { startedAt: performance.now(), cpu: process.cpuUsage(), bytes: bytesInUse() };
  }

  /** Milliseconds the main thread spent in garbage collection since before(). */
  private collectionMs(): number {
    if (!this.profiling) return 0;
    this.profiling = false;
    const profile = this.collections.stop();
    return (profile?.statistics ?? []).reduce((sum, gc) => sum + gc.cost, 0) / 1000;
  }

  after(start: CallStart): void {
    const wallMs = performance.now() - start.startedAt;
    const cpu = process.cpuUsage(start.cpu);
    const collectionMs = this.collectionMs();
    const tookMs = (cpu.user + cpu.system) / 1000 - collectionMs;
    if (tookMs > this.timeBoundMs)
      throw new FuzzViolation(
        `${this.targetName}: one input took ${tookMs.toFixed(0)} ms of CPU besides ${collectionMs.toFixed(0)} ms of garbage collection (${wallMs.toFixed(0)} ms wall; bound ${this.timeBoundMs} ms): a hang or a super-linear blow-up`,
      );
    const now = bytesInUse();
    if (now - start.bytes > HEAP_GROWTH_BOUND_BYTES)
      throw new FuzzViolation(
        `${this.targetName}: one input grew heap and buffers by ${mib(now - start.bytes)} MiB (bound ${mib(HEAP_GROWTH_BOUND_BYTES)} MiB)`,
      );
    if (now - this.baseline > HEAP_GROWTH_BOUND_BYTES) {
      // Garbage may pile up between collections; only what survives a full one counts.
      collectGarbage();
      const retained = bytesInUse() - this.baseline;
      if (retained > HEAP_GROWTH_BOUND_BYTES)
        throw new FuzzViolation(
          `${this.targetName}: the run retains ${mib(retained)} MiB more than at its start (bound ${mib(HEAP_GROWTH_BOUND_BYTES)} MiB)`,
        );
    }
  }

  failed(error: unknown): never {
    this.collectionMs(); // stop the profiler if the call threw before after()
    this.failures += 1;
    throw error;
  }
}

const mib = (bytes: number) => (bytes / (1024 * 1024)).toFixed(0);

/** Runs one target for `numRuns` inputs (or until the time limit) and reports what happened. */
export async function runFuzzTarget<T>(
  target: FuzzTarget<T>,
  options: FuzzRunOptions,
): Promise<FuzzReport> {
  const seed = options.seed ?? seedFor(target.name);
  const calls = new BoundedCalls(
    target.name,
    target.io ? IO_INPUT_TIME_BOUND_MS : INPUT_TIME_BOUND_MS,
  );
  const parameters: fc.Parameters<[T]> = {
    numRuns: options.numRuns,
    seed,
    ...(options.timeLimitMs !== undefined
      ? { interruptAfterTimeLimit: options.timeLimitMs, markInterruptAsFailure: false }
      : {}),
  };
  const startedAt = performance.now();
  let details: fc.RunDetails<[T]>;
  if (target.io) {
    details = await fc.check(
      fc.asyncProperty(target.arbitrary, async (input) => {
        const start = calls.before();
        try {
          await target.execute(input);
          calls.after(start);
        } catch (error) {
          calls.failed(error);
        }
      }),
      parameters,
    );
  } else {
    details = fc.check(
      fc.property(target.arbitrary, (input) => {
        const start = calls.before();
        try {
          const answer = target.execute(input);
          ensure(answer === undefined, `${target.name}: a synchronous target returned a value`);
          calls.after(start);
        } catch (error) {
          calls.failed(error);
        }
      }),
      parameters,
    );
  }
  const wallMs = performance.now() - startedAt;
  return {
    target: target.name,
    executions: calls.executions,
    failures: calls.failures,
    wallMs,
    execsPerSecond: calls.executions / Math.max(wallMs / 1000, 1e-9),
    seed,
    interrupted: details.interrupted,
    failure: details.failed ? failureMessage(details) : undefined,
  };
}

/** fast-check's report (counterexample, seed, replay path) and the error the input caused. */
function failureMessage<T>(details: fc.RunDetails<[T]>): string {
  const error = details.errorInstance;
  const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `${fc.defaultReportMessage(details) ?? 'property failed'}\nError: ${cause}`;
}

/**
 * Declares the unit-tier test of a target: PARLEY_FUZZ_RUNS inputs, fixed seed (or
 * PARLEY_FUZZ_SEED to explore), failing with fast-check's counterexample and replay seed.
 */
export function fuzzTest<T>(target: FuzzTarget<T>): void {
  const numRuns = fuzzRuns();
  const seedText = process.env.PARLEY_FUZZ_SEED;
  const seed = seedText ? Number(seedText) : undefined;
  // Generous jest timeout (the slowest targets run a few hundred inputs a second on a busy
  // machine): the per-input bound is what catches hangs, not this.
  const timeoutMs = 60_000 + numRuns * (target.io ? 20 : 10);
  it(
    `${target.name}: ${numRuns} inputs answer a value or a clean error, within time and memory bounds`,
    async () => {
      const report = await runFuzzTarget(target, { numRuns, seed });
      if (report.failure) throw new FuzzViolation(report.failure);
      if (report.executions < numRuns)
        throw new FuzzViolation(`${target.name}: ran ${report.executions} of ${numRuns} inputs`);
    },
    timeoutMs,
  );
}
