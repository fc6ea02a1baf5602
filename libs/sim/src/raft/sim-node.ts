import { Entry, EntryType, Message, NodeId, RaftConfigInit, ReadMode, Role } from '@parley/raft';
import {
  AddressBookPort,
  PeerAddress,
  PeerTransportPort,
  ProposeOutcome,
  ReplicaDriver,
  ReplicatedStateMachine,
} from '@parley/replica';
import { KvCommand, KvStateMachine, decodeKvCommand, encodeKvCommand } from './kv-state-machine';
import { ProcessPause } from './process-pause';
import { Rng } from './rng';
import { SimClock, Timeline } from './sim-clock';
import { SimDisk } from './sim-disk';

/** Every simulated replica's election timeout, in ticks (randomized up to twice that). */
export const SIM_ELECTION_TICKS = 10;

/** What a simulated replica reports to the simulation (for delivery and for the checks). */
export interface SimHooks {
  send(messages: readonly Message[]): void;
  applied(node: NodeId, index: number, term: number, digest: string): void;
  becameLeader(node: SimNode): void;
  /** The node crashed in its send-before-persist window (see SimDisk.powerLossArmed). */
  lostPower(node: SimNode): void;
  /** The driver stopped on an error (a real process would exit): always a bug here. */
  fatal(node: SimNode, error: Error): void;
}

export interface SimNodeOptions {
  id: NodeId;
  voters: NodeId[];
  raft: Partial<RaftConfigInit>;
  tickMs: number;
  /** This node's clock rate relative to virtual time (clock skew). */
  clockSkew: number;
  snapshotEveryEntries: number;
  compactionTailEntries: number;
  rng: Rng;
  timeline: Timeline;
  hooks: SimHooks;
  /** Fault injection for the checker's own test: on restart, lose the last N persisted entries. */
  loseEntriesOnRestart?: number;
  /**
   * For the checker's own test: every replica sends a Ready's messages before persisting it
   * (a follower acknowledges what is not on its disk), where Raft lets only a leader's appends.
   */
  unsafeEveryoneSendsFirst?: boolean;
}

/** The simulator's KV store behind the replica's state machine port. */
class KvPort implements ReplicatedStateMachine {
  readonly kv = new KvStateMachine();
  /** The command applied last, so the safety check need not decode it again. */
  last: { index: number; command: KvCommand } | undefined;
  apply(index: number, data: Uint8Array): unknown {
    const command = decodeKvCommand(data);
    this.last = { index, command };
    return this.kv.apply(command);
  }
  snapshot(): Uint8Array {
    return this.kv.snapshot();
  }
  restore(data: Uint8Array): void {
    this.kv.restore(data);
  }
}

const NO_ADDRESS: PeerAddress = { host: 'sim', port: 1 };
const SILENT = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * One simulated replica process: the production ReplicaDriver over a simulated disk, network
 * and clock. `crash()` kills the process (its disk loses or tears what was not synced);
 * `restart()` starts a new one that recovers from the disk as command-log does after kill -9.
 */
export class SimNode {
  readonly id: NodeId;
  readonly disk: SimDisk;
  private driver: ReplicaDriver | undefined;
  private clock: SimClock | undefined;
  private sm = new KvPort();
  private deliver: ((m: Message) => void) | undefined;
  /** The running process's pause (SIGSTOP); a new process starts with a new one. */
  private process = new ProcessPause();
  private readonly raftRng: Rng;
  private readonly clockRng: Rng;
  restarts = 0;
  powerLosses = 0;

  constructor(private readonly options: SimNodeOptions) {
    this.id = options.id;
    this.raftRng = options.rng.fork();
    this.clockRng = options.rng.fork();
    this.disk = new SimDisk(
      options.rng.fork(),
      { loseEntriesOnRestart: options.loseEntriesOnRestart },
      () => {
        this.powerLosses += 1;
        this.crash();
        options.hooks.lostPower(this);
      },
    );
  }

  get crashed(): boolean {
    return this.clock === undefined;
  }

  get applied(): number {
    return this.driver?.applied ?? 0;
  }

  /** The running replica (undefined while crashed). */
  get replica(): ReplicaDriver | undefined {
    return this.driver;
  }

  stateDigest(): string {
    return this.sm.kv.digest();
  }

