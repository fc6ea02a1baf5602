import { InvariantViolation } from '@parley/common';
import { RaftConfigInit } from '../config';
import { ConfChangeSingle, ConfChangeType, decodeConfChange } from '../confchange';
import { RawNode } from '../raw-node';
import { MemoryStorage } from '../storage';
import { Entry, EntryType, Message, MessageType, NodeId, Role } from '../types';
import { CommandArg, ScriptError, TestCase } from './datadriven';
import {
  describeConfChange,
  describeConfState,
  describeEntry,
  describeMessage,
  describeReady,
} from './describe';
import { seededRandom } from './harness';

interface EnvNode {
  readonly id: NodeId;
  rn: RawNode;
  readonly storage: MemoryStorage;
  /** The state machine: the data of every applied non-empty normal entry, by index. */
  stateMachine: { index: number; data: string }[];
}

const text = new TextEncoder();
const untext = new TextDecoder();

/** Sorts ids as numbers when they are numbers, so that "10" comes after "9". */
function byId(a: NodeId, b: NodeId): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

class Args {
  constructor(
    private readonly c: TestCase,
    private readonly source: string,
  ) {}

  fail(problem: string): never {
    throw new ScriptError(this.source, this.c.line, `${this.c.command}: ${problem}`);
  }

  positional(): string[] {
    return this.c.args.filter((a) => a.values.length === 0).map((a) => a.key);
  }

  first(what: string): string {
    const p = this.positional();
    if (p.length === 0) this.fail(`needs ${what}`);
    return p[0];
  }

  private find(key: string): CommandArg | undefined {
    return this.c.args.find((a) => a.key === key && a.values.length > 0);
  }

  list(key: string): string[] | undefined {
    return this.find(key)?.values.slice();
  }

  string(key: string): string | undefined {
    return this.find(key)?.values[0];
  }

  int(key: string): number | undefined {
    const raw = this.string(key);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0) this.fail(`${key}=${raw} is not a count`);
    return n;
  }

  bool(key: string): boolean | undefined {
    const raw = this.string(key);
    if (raw === undefined) return undefined;
    if (raw !== 'true' && raw !== 'false') this.fail(`${key}=${raw} is not true or false`);
    return raw === 'true';
  }
}

/**
 * The world a golden script drives: Raft nodes, the messages in flight between them, and a
 * partition. Nothing happens on its own: messages move only on `deliver-msgs` or `stabilize`,
 * Ready batches are handled only on `process-ready` or `stabilize`, time passes only on `tick`.
 *
 * Besides printing, the environment checks two safety properties on every step and prints a
 * `SAFETY VIOLATION` line when one breaks: at most one leader per term (§5.2), and no two
 * nodes apply different entries at one index (State Machine Safety, §5.4.3).
 */
export class InteractionEnv {
  private readonly nodes = new Map<NodeId, EnvNode>();
  private inFlight: Message[] = [];
  private readonly isolated = new Set<NodeId>();
  private out: string[] = [];
  private indent = '';
  private logLevel: 'debug' | 'none' = 'debug';
  /** Term and applying node of the first entry applied at each index. */
  private readonly appliedAt = new Map<number, { term: number; node: NodeId }>();
  private readonly leaderOfTerm = new Map<number, NodeId>();

  constructor(private readonly source: string) {}

  /** Runs one command and returns what it printed. */
  run(c: TestCase): string {
    this.out = [];
    this.indent = '';
    const args = new Args(c, this.source);
    try {
      this.dispatch(c.command, args);
    } catch (e) {
      // A broken invariant in the core is part of the output: the golden diff shows it.
      if (!(e instanceof InvariantViolation)) throw e;
      this.out.push(`panic: ${e.message}`);
    }
    return this.out.join('\n');
  }

