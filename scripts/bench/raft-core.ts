/**
 * In-process Raft core benchmark (npm run bench:raft): 3 replicas on a zero-latency network,
 * 100-byte commands, committed proposals per second with batching on (many proposals per
 * Ready, so one append carries many entries) and off (one proposal, then wait for its commit).
 * This is the ceiling the real cluster cannot exceed. It prints figures; it asserts nothing.
 */
import { EntryType, MemoryStorage, Message, RawNode, decodeConfChange } from '../../libs/raft/src';

interface Replica {
  node: RawNode;
  storage: MemoryStorage;
  applied: number;
}

function cluster(): { replicas: Map<string, Replica>; queue: Message[] } {
  const ids = ['n1', 'n2', 'n3'];
  const replicas = new Map<string, Replica>();
  let seed = 7;
  for (const id of ids) {
    const storage = new MemoryStorage();
    const node = new RawNode({
      id,
      storage,
      electionTick: 10,
      heartbeatTick: 1,
      maxInflightMsgs: 4096,
      maxSizePerMsgBytes: 4 * 1024 * 1024,
      random: { nextInt: (max) => (seed = (seed * 1103515245 + 12345) % 2147483648) % max },
    });
    node.bootstrap(ids);
    node.raft.ticksSinceStart = 1_000;
    replicas.set(id, { node, storage, applied: 0 });
  }
  return { replicas, queue: [] };
}

/** Runs Ready cycles and delivers messages until nothing moves (zero-latency network). */
function settle(replicas: Map<string, Replica>, queue: Message[]): void {
  for (let round = 0; round < 10_000; round += 1) {
    let moved = false;
    for (const replica of replicas.values()) {
      while (replica.node.hasReady()) {
        moved = true;
        const rd = replica.node.ready();
        if (rd.hardState) replica.storage.setHardState(rd.hardState);
        replica.storage.append(rd.entries);
        for (const m of rd.messages) queue.push(m);
        for (const e of rd.committedEntries) {
          if (e.type === EntryType.ConfChange) {
            const cc = decodeConfChange(e.data);
            if (!('error' in cc)) replica.node.applyConfChange(cc);
          }
          replica.applied = e.index;
        }
        replica.node.advance(rd);
      }
    }
    const batch = queue.splice(0);
    for (const m of batch) replicas.get(m.to)!.node.step(m);
    if (!moved && batch.length === 0) return;
  }
}

export interface RaftCoreFigure {
  label: string;
  commitsPerSecond: number;
  commitRoundP50Ms: number;
  commitRoundP99Ms: number;
}

export function runRaftCore(label: string, total: number, batch: number): RaftCoreFigure {
  const { replicas, queue } = cluster();
  const leader = replicas.get('n1')!;
  settle(replicas, queue); // apply the bootstrap membership first
  leader.node.campaign();
  settle(replicas, queue);
  const payload = new Uint8Array(100).fill(7);
  const latencies: number[] = [];
  const heapBefore = process.memoryUsage().heapUsed;
  const firstApplied = leader.applied;
  if (leader.node.status().role !== 'leader') throw new Error(`${label}: n1 did not become leader`);
  const started = performance.now();
  for (let done = 0; done < total; done += batch) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i += 1) leader.node.propose(payload);
    settle(replicas, queue);
    latencies.push(performance.now() - t0);
    // Keep memory flat: compact what every replica has applied.
    if (done % 50_000 < batch) {
      for (const r of replicas.values()) {
        const upTo = Math.min(r.applied, r.node.status().commit) - 1;
        if (upTo > r.storage.firstIndex()) r.storage.compact(upTo);
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const committed = leader.applied - firstApplied;
  if (committed < total)
    throw new Error(`${label}: only ${committed} of ${total} proposals committed`);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  const figure = {
    label,
    commitsPerSecond: Math.round(total / seconds),
    commitRoundP50Ms: pct(50),
    commitRoundP99Ms: pct(99),
  };
  console.log(
    `${label.padEnd(28)} ${Math.round(total / seconds)
      .toLocaleString('en-US')
      .padStart(10)} commits/s   ` +
      `commit round p50 ${pct(50).toFixed(3)} ms  p99 ${pct(99).toFixed(3)} ms   ` +
      `heap +${((process.memoryUsage().heapUsed - heapBefore) / 1048576).toFixed(1)} MiB`,
  );
  return figure;
}

/** The figures the full benchmark (npm run bench) reports. */
export function raftCoreFigures(): RaftCoreFigure[] {
  console.log(`Raft core, 3 replicas in-process, 100-byte commands, node ${process.version}`);
  runRaftCore('warm-up', 20_000, 256);
  return [
    runRaftCore('batching on (256/Ready)', 300_000, 256),
    runRaftCore('batching on (64/Ready)', 200_000, 64),
    runRaftCore('batching off (1/commit)', 20_000, 1),
  ];
}

if (require.main === module) raftCoreFigures();
