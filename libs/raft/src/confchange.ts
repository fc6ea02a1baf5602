import { Progress } from './progress';
import { TrackerConfig, isJoint } from './tracker';
import { ConfState, NodeId } from './types';

export enum ConfChangeType {
  AddNode = 'add-node',
  AddLearner = 'add-learner',
  RemoveNode = 'remove-node',
}

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/**
 * A membership change. `auto` uses a single-server change when at most one voter changes
 * (safe because any two majorities of configurations that differ by one voter overlap,
 * dissertation §4.1) and joint consensus otherwise, leaving the joint configuration
 * automatically. `explicit` always enters a joint configuration and waits for an explicit
 * leave (an empty change). A change with no `changes` leaves a joint configuration.
 */
export interface ConfChange {
  readonly transition: 'auto' | 'joint-auto-leave' | 'joint-explicit';
  readonly changes: readonly ConfChangeSingle[];
  /** Opaque to the core (for example the new member's address). */
  readonly context?: string;
}

export function isLeaveJoint(cc: ConfChange): boolean {
  return cc.changes.length === 0;
}

/** Whether this change needs joint consensus given how many voters it touches. */
export function needsJoint(cc: ConfChange, config: TrackerConfig): boolean {
  if (cc.transition !== 'auto') return true;
  let voterChanges = 0;
  for (const change of cc.changes) {
    const isVoter = config.voters.incoming.has(change.nodeId);
    const becomesVoter = change.type === ConfChangeType.AddNode;
    if (isVoter !== becomesVoter) voterChanges += 1;
  }
  return voterChanges > 1;
}

export type ChangeResult =
  | { ok: true; config: TrackerConfig; progress: Map<NodeId, Progress> }
  | { ok: false; error: string };

type ProgressFactory = (id: NodeId, isLearner: boolean) => Progress;