  private dispatch(command: string, a: Args): void {
    switch (command) {
      case 'add-nodes':
        return this.addNodes(a);
      case 'campaign':
        return this.node(a, a.first('a node')).rn.campaign();
      case 'propose':
        return this.propose(a);
      case 'propose-conf-change':
        return this.proposeConfChange(a);
      case 'transfer-leadership':
        return this.transferLeadership(a);
      case 'read-index':
        return this.readIndex(a);
      case 'tick':
        return this.tick(a, a.int('count') ?? 1);
      case 'tick-heartbeat':
        return this.tick(a, this.node(a, a.first('a node')).rn.raft.cfg.heartbeatTick);
      case 'tick-election':
        return this.tickElection(a);
      case 'process-ready':
        for (const id of this.ids(a)) this.processReady(id);
        return;
      case 'deliver-msgs':
        return this.deliverCommand(a);
      case 'drop-msgs':
        return this.dropMsgs(a);
      case 'stabilize':
        return this.stabilize(a);
      case 'isolate':
        for (const id of this.ids(a)) this.isolated.add(id);
        return;
      case 'restart':
        for (const id of a.positional()) this.restart(a, id);
        return;
      case 'heal':
        this.isolated.clear();
        return;
      case 'compact':
        return this.compact(a);
      case 'log-level':
        return this.setLogLevel(a);
      case 'status':
        for (const id of this.ids(a)) this.status(id);
        return;
      case 'raft-log':
        for (const id of this.ids(a)) this.raftLog(id);
        return;
      case 'raft-state':
        return this.raftState();
      default:
        a.fail('unknown command');
    }
  }

  // ---- nodes ---------------------------------------------------------------------------

  private addNodes(a: Args): void {
    const count = Number(a.first('a count'));
    if (!Number.isSafeInteger(count) || count < 1) a.fail('the count must be a positive integer');
    const voters = a.list('voters') ?? [];
    const overrides: Partial<RaftConfigInit> = {};
    const set = <K extends keyof RaftConfigInit>(k: K, v: RaftConfigInit[K] | undefined) => {
      if (v !== undefined) overrides[k] = v;
    };
    set('preVote', a.bool('pre-vote'));
    set('checkQuorum', a.bool('check-quorum'));
    set('maxSizePerMsgBytes', a.int('max-msg-bytes'));
    set('maxInflightMsgs', a.int('max-inflight'));
    set('electionTick', a.int('election-tick'));
    set('snapshotChunkBytes', a.int('snapshot-chunk-bytes'));
    for (let k = 0; k < count; k += 1) {
      const id = String(this.nodes.size + 1);
      // Creation and bootstrap are not part of any scenario: only the summary line is printed.
      const r = this.quietly(() => this.createNode(id, voters, overrides)).raft;
      const cs = describeConfState(r.confState());
      this.out.push(`${id}: term ${r.term} commit ${r.log.committed} ${cs}`);
    }
  }

  private createNode(id: NodeId, voters: string[], overrides: Partial<RaftConfigInit>): RawNode {
    const storage = new MemoryStorage();
    const rn = new RawNode({
      id,
      storage,
      random: seededRandom(this.nodes.size + 1),
      electionTick: 10,
      heartbeatTick: 1,
      logger: (line) => this.log(line),
      ...overrides,
    });
    this.nodes.set(id, { id, rn, storage, stateMachine: [] });
    if (voters.includes(id)) {
      rn.bootstrap(voters);
      this.processReady(id);
    }
    // The nodes have been up for a while: past the restart guard of the leader lease.
    rn.raft.ticksSinceStart = 1_000;
    return rn;
  }

  /**
   * A crash and restart: the node loses everything not in its storage (role, leader, progress,
   * tallied votes, unpersisted entries) and comes back as a follower. Like the replica's
   * recovery, it restores its latest snapshot and replays the committed log after it (which
   * rebuilds the membership); the replay's Ready is handled silently.
   */
  private restart(a: Args, id: NodeId): void {
    const node = this.node(a, id);
    const snapshot = node.storage.snapshot();
    node.stateMachine = snapshot.meta.index > 0 ? decodeImage(snapshot.data) : [];
    node.rn = new RawNode({
      ...node.rn.raft.cfg,
      storage: node.storage,
      applied: snapshot.meta.index,
      random: seededRandom(Number(id) + 100),
    });
    this.quietly(() => this.processReady(id));
    const r = node.rn.raft;
    this.out.push(
      `${id} restarted: term ${r.term} vote ${r.vote || 'none'} commit ${r.log.committed} ` +
        `applied ${r.log.applied} ${describeConfState(r.confState())}`,
    );
  }

