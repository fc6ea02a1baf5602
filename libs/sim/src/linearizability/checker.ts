import { Bitset } from './bitset';
import { Operation } from './history';
import { Model } from './model';

export type CheckResult = 'ok' | 'illegal' | 'unknown';

export interface PartitionFailure<I, O> {
  partition: string;
  /** The longest prefix of operations the search could linearize. */
  linearized: Operation<I, O>[];
  /** Operations it could not place after that prefix. */
  remaining: Operation<I, O>[];
}

export interface CheckReport<I, O> {
  result: CheckResult;
  partitionsChecked: number;
  steps: number;
  failure?: PartitionFailure<I, O>;
}

interface Event {
  op: number;
  isCall: boolean;
  time: number;
  prev: Event | undefined;
  next: Event | undefined;
  /** For a call: its return event. */
  match: Event | undefined;
}

/**
 * Linearizability checking by Wing & Gong's search with Lowe's refinements as used by
 * Porcupine (Athalye): walk the events in time order, try to linearize each pending call,
 * backtrack on a return that was reached unlinearized, and prune configurations (set of
 * linearized operations, model state) already explored. Histories are split by the model's
 * partition function first (P-compositionality: a history is linearizable iff every
 * per-key sub-history is). `maxSteps` bounds the work; exceeding it answers 'unknown',
 * never a false 'ok'.
 */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  { maxSteps = 5_000_000 }: { maxSteps?: number } = {},
): CheckReport<I, O> {
  const partitions = model.partition ? model.partition(ops) : [{ name: 'all', ops: [...ops] }];
  let steps = 0;
  let result: CheckResult = 'ok';
  let checked = 0;
  for (const partition of partitions) {
    const outcome = checkPartition(model, partition.ops, maxSteps - steps);
    steps += outcome.steps;
    checked += 1;
    if (outcome.result === 'illegal') {
      return {
        result: 'illegal',
        partitionsChecked: checked,
        steps,
        failure: { partition: partition.name, ...outcome.failure! },
      };
    }
    if (outcome.result === 'unknown') result = 'unknown';
  }
  return { result, partitionsChecked: checked, steps };
}

function buildEvents<I, O>(ops: readonly Operation<I, O>[]): Event | undefined {
  const events: Event[] = [];
  ops.forEach((op, i) => {
    const call: Event = {
      op: i,
      isCall: true,
      time: op.call,
      prev: undefined,
      next: undefined,
      match: undefined,
    };
    const ret: Event = {
      op: i,
      isCall: false,
      time: op.return,
      prev: undefined,
      next: undefined,
      match: undefined,
    };
    call.match = ret;
    events.push(call, ret);
  });
  // Calls sort before returns at equal times: such operations count as concurrent.
  events.sort(
    (a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1),
  );
  const sentinel: Event = {
    op: -1,
    isCall: false,
    time: -Infinity,
    prev: undefined,
    next: undefined,
    match: undefined,
  };
  let last = sentinel;
  for (const event of events) {
    last.next = event;
    event.prev = last;
    last = event;
  }
  return sentinel;
}

/** Removes a call and its return from the list (the operation is linearized). */
function lift(call: Event): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Puts a call and its return back, exactly where they were. */
function unlift(call: Event): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  stepBudget: number,
): { result: CheckResult; steps: number; failure?: Omit<PartitionFailure<I, O>, 'partition'> } {
  const head = buildEvents(ops)!;
  const linearized = new Bitset(ops.length);
  const cache = new Set<string>();
  const stack: { call: Event; state: S }[] = [];
  let state = model.init();
  let entry = head.next;
  let steps = 0;
  let longest: number[] = [];
  while (head.next !== undefined) {
    if (++steps > stepBudget) return { result: 'unknown', steps };
    if (entry === undefined) break;
    if (entry.isCall) {
      const op = ops[entry.op];
      const outcome = model.step(state, op.input, op.output);
      if (outcome.ok) {
        linearized.set(entry.op);
        const key = `${linearized.key()}|${model.key(outcome.next)}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ call: entry, state });
          state = outcome.next;
          lift(entry);
          if (stack.length > longest.length) longest = stack.map((s) => s.call.op);
          entry = head.next;
          continue;
        }
        linearized.clear(entry.op);
      }
      entry = entry.next;
      continue;
    }
    // A return whose call is not linearized yet: undo the last choice.
    const top = stack.pop();
    if (top === undefined) {
      const placed = new Set(longest);
      return {
        result: 'illegal',
        steps,
        failure: {
          linearized: longest.map((i) => ops[i]),
          remaining: ops.filter((_, i) => !placed.has(i)).sort((a, b) => a.call - b.call),
        },
      };
    }
    state = top.state;
    linearized.clear(top.call.op);
    unlift(top.call);
    entry = top.call.next;
  }
  return { result: 'ok', steps };
}
