import {
  EntryType,
  MemoryStorage,
  Message,
  NodeId,
  RaftConfigInit,
  RawNode,
  ReadMode,
  Role,
  decodeConfChange,
  maySendBeforePersist,
} from '@parley/raft';
import {
  KvCommand,
  KvResult,
  KvStateMachine,
  decodeKvCommand,
  encodeKvCommand,
} from './kv-state-machine';
import { Rng } from './rng';

/** What a simulated replica reports to the simulation (for delivery and for the checks). */
export interface SimHooks {
  send(messages: readonly Message[]): void;
  applied(node: NodeId, index: number, term: number, digest: string): void;
  becameLeader(node: SimNode): void;
  writeDone(clientId: number, opId: number, result: KvResult): void;
  readDone(ctx: string, value: string | null, node: NodeId, index: number): void;
  /** The node crashed in its send-before-persist window (see powerLossArmed). */
  lostPower(node: SimNode): void;
}

export interface SimNodeOptions {
  id: NodeId;
  voters: NodeId[];
  raft: Partial<RaftConfigInit>;
  snapshotEveryEntries: number;
  compactionTailEntries: number;
  rng: Rng;
  hooks: SimHooks;
  /** Fault injection for the checker's own test: on restart, lose the last N persisted entries. */
  loseEntriesOnRestart?: number;
  /**
   * Who sends a Ready's messages before persisting it. 'leader' (command-log's replica): a
   * leader sends its appends first (Raft thesis §10.2.1) unless the Ready changes term or vote.
   * 'everyone' is unsafe (a follower acknowledges what is not on its disk): the checker's test.
   */
  sendFirst?: 'leader' | 'everyone';
}

/**
 * One simulated replica: a RawNode with MemoryStorage as its disk, the KV state machine, and
 * the clients' pending requests. `crash()` keeps only the storage; `restart()` rebuilds the
 * rest from it, exactly as a real process would after kill -9.
 */
export class SimNode {
  readonly id: NodeId;
  readonly storage = new MemoryStorage();
  node: RawNode | undefined;
  private sm = new KvStateMachine();
  private appliedIndex = 0;
  private lastSnapshotIndex = 0;
  /** Writes waiting to be applied here, by client op. */
  private readonly writes = new Map<string, { clientId: number; opId: number }>();
  /** Reads waiting for their ReadState, then for the apply index. */
  private readonly reads = new Map<string, { key: string; index?: number }>();
  private readonly raftRng: Rng;
  restarts = 0;
  /**
   * Armed by the nemesis: the power fails in the window the early send opens, after this
   * node's next entries left (appends, or acknowledgements when everyone sends first) and
   * before they reached its disk (they are lost with it).
   */
  powerLossArmed = false;
  powerLosses = 0;

  constructor(private readonly options: SimNodeOptions) {
    this.id = options.id;
    this.raftRng = options.rng.fork();
    this.node = this.newRawNode(0);
    this.node.bootstrap(options.voters);
    this.process();
  }

