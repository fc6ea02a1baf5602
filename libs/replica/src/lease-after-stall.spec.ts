import { Message, Role } from '@parley/raft';
import { Clock } from './clock.port';
import { ReplicaDriver } from './replica-driver';
import { WalPort } from './wal.port';

const TICK_MS = 10;

/**
 * A clock the test moves by hand, as an event loop would: `tick()` is one interval callback,
 * and `stall(ms)` is time passing with none (the process stopped), after which Node fires one
 * late callback for all the periods it missed.
 */
class HandClock implements Clock {
  private nowMs = 0;
  private ticker: (() => void) | undefined;
  now(): number {
    return this.nowMs;
  }
  every(_ms: number, run: () => void): () => void {
    this.ticker = run;
    return () => (this.ticker = undefined);
  }
  after(): () => void {
    return () => undefined;
  }
  defer(run: () => void): void {
    setImmediate(run);
  }
  tick(): void {
    this.nowMs += TICK_MS;
    this.ticker?.();
  }
  stall(ms: number): void {
    this.nowMs += ms;
  }
}

const IDS = ['a', 'b', 'c'];

/** Three replicas on an in-process network (each message a later turn); `a` campaigns first. */
function cluster(): { replicas: Map<string, ReplicaDriver>; clocks: Map<string, HandClock> } {
  const inboxes = new Map<string, (m: Message) => void>();
  const replicas = new Map<string, ReplicaDriver>();
  const clocks = new Map<string, HandClock>();
  for (const id of IDS) {
    const clock = new HandClock();
    clocks.set(id, clock);
    replicas.set(
      id,
      replica(id, clock, (onMessage) => {
        inboxes.set(id, onMessage);
        return (messages) => {
          for (const m of messages) setImmediate(() => inboxes.get(m.to)?.(m));
        };
      }),
    );
  }
  return { replicas, clocks };
}

function replica(
  id: string,
  clock: Clock,
  network: (onMessage: (m: Message) => void) => (messages: readonly Message[]) => void,
): ReplicaDriver {
  const wal: WalPort = {
    save: () => Promise.resolve(),
    saveSnapshotMarker: () => Promise.resolve(),
    compact: () => undefined,
    close: () => Promise.resolve(),
    syncs: 0,
  };
  const addresses = new Map();
  return new ReplicaDriver({
    id,
    initialPeers: new Map(IDS.map((peer) => [peer, { host: 'localhost', port: 1 }])),
    addressBook: {
      get: (id) => addresses.get(id),
      set: (id, address) => void addresses.set(id, address),
      entries: () => addresses,
    },
    wal,
    recovered: { hardState: { term: 0, vote: '', commit: 0 }, entries: [], snapshot: undefined },
    snapshotStore: { save: () => Promise.resolve(), loadLatest: () => Promise.resolve(undefined) },
    stateMachine: { apply: () => undefined, snapshot: () => new Uint8Array(), restore: () => {} },
    transport: (onMessage) => ({
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      send: network(onMessage),
      setPeerAddress: () => undefined,
    }),
    clock,
    random: { nextInt: (max) => (id === 'a' ? 0 : max - 1) },
    tickMs: TICK_MS,
    electionTicks: 10,
    heartbeatTicks: 2,
    raft: { leaseDriftTicks: 2 },
    snapshotEveryEntries: 1_000,
    compactionTailEntries: 10,
    inboxBatchMax: 100,
    pendingProposalsMax: 100,
    logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

/** A few turns, for the messages of a round to go there and back. */
async function turns(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('ReplicaDriver lease reads after the event loop stalled', () => {
  it('sends a lease read through a quorum round when real time, not the tick count, ran past the lease', async () => {
    const { replicas, clocks } = cluster();
    for (const r of replicas.values()) await r.start();
    const leader = replicas.get('a')!;
    const everyoneTicks = async (times: number) => {
      for (let i = 0; i < times; i += 1) {
        for (const clock of clocks.values()) clock.tick();
        await turns();
      }
    };
    for (let i = 0; i < 100 && leader.role !== Role.Leader; i += 1) await everyoneTicks(1);
    expect(leader.role).toBe(Role.Leader);
    await everyoneTicks(4);

    // Ticks on time: the lease holds in ticks and in real time.
    expect(await leader.readIndex('lease')).toMatchObject({ status: 'ready' });
    expect(leader.leaseReadsDowngraded).toBe(0);

    // The leader stopped for 20 tick periods, then got one late tick: by its tick count the
    // lease the followers granted before the stall is still fresh.
    const leaderClock = clocks.get('a')!;
    leaderClock.stall(20 * TICK_MS);
    leaderClock.tick();
    expect(await leader.readIndex('lease')).toMatchObject({ status: 'ready' });
    expect(leader.leaseReadsDowngraded).toBe(1);

    // Once a quorum has echoed a heartbeat sent after the stall, the lease is trusted again.
    await everyoneTicks(4);
    expect(await leader.readIndex('lease')).toMatchObject({ status: 'ready' });
    expect(leader.leaseReadsDowngraded).toBe(1);
    for (const r of replicas.values()) await r.stop();
  });
});