  /** Starts the process; `warm` skips the wait of one election timeout before voting. */
  async start(warm = false): Promise<void> {
    const { wal, snapshotStore, recovered } = this.disk.open();
    const clock = new SimClock(
      this.options.timeline,
      this.options.clockSkew,
      this.clockRng.next(),
      this.process,
    );
    const sm = new KvPort();
    const hooks = this.options.hooks;
    const transport: PeerTransportPort = {
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      send: (messages) => {
        if (this.clock === clock) hooks.send(messages);
      },
      setPeerAddress: () => undefined,
    };
    const driver = new ReplicaDriver({
      id: this.id,
      initialPeers: new Map(this.options.voters.map((id) => [id, NO_ADDRESS])),
      addressBook: memoryAddressBook(),
      wal,
      recovered,
      snapshotStore,
      stateMachine: sm,
      transport: (onMessage) => {
        this.deliver = onMessage;
        return transport;
      },
      clock,
      random: { nextInt: (max) => this.raftRng.nextInt(max) },
      tickMs: this.options.tickMs,
      electionTicks: SIM_ELECTION_TICKS,
      heartbeatTicks: 2,
      raft: this.options.raft,
      snapshotEveryEntries: this.options.snapshotEveryEntries,
      compactionTailEntries: this.options.compactionTailEntries,
      inboxBatchMax: 10_000,
      pendingProposalsMax: 10_000,
      logger: SILENT,
      onApplied: (entry) => {
        if (this.clock === clock)
          hooks.applied(this.id, entry.index, entry.term, digestOf(entry, sm));
      },
      onBecameLeader: () => {
        if (this.clock === clock) hooks.becameLeader(this);
      },
      onFatal: (error) => {
        if (this.clock === clock) hooks.fatal(this, error);
      },
      sendFirstRule: this.options.unsafeEveryoneSendsFirst ? () => true : undefined,
    });
    this.sm = sm;
    this.clock = clock;
    await driver.start();
    // Requests reach the process once it has recovered (a real one listens only then).
    if (this.clock !== clock) return;
    this.driver = driver;
    if (warm) driver.raw.raft.ticksSinceStart = 1_000;
  }

  /** kill -9 with a power loss: the process is gone, its disk keeps what was synced. */
  crash(): void {
    this.clock?.stop();
    this.clock = undefined;
    this.driver = undefined;
    this.deliver = undefined;
    // A paused process can be killed too: what it held dies with it.
    this.process = new ProcessPause();
    this.disk.powerLoss();
  }

  get paused(): boolean {
    return this.process.paused;
  }

  /**
   * Pauses the running process (SIGSTOP, a long GC pause): nothing of it runs until `resume()`;
   * its disk writes have all completed (they finish within the event that started them).
   */
  pause(): void {
    if (!this.crashed) this.process.pause();
  }

  /**
   * Ends the pause and returns what it held, one callback per source (each repeating timer's
   * one late firing, each peer's messages in order, each client request, deferred work), for
   * the simulation to run in an order of its choosing.
   */
  resume(): (() => void)[] {
    return this.process.resume();
  }

  restart(): void {
    this.restarts += 1;
    void this.start();
  }

  step(m: Message): void {
    this.process.run(() => this.deliver?.(m), `peer ${m.from}`);
  }

  /** Proposes a command; `done` hears the outcome unless the process dies first. */
  propose(command: KvCommand, done: (outcome: ProposeOutcome) => void): void {
    this.process.run(() => this.proposeNow(command, done));
  }

  private proposeNow(command: KvCommand, done: (outcome: ProposeOutcome) => void): void {
    const driver = this.driver;
    if (!driver) return done({ status: 'refused', refusal: { reason: 'no-leader' } });
    void driver.propose(encodeKvCommand(command)).then((outcome) => {
      if (this.driver === driver) done(outcome);
    });
  }

  /** A linearizable read of `key`; `done` hears the value (or a refusal) unless the process dies. */
  read(
    key: string,
    mode: ReadMode,
    done: (outcome: { value: string | null; index: number } | 'refused') => void,
  ): void {
    this.process.run(() => this.readNow(key, mode, done));
  }

  private readNow(
    key: string,
    mode: ReadMode,
    done: (outcome: { value: string | null; index: number } | 'refused') => void,
  ): void {
    const driver = this.driver;
    if (!driver) return done('refused');
    void driver.readIndex(mode).then((outcome) => {
      if (this.driver !== driver) return;
      // Read at once, in the same turn the read point is applied, as the RPC handler does.
      if (outcome.status === 'ready') done({ value: this.sm.kv.get(key), index: outcome.index });
      else done('refused');
    });
  }

  transferLeadership(to: NodeId): void {
    this.process.run(() => void this.driver?.transferLeadership(to));
  }

  leaderHint(): NodeId | undefined {
    const lead = this.driver?.raw.raft.lead;
    return lead ? lead : undefined;
  }

  isLeader(): boolean {
    return this.driver?.role === Role.Leader;
  }
}

/** Addresses mean nothing on the simulated network; the driver still keeps them. */
function memoryAddressBook(): AddressBookPort {
  const addresses = new Map<string, PeerAddress>();
  return {
    get: (id) => addresses.get(id),
    set: (id, address) => void addresses.set(id, address),
    entries: () => addresses,
  };
}

/** What the state machine safety check compares across replicas for one index. */
function digestOf(entry: Entry, sm: KvPort): string {
  if (entry.type === EntryType.ConfChange) return `conf:${entry.data.length}`;
  if (entry.data.length === 0) return 'noop';
  const command = sm.last?.index === entry.index ? sm.last.command : decodeKvCommand(entry.data);
  return `${command.clientId}:${command.opId}`;
}
