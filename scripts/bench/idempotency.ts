/**
 * What the idempotency window costs (npm run bench:idempotency): the decision state machine
 * fed N writes with fresh UUID request ids at a given rate of log time (default 3,000,000 at
 * 5,000/s: the 10 minutes the contract asks for), then the memory per remembered id (heap and
 * array buffers before and after, after a full GC), the session table's own arrays, the apply
 * rate, and a snapshot's size, encode and decode times. Then the window passes and the ids move
 * to the horizon (hash and time only), measured again. It prints figures; it asserts nothing.
 *
 * Options: --ids N (default 3000000), --rate R writes per second of log time (default 5000).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DecisionStateMachine, decodeSnapshot, snapshotSteps } from '@parley/decision';

const { values: flags } = parseArgs({
  options: {
    ids: { type: 'string', default: '3000000' },
    rate: { type: 'string', default: '5000' },
  },
});
const IDS = Number(flags.ids);
const RATE = Number(flags.rate);
const WINDOW_MS = 10 * 60 * 1000;

const gc = (globalThis as { gc?: () => void }).gc;
function heldBytes(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const perId = (bytes: number, ids: number) => `${(bytes / ids).toFixed(1)} bytes/id`;

function main(): void {
  if (!gc) console.log('(run with node --expose-gc for exact heap figures)');
  const sm = new DecisionStateMachine({
    sessions: { windowMs: WINDOW_MS, idsMax: Math.max(IDS, 4_000_000), horizonIdsMax: IDS },
  });
  const before = heldBytes();
  const started = performance.now();
  for (let i = 0; i < IDS; i += 1) {
    // One key, so the KV state stays one entry: what grows is the session table.
    sm.apply(i + 1, {
      type: 'kv.put',
      // A fresh string per command, garbage once applied: the table keeps a hash, not it.
      requestId: randomUUID(),
      ts: Math.floor((i * 1000) / RATE),
      key: 'k',
      value: 'v',
    });
  }
  const applySeconds = (performance.now() - started) / 1000;
  const after = heldBytes();
  const live = sm.sessions.live.size;
  console.log(`${IDS.toLocaleString()} writes at ${RATE.toLocaleString()}/s of log time`);
  console.log(
    `  remembered ${live.toLocaleString()} ids; apply ${Math.round(IDS / applySeconds).toLocaleString()} commands/s`,
  );
  console.log(
    `  heap + array buffers: ${mb(before)} before, ${mb(after)} after: ${perId(after - before, live)}`,
  );
  console.log(
    `  session table arrays: ${mb(sm.sessions.bytesHeld)} (${perId(sm.sessions.bytesHeld, live)}, ring capacity ${sm.sessions.live.capacity.toLocaleString()})`,
  );

  snapshotFigures(sm, live);

  // The window passes: every id moves to the horizon.
  const lastTs = Math.floor(((IDS - 1) * 1000) / RATE);
  sm.apply(IDS + 1, { type: 'clock', ts: lastTs + WINDOW_MS });
  const horizon = heldBytes();
  const past = sm.sessions.past.size;
  console.log(
    `after the window: ${past.toLocaleString()} ids in the horizon; heap + array buffers ${mb(horizon)} (the emptied window keeps its capacity): ${perId(horizon - after, past)} more`,
  );
  snapshotFigures(sm, past);
}

/** A function of its own, so the snapshot and the decoded copy are garbage once it returns. */
function snapshotFigures(sm: DecisionStateMachine, ids: number): void {
  // Stepwise, as a replica writes it: the longest step is how long its event loop waits.
  const steps = snapshotSteps(sm);
  let longestStepMs = 0;
  let encodeMs = 0;
  let snapshot: Uint8Array | undefined;
  while (!snapshot) {
    const t = performance.now();
    const step = steps.next();
    const stepMs = performance.now() - t;
    longestStepMs = Math.max(longestStepMs, stepMs);
    encodeMs += stepMs;
    if (step.done) snapshot = step.value;
  }
  const t = performance.now();
  const decoded = decodeSnapshot(snapshot, sm.options);
  const decodeMs = performance.now() - t;
  if (!decoded.ok) throw new Error(decoded.error);
  console.log(
    `  snapshot: ${mb(snapshot.length)} (${perId(snapshot.length, ids)}), encode ${encodeMs.toFixed(0)} ms in steps of at most ${longestStepMs.toFixed(0)} ms, decode (restore) ${decodeMs.toFixed(0)} ms`,
  );
}

main();