  private quietly<T>(fn: () => T): T {
    const out = this.out;
    this.out = [];
    try {
      return fn();
    } finally {
      this.out = out;
    }
  }

  private node(a: Args, id: NodeId): EnvNode {
    const node = this.nodes.get(id);
    if (node === undefined) a.fail(`no node ${id}`);
    return node;
  }

  private ids(a: Args): NodeId[] {
    const ids = a.positional();
    for (const id of ids) this.node(a, id);
    return ids.length > 0 ? ids : [...this.nodes.keys()].sort(byId);
  }

  private log(line: string): void {
    if (this.logLevel === 'debug') this.out.push(this.indent + line);
  }

  private setLogLevel(a: Args): void {
    const level = a.first('a level');
    if (level !== 'debug' && level !== 'none') a.fail('the level is debug or none');
    this.logLevel = level;
  }

  // ---- client actions ------------------------------------------------------------------

  private propose(a: Args): void {
    const [id, data] = a.positional();
    if (data === undefined) a.fail('needs a node and the data');
    const result = this.node(a, id).rn.propose(text.encode(data));
    this.out.push(describeProposal(result));
  }

  private proposeConfChange(a: Args): void {
    const [id, ...specs] = a.positional();
    const node = this.node(a, id);
    const changes = specs.map((spec): ConfChangeSingle => {
      const type = {
        v: ConfChangeType.AddNode,
        l: ConfChangeType.AddLearner,
        r: ConfChangeType.RemoveNode,
      }[spec[0]];
      if (type === undefined) a.fail(`change ${spec} is not v<id>, l<id> or r<id>`);
      return { type, nodeId: spec.slice(1) };
    });
    const transition = a.string('transition') ?? 'auto';
    if (
      transition !== 'auto' &&
      transition !== 'joint-auto-leave' &&
      transition !== 'joint-explicit'
    )
      a.fail(`unknown transition ${transition}`);
    const force = a.string('force') === 'true';
    this.out.push(describeProposal(node.rn.proposeConfChange({ transition, changes }, { force })));
  }

  private transferLeadership(a: Args): void {
    const from = a.string('from');
    const to = a.string('to');
    if (from === undefined || to === undefined) a.fail('needs from= and to=');
    this.node(a, from).rn.transferLeadership(to);
  }

  private readIndex(a: Args): void {
    const [id, ctx] = a.positional();
    if (ctx === undefined) a.fail('needs a node and a request context');
    const mode = a.string('mode') === 'lease' ? 'lease' : 'read-index';
    const result = this.node(a, id).rn.readIndex(ctx, mode);
    this.out.push(result.status === 'refused' ? `refused: ${result.reason}` : result.status);
  }

  private tick(a: Args, count: number): void {
    const node = this.node(a, a.first('a node'));
    for (let i = 0; i < count; i += 1) node.rn.tick();
  }

  /** Ticks exactly until the node's election timer (a leader: its CheckQuorum timer) fires. */
  private tickElection(a: Args): void {
    const r = this.node(a, a.first('a node')).rn.raft;
    const timeout = r.role === Role.Leader ? r.cfg.electionTick : r.randomizedElectionTimeout;
    this.tick(a, Math.max(1, timeout - r.electionElapsed));
  }

  // ---- Ready handling and the network ---------------------------------------------------