interface MutableConfig {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

function mutable(config: TrackerConfig): MutableConfig {
  return {
    incoming: new Set(config.voters.incoming),
    outgoing: new Set(config.voters.outgoing),
    learners: new Set(config.learners),
    learnersNext: new Set(config.learnersNext),
    autoLeave: config.autoLeave,
  };
}

function freeze(cfg: MutableConfig): TrackerConfig {
  return {
    voters: { incoming: cfg.incoming, outgoing: cfg.outgoing },
    learners: cfg.learners,
    learnersNext: cfg.learnersNext,
    autoLeave: cfg.autoLeave,
  };
}

/**
 * Marks a member voter or learner. A changed Progress is cloned, never mutated, so that a
 * change that turns out invalid (or a dry run by the leader) leaves the live tracker untouched.
 */
function setLearner(
  progress: Map<NodeId, Progress>,
  id: NodeId,
  isLearner: boolean,
  newProgress: ProgressFactory,
): void {
  const existing = progress.get(id);
  if (!existing) {
    progress.set(id, newProgress(id, isLearner));
  } else if (existing.isLearner !== isLearner) {
    const clone = Object.assign(
      Object.create(Object.getPrototypeOf(existing) as object) as Progress,
      existing,
    );
    clone.isLearner = isLearner;
    progress.set(id, clone);
  }
}

function assertNever(id: NodeId): Progress {
  throw new Error(`invariant violated: next learner ${id} has no progress`);
}

/** Applies the single changes to the incoming half, keeping progress in step. */
function applyChanges(
  cfg: MutableConfig,
  progress: Map<NodeId, Progress>,
  changes: readonly ConfChangeSingle[],
  newProgress: ProgressFactory,
): string | undefined {
  for (const change of changes) {
    const id = change.nodeId;
    if (id === '') return 'a change names an empty node id';
    switch (change.type) {
      case ConfChangeType.AddNode:
        cfg.learners.delete(id);
        cfg.learnersNext.delete(id);
        cfg.incoming.add(id);
        setLearner(progress, id, false, newProgress);
        break;
      case ConfChangeType.AddLearner:
        cfg.incoming.delete(id);
        // A voter of C_old stays a voter until the joint configuration is left.
        if (cfg.outgoing.has(id)) cfg.learnersNext.add(id);
        else {
          cfg.learners.add(id);
          setLearner(progress, id, true, newProgress);
        }
        break;
      case ConfChangeType.RemoveNode:
        cfg.incoming.delete(id);
        cfg.learners.delete(id);
        cfg.learnersNext.delete(id);
        if (!cfg.outgoing.has(id)) progress.delete(id);
        break;
      default:
        return `unknown change type ${String((change as { type: unknown }).type)}`;
    }
  }
  return undefined;
}

function validate(cfg: MutableConfig, progress: Map<NodeId, Progress>): string | undefined {
  if (cfg.incoming.size === 0) return 'the configuration would have no voters';
  for (const id of cfg.learners) {
    if (cfg.incoming.has(id) || cfg.outgoing.has(id)) return `${id} is both voter and learner`;
  }
  for (const id of cfg.learnersNext) {
    if (!cfg.outgoing.has(id)) return `${id} is a next learner but not an outgoing voter`;
  }
  for (const id of [...cfg.incoming, ...cfg.outgoing, ...cfg.learners]) {
    if (!progress.has(id)) return `no progress for member ${id}`;
  }
  return undefined;
}

/** Enters a joint configuration C_old,new (dissertation §4.3). */
export function enterJoint(
  config: TrackerConfig,
  progress: ReadonlyMap<NodeId, Progress>,
  autoLeave: boolean,
  changes: readonly ConfChangeSingle[],
  newProgress: ProgressFactory,
): ChangeResult {
  if (isJoint(config)) return { ok: false, error: 'already in a joint configuration' };
  if (config.voters.incoming.size === 0)
    return { ok: false, error: 'cannot enter a joint configuration from no voters' };
  const cfg = mutable(config);
  const prs = new Map(progress);
  cfg.outgoing = new Set(cfg.incoming);
  const error = applyChanges(cfg, prs, changes, newProgress) ?? validate(cfg, prs);
  if (error) return { ok: false, error };
  cfg.autoLeave = autoLeave;
  return { ok: true, config: freeze(cfg), progress: prs };
}

/** Leaves the joint configuration: C_new alone decides from now on. */
export function leaveJoint(
  config: TrackerConfig,
  progress: ReadonlyMap<NodeId, Progress>,
): ChangeResult {
  if (!isJoint(config)) return { ok: false, error: 'not in a joint configuration' };
  const cfg = mutable(config);
  const prs = new Map(progress);
  for (const id of cfg.learnersNext) {
    cfg.learners.add(id);
    setLearner(prs, id, true, () => assertNever(id));
  }
  cfg.learnersNext.clear();
  for (const id of cfg.outgoing) {
    if (!cfg.incoming.has(id) && !cfg.learners.has(id)) prs.delete(id);
  }
  cfg.outgoing = new Set();
  cfg.autoLeave = false;
  const error = validate(cfg, prs);
  if (error) return { ok: false, error };
  return { ok: true, config: freeze(cfg), progress: prs };
}

/** A single-server change: at most one voter added or removed (dissertation §4.1). */
export function simpleChange(
  config: TrackerConfig,
  progress: ReadonlyMap<NodeId, Progress>,
  changes: readonly ConfChangeSingle[],
  newProgress: ProgressFactory,
): ChangeResult {
  if (isJoint(config))
    return { ok: false, error: 'cannot make a simple change in a joint configuration' };
  const cfg = mutable(config);
  const prs = new Map(progress);
  const error = applyChanges(cfg, prs, changes, newProgress) ?? validate(cfg, prs);
  if (error) return { ok: false, error };
  let changed = 0;
  for (const id of cfg.incoming) if (!config.voters.incoming.has(id)) changed += 1;
  for (const id of config.voters.incoming) if (!cfg.incoming.has(id)) changed += 1;
  if (changed > 1)
    return { ok: false, error: 'more than one voter changed without joint consensus' };
  return { ok: true, config: freeze(cfg), progress: prs };
}

/** Rebuilds the membership from a snapshot's ConfState. */
export function restoreConfig(confState: ConfState, newProgress: ProgressFactory): ChangeResult {
  const cfg: MutableConfig = {
    incoming: new Set(confState.voters),
    outgoing: new Set(confState.votersOutgoing),
    learners: new Set(confState.learners),
    learnersNext: new Set(confState.learnersNext),
    autoLeave: confState.autoLeave,
  };
  const prs = new Map<NodeId, Progress>();
  // A fresh node knows no members until it bootstraps or hears from a leader.
  const empty =
    cfg.incoming.size + cfg.outgoing.size + cfg.learners.size + cfg.learnersNext.size === 0;
  if (empty) return { ok: true, config: freeze(cfg), progress: prs };
  for (const id of [...cfg.incoming, ...cfg.outgoing].sort())
    if (!prs.has(id)) prs.set(id, newProgress(id, false));
  for (const id of [...cfg.learners].sort()) prs.set(id, newProgress(id, true));
  const error = validate(cfg, prs);
  if (error) return { ok: false, error };
  return { ok: true, config: freeze(cfg), progress: prs };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(
    JSON.stringify({
      t: cc.transition,
      c: cc.changes.map((x) => [x.type, x.nodeId]),
      x: cc.context ?? '',
    }),
  );
}

/** Decodes and validates a ConfChange; malformed bytes are an error value, never a crash. */
export function decodeConfChange(bytes: Uint8Array): ConfChange | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch {
    return { error: 'conf change is not valid UTF-8 JSON' };
  }
  if (typeof raw !== 'object' || raw === null) return { error: 'conf change is not an object' };
  const { t, c, x } = raw as { t?: unknown; c?: unknown; x?: unknown };
  if (t !== 'auto' && t !== 'joint-auto-leave' && t !== 'joint-explicit')
    return { error: 'bad transition' };
  if (!Array.isArray(c) || c.length > 64) return { error: 'bad change list' };
  const types = new Set<string>(Object.values(ConfChangeType));
  const changes: ConfChangeSingle[] = [];
  for (const item of c as unknown[]) {
    if (!Array.isArray(item) || item.length !== 2) return { error: 'bad change' };
    const [type, nodeId] = item as unknown[];
    if (typeof type !== 'string' || !types.has(type)) return { error: 'bad change type' };
    if (typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > 64)
      return { error: 'bad node id' };
    changes.push({ type: type as ConfChangeType, nodeId });
  }
  if (typeof x !== 'string') return { error: 'bad context' };
  return { transition: t, changes, context: x === '' ? undefined : x };
}
