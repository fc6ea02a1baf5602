import { RaftConfigInit, RandomSource } from '../config';
import { decodeConfChange } from '../confchange';
import { RawNode } from '../raw-node';
import { MemoryStorage } from '../storage';
import { Entry, EntryType, Message, NodeId, ReadState, Snapshot } from '../types';

/** A deterministic random source for tests: a tiny LCG, seeded. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0 || 1;
  return {
    nextInt(max: number): number {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % max;
    },
  };
}

export interface TestNode {
  id: NodeId;
  rn: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: ReadState[];
  /** The last snapshot the state machine restored. */
  restored?: Snapshot;
}

const text = new TextEncoder();
const untext = new TextDecoder();
export const bytes = (s: string): Uint8Array => text.encode(s);
export const str = (b: Uint8Array): string => untext.decode(b);

/**
 * A synchronous test network in the style of etcd's raft tests: messages are queued, and
 * `stabilize()` delivers them until nothing moves. Links can be cut and messages filtered.
 */
export class TestNet {
  readonly nodes = new Map<NodeId, TestNode>();
  queue: Message[] = [];
  readonly cut = new Set<string>();
  /** Return false to drop a message in flight. */
  filter: (m: Message) => boolean = () => true;
  /** Rewrites a message in flight (after `filter`). */
  transform: (m: Message) => Message = (m) => m;
  delivered: Message[] = [];

  constructor(
    ids: NodeId[],
    private readonly overrides: Partial<RaftConfigInit> = {},
    bootstrapIds: NodeId[] = ids,
  ) {
    ids.forEach((id, i) => this.addNode(id, bootstrapIds.includes(id) ? bootstrapIds : [], i + 1));
  }

  addNode(id: NodeId, bootstrap: NodeId[], seed = 99): TestNode {
    const storage = new MemoryStorage();
    const rn = new RawNode({
      id,
      storage,
      random: seededRandom(seed),
      electionTick: 10,
      heartbeatTick: 1,
      ...this.overrides,
    });
    if (bootstrap.length > 0) rn.bootstrap(bootstrap);
    // Scenario tests start from nodes that have been up for a while: past the restart guard
    // that keeps a just-started node from voting inside a possible leader lease.
    rn.raft.ticksSinceStart = 1_000;
    const node: TestNode = { id, rn, storage, applied: [], readStates: [] };
    this.nodes.set(id, node);
    this.process(id);
    return node;
  }

  /** Restarts a node from its storage, losing all volatile state. */
  restart(id: NodeId, overrides: Partial<RaftConfigInit> = {}): TestNode {
    const old = this.node(id);
    const applied = old.storage.snapshot().meta.index;
    const rn = new RawNode({
      id,
      storage: old.storage,
      random: seededRandom(7),
      electionTick: 10,
      heartbeatTick: 1,
      applied,
      ...this.overrides,
      ...overrides,
    });
    const node: TestNode = {
      id,
      rn,
      storage: old.storage,
      applied: old.applied.filter((e) => e.index <= applied),
      readStates: [],
    };
    this.nodes.set(id, node);
    this.queue = this.queue.filter((m) => m.to !== id);
    return node;
  }

  node(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  rn(id: NodeId): RawNode {
    return this.node(id).rn;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}->${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Runs one Ready cycle of a node in the documented order. */
  process(id: NodeId): boolean {
    const node = this.node(id);
    let moved = false;
    for (let guard = 0; node.rn.hasReady() && guard < 100; guard += 1) {
      moved = true;
      const rd = node.rn.ready();
      if (rd.hardState) node.storage.setHardState(rd.hardState);
      if (rd.snapshot) node.storage.applySnapshot(rd.snapshot);
      node.storage.append(rd.entries);
      for (const m of rd.messages) this.queue.push(m);
      if (rd.snapshot) {
        node.restored = rd.snapshot;
        node.applied = [];
      }
      for (const entry of rd.committedEntries) {
        node.applied.push(entry);
        if (entry.type === EntryType.ConfChange) {
          const cc = decodeConfChange(entry.data);
          if (!('error' in cc)) node.rn.applyConfChange(cc);
        }
      }
      node.readStates.push(...rd.readStates);
      node.rn.advance(rd);
    }
    return moved;
  }

  /** Delivers queued messages (and the messages they cause) until the network is quiet. */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round += 1) {
      let moved = false;
      for (const id of [...this.nodes.keys()].sort()) moved = this.process(id) || moved;
      const batch = this.queue;
      this.queue = [];
      for (const sent of batch) {
        if (this.cut.has(`${sent.from}->${sent.to}`) || !this.filter(sent)) continue;
        const target = this.nodes.get(sent.to);
        if (!target) continue;
        const m = this.transform(sent);
        this.delivered.push(m);
        target.rn.step(m);
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error('network did not stabilize');
  }

  /** Delivers only the messages queued now (one hop), processing nodes first. */
  deliverOnce(): Message[] {
    for (const id of [...this.nodes.keys()].sort()) this.process(id);
    const batch = this.queue;
    this.queue = [];
    const delivered: Message[] = [];
    for (const m of batch) {
      if (this.cut.has(`${m.from}->${m.to}`) || !this.filter(m)) continue;
      const target = this.nodes.get(m.to);
      if (!target) continue;
      delivered.push(m);
      target.rn.step(m);
    }
    return delivered;
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i += 1) {
      this.node(id).rn.tick();
      this.process(id);
    }
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i += 1) {
      for (const id of [...this.nodes.keys()].sort()) this.node(id).rn.tick();
      this.stabilize();
    }
  }

  /** Elects `id` by campaigning and delivering everything. */
  elect(id: NodeId): void {
    this.rn(id).campaign();
    this.stabilize();
  }

  leader(): NodeId | undefined {
    const leaders = [...this.nodes.values()].filter((n) => n.rn.status().role === 'leader');
    return leaders.length === 1 ? leaders[0].id : undefined;
  }

  appliedData(id: NodeId): string[] {
    return this.node(id)
      .applied.filter((e) => e.type === EntryType.Normal && e.data.length > 0)
      .map((e) => str(e.data));
  }
}