  /** Carries out one Ready in the documented order: persist, send, apply, advance. */
  private processReady(id: NodeId): boolean {
    const node = this.nodes.get(id)!;
    if (!node.rn.hasReady()) return false;
    const rd = node.rn.ready();
    this.out.push(`> ${id} handling Ready`);
    this.indent = '  ';
    for (const line of describeReady(rd)) this.out.push(this.indent + line);
    if (rd.hardState) node.storage.setHardState(rd.hardState);
    if (rd.snapshot) node.storage.applySnapshot(rd.snapshot);
    node.storage.append(rd.entries);
    this.inFlight.push(...rd.messages);
    if (rd.snapshot) {
      node.stateMachine = decodeImage(rd.snapshot.data);
    }
    for (const entry of rd.committedEntries) this.apply(node, entry);
    node.rn.advance(rd);
    this.checkOneLeaderPerTerm(node);
    this.indent = '';
    return true;
  }

  private apply(node: EnvNode, entry: Entry): void {
    const first = this.appliedAt.get(entry.index);
    if (first === undefined) this.appliedAt.set(entry.index, { term: entry.term, node: node.id });
    else if (first.term !== entry.term) {
      this.out.push(
        `${this.indent}SAFETY VIOLATION: ${node.id} applied ${describeEntry(entry)} but ` +
          `${first.node} applied an entry of term ${first.term} at index ${entry.index}`,
      );
    }
    if (entry.type === EntryType.Normal) {
      if (entry.data.length > 0)
        node.stateMachine.push({ index: entry.index, data: untext.decode(entry.data) });
      return;
    }
    const cc = decodeConfChange(entry.data);
    if ('error' in cc) {
      this.out.push(`${this.indent}${node.id} skipped an undecodable conf change: ${cc.error}`);
      return;
    }
    const result = node.rn.applyConfChange(cc);
    this.out.push(
      `${this.indent}${node.id} applied ${describeConfChange(cc)}: ` +
        (result.ok ? describeConfState(result.confState) : `refused (${result.error})`),
    );
  }

  private checkOneLeaderPerTerm(node: EnvNode): void {
    const r = node.rn.raft;
    if (r.role !== Role.Leader) return;
    const other = this.leaderOfTerm.get(r.term);
    if (other === undefined) this.leaderOfTerm.set(r.term, node.id);
    else if (other !== node.id)
      this.out.push(`SAFETY VIOLATION: ${node.id} and ${other} both lead term ${r.term}`);
  }

  private crossesPartition(m: Message): boolean {
    return this.isolated.has(m.from) || this.isolated.has(m.to);
  }

  /** Steps the in-flight messages to `id` that `pick` selects, in the order they were sent. */
  private deliver(id: NodeId, pick: (m: Message) => boolean): boolean {
    const chosen = this.inFlight.filter((m) => m.to === id && pick(m));
    if (chosen.length === 0) return false;
    this.inFlight = this.inFlight.filter((m) => !chosen.includes(m));
    const node = this.nodes.get(id);
    this.out.push(`> ${id} receiving messages`);
    this.indent = '  ';
    for (const m of chosen) {
      if (node === undefined || this.crossesPartition(m)) {
        this.out.push(`  ${describeMessage(m)} (dropped: ${node ? 'partition' : 'no such node'})`);
        continue;
      }
      this.out.push(`  ${describeMessage(m)}`);
      this.indent = '    ';
      const result = node.rn.step(m);
      if (!result.ok) this.out.push(`    refused: ${result.error}`);
      this.indent = '  ';
    }
    this.indent = '';
    return true;
  }

  private messageFilter(a: Args): (m: Message) => boolean {
    const type = a.string('type');
    if (type !== undefined && !Object.values(MessageType).includes(type as MessageType))
      a.fail(`unknown message type ${type}`);
    const from = a.string('from');
    return (m) =>
      (type === undefined || m.type === type) && (from === undefined || m.from === from);
  }

  private deliverCommand(a: Args): void {
    const pick = this.messageFilter(a);
    for (const id of this.ids(a)) this.deliver(id, pick);
  }

  private dropMsgs(a: Args): void {
    const pick = this.messageFilter(a);
    const to = a.string('to');
    const dropped = this.inFlight.filter((m) => pick(m) && (to === undefined || m.to === to));
    this.inFlight = this.inFlight.filter((m) => !dropped.includes(m));
    for (const m of dropped) this.out.push(`dropped: ${describeMessage(m)}`);
  }

