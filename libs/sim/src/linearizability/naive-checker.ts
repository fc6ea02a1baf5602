import { Operation } from './history';
import { Model } from './model';

/**
 * The definition, by brute force: some order of all operations that respects real time
 * (a before b whenever a returned before b was called) is legal for the model. Only for tiny
 * histories; tests compare the real checker against it.
 */
export function naiveLinearizable<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
): boolean {
  const partitions = model.partition ? model.partition(ops) : [{ name: 'all', ops: [...ops] }];
  return partitions.every((partition) => naivePartition(model, partition.ops));
}

function naivePartition<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): boolean {
  if (ops.length > 8) throw new Error('the naive checker is for histories of at most 8 operations');
  const used = new Array<boolean>(ops.length).fill(false);
  const search = (state: S, placed: number): boolean => {
    if (placed === ops.length) return true;
    for (let i = 0; i < ops.length; i += 1) {
      if (used[i]) continue;
      // i may go next only if no unplaced operation returned before i was called.
      const blocked = ops.some((other, j) => !used[j] && j !== i && other.return < ops[i].call);
      if (blocked) continue;
      const outcome = model.step(state, ops[i].input, ops[i].output);
      if (!outcome.ok) continue;
      used[i] = true;
      if (search(outcome.next, placed + 1)) return true;
      used[i] = false;
    }
    return false;
  };
  return search(model.init(), 0);
}