  get crashed(): boolean {
    return this.node === undefined;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  stateDigest(): string {
    return this.sm.digest();
  }

  private newRawNode(applied: number): RawNode {
    return new RawNode({
      id: this.id,
      storage: this.storage,
      random: { nextInt: (max) => this.raftRng.nextInt(max) },
      electionTick: 10,
      heartbeatTick: 2,
      applied,
      ...this.options.raft,
    });
  }

  crash(): void {
    this.node = undefined;
    this.powerLossArmed = false;
    this.writes.clear();
    this.reads.clear();
  }

  restart(): void {
    if (this.options.loseEntriesOnRestart) this.loseTail(this.options.loseEntriesOnRestart);
    const snapshot = this.storage.snapshot();
    this.sm = new KvStateMachine();
    this.sm.restore(snapshot.data);
    this.appliedIndex = snapshot.meta.index;
    this.lastSnapshotIndex = snapshot.meta.index;
    this.node = this.newRawNode(snapshot.meta.index);
    this.restarts += 1;
    this.process();
  }

  /** The broken-fsync fault: acknowledged entries vanish from the "disk". */
  private loseTail(count: number): void {
    const last = this.storage.lastIndex();
    const keep = Math.max(
      this.storage.firstIndex() - 1,
      last - count,
      this.storage.getHardState().commit > 0 ? 0 : 0,
    );
    const entries =
      keep >= this.storage.firstIndex()
        ? this.storage.entries(this.storage.firstIndex(), keep + 1, Number.MAX_SAFE_INTEGER)
        : [];
    const snapshot = this.storage.snapshot();
    const fresh = new MemoryStorage();
    fresh.applySnapshot(snapshot);
    if (entries !== 'compacted') fresh.append(entries);
    const hard = this.storage.getHardState();
    fresh.setHardState({ ...hard, commit: Math.min(hard.commit, fresh.lastIndex()) });
    Object.assign(this.storage, fresh);
  }

  step(m: Message): void {
    if (!this.node) return;
    this.node.step(m);
    this.process();
  }

  tick(): void {
    if (!this.node) return;
    this.node.tick();
    this.process();
  }

  propose(command: KvCommand): 'accepted' | { refused: NodeId | undefined } {
    if (!this.node) return { refused: undefined };
    const result = this.node.propose(encodeKvCommand(command));
    this.process();
    if (result.status === 'refused') {
      return {
        refused: result.refusal.reason === 'not-leader' ? result.refusal.leaderHint : undefined,
      };
    }
    this.writes.set(`${command.clientId}:${command.opId}`, {
      clientId: command.clientId,
      opId: command.opId,
    });
    return 'accepted';
  }

  read(ctx: string, key: string, mode: ReadMode): 'accepted' | 'refused' {
    if (!this.node) return 'refused';
    const result = this.node.readIndex(ctx, mode);
    if (result.status === 'refused') return 'refused';
    this.reads.set(ctx, { key });
    this.process();
    return 'accepted';
  }

  transferLeadership(to: NodeId): void {
    if (!this.node) return;
    this.node.transferLeadership(to);
    this.process();
  }

  leaderHint(): NodeId | undefined {
    const lead = this.node?.status().lead;
    return lead ? lead : undefined;
  }

  isLeader(): boolean {
    return this.node?.status().role === Role.Leader;
  }

  /**
   * The Ready loop, in the order the core requires: persist, send, apply, advance (a leader
   * may send first, as command-log's replica does).
   */
  process(): void {
    const rn = this.node;
    if (!rn) return;
    for (let guard = 0; rn.hasReady(); guard += 1) {
      if (guard > 10_000) throw new Error(`${this.id}: Ready loop did not settle`);
      const rd = rn.ready();
      const sendFirst =
        this.options.sendFirst === 'everyone' ||
        maySendBeforePersist(rn.status().role, rd, this.storage.getHardState());
      if (sendFirst) {
        this.options.hooks.send(rd.messages);
        if (this.powerLossArmed && rd.entries.length > 0) {
          // Nothing of this Ready reached the disk: the entries just sent are gone from here.
          this.powerLosses += 1;
          this.crash();
          this.options.hooks.lostPower(this);
          return;
        }
      }
      if (rd.hardState) this.storage.setHardState(rd.hardState);
      if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
      this.storage.append(rd.entries);
      if (!sendFirst) this.options.hooks.send(rd.messages);
      if (rd.snapshot) {
        this.sm.restore(rd.snapshot.data);
        this.appliedIndex = rd.snapshot.meta.index;
        this.lastSnapshotIndex = rd.snapshot.meta.index;
      }
      for (const entry of rd.committedEntries) {
        this.appliedIndex = entry.index;
        if (entry.type === EntryType.ConfChange) {
          const cc = decodeConfChange(entry.data);
          if (!('error' in cc)) rn.applyConfChange(cc);
          this.options.hooks.applied(this.id, entry.index, entry.term, `conf:${entry.data.length}`);
          continue;
        }
        if (entry.data.length === 0) {
          this.options.hooks.applied(this.id, entry.index, entry.term, 'noop');
          continue;
        }
        const command = decodeKvCommand(entry.data);
        const result = this.sm.apply(command);
        this.options.hooks.applied(
          this.id,
          entry.index,
          entry.term,
          `${command.clientId}:${command.opId}`,
        );
        const key = `${command.clientId}:${command.opId}`;
        if (this.writes.delete(key))
          this.options.hooks.writeDone(command.clientId, command.opId, result);
      }
      for (const state of rd.readStates) {
        const read = this.reads.get(state.requestCtx);
        if (read) read.index = state.index;
      }
      this.serveReads();
      const becameLeader = rd.softState?.role === Role.Leader;
      rn.advance(rd);
      if (becameLeader) this.options.hooks.becameLeader(this);
      this.maybeSnapshot(rn);
    }
  }

  private serveReads(): void {
    for (const [ctx, read] of [...this.reads]) {
      if (read.index !== undefined && read.index <= this.appliedIndex) {
        this.reads.delete(ctx);
        this.options.hooks.readDone(ctx, this.sm.get(read.key), this.id, read.index);
      }
    }
  }

  private maybeSnapshot(rn: RawNode): void {
    if (this.appliedIndex - this.lastSnapshotIndex < this.options.snapshotEveryEntries) return;
    this.storage.createSnapshot(this.appliedIndex, rn.status().confState, this.sm.snapshot());
    this.lastSnapshotIndex = this.appliedIndex;
    const compactTo = this.appliedIndex - this.options.compactionTailEntries;
    if (compactTo > this.storage.firstIndex()) this.storage.compact(compactTo);
  }
}