  /** Handles Readies and delivers messages among `ids` (default all) until nothing moves. */
  private stabilize(a: Args): void {
    const ids = this.ids(a);
    for (let round = 0; round < 1_000; round += 1) {
      let moved = false;
      for (const id of ids) moved = this.processReady(id) || moved;
      for (const id of ids) moved = this.deliver(id, () => true) || moved;
      if (!moved) return;
    }
    a.fail('did not stabilize within 1000 rounds');
  }

  // ---- storage -------------------------------------------------------------------------

  /** Snapshots the node's state machine at `index` (≤ applied) and compacts its log there. */
  private compact(a: Args): void {
    const [id, raw] = a.positional();
    const node = this.node(a, id);
    const index = Number(raw);
    const r = node.rn.raft;
    if (!Number.isSafeInteger(index) || index < 1 || index > r.log.applied)
      a.fail(`index ${raw} is not in [1, applied ${r.log.applied}]`);
    const image = node.stateMachine.filter((e) => e.index <= index);
    const data = text.encode(JSON.stringify(image));
    const snapshot = node.storage.createSnapshot(index, r.confState(), data);
    node.storage.compact(index);
    const meta = snapshot.meta;
    this.out.push(
      `${id} compacted through ${index}: snapshot ${meta.term}/${meta.index} ` +
        describeConfState(meta.confState),
    );
  }

  // ---- inspection ----------------------------------------------------------------------

  private status(id: NodeId): void {
    const node = this.nodes.get(id)!;
    const s = node.rn.status();
    this.out.push(
      `${id}: ${s.role} term ${s.term} vote ${s.vote || 'none'} lead ${s.lead || 'none'} ` +
        `commit ${s.commit} applied ${s.applied} last ${s.lastIndex} ` +
        describeConfState(s.confState),
    );
    for (const [peer, pr] of [...s.progress].sort((x, y) => byId(x[0], y[0]))) {
      const extra = `${pr.isLearner ? ' learner' : ''}${pr.inflight > 0 ? ` inflight=${pr.inflight}` : ''}`;
      this.out.push(`  ${peer}: match=${pr.match} next=${pr.next} state=${pr.state}${extra}`);
    }
    const applied = node.stateMachine.map((e) => e.data);
    this.out.push(`  applied data: [${applied.join(' ')}]`);
  }

  private raftLog(id: NodeId): void {
    const log = this.nodes.get(id)!.rn.raft.log;
    const first = log.firstIndex();
    if (first > 1) {
      const snap = log.snapshot().meta;
      this.out.push(`${id}: compacted through ${first - 1} (snapshot ${snap.term}/${snap.index})`);
    }
    const entries = log.allEntries();
    if (entries.length === 0) this.out.push(`${id}: no entries`);
    for (const e of entries) this.out.push(`${id}: ${describeEntry(e)}`);
  }

  private raftState(): void {
    for (const id of [...this.nodes.keys()].sort(byId)) {
      const r = this.nodes.get(id)!.rn.raft;
      const cut = this.isolated.has(id) ? ' (isolated)' : '';
      this.out.push(
        `${id}: ${r.role} term ${r.term} lead ${r.lead || 'none'} commit ${r.log.committed}${cut}`,
      );
    }
  }
}

/** A snapshot's data: the state machine image, as `compact` encodes it. */
function decodeImage(data: Uint8Array): EnvNode['stateMachine'] {
  return JSON.parse(untext.decode(data)) as EnvNode['stateMachine'];
}

function describeProposal(result: ReturnType<RawNode['propose']>): string {
  switch (result.status) {
    case 'appended':
      return `appended ${result.term}/${result.index}`;
    case 'forwarded':
      return `forwarded to ${result.leaderHint}`;
    case 'refused':
      return 'detail' in result.refusal
        ? `refused: ${result.refusal.reason}\n  ${result.refusal.detail}`
        : `refused: ${result.refusal.reason}`;
  }
}
