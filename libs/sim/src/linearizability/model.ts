import { Operation } from './history';

/**
 * A sequential specification. `step` says whether applying `input` in `state` may produce
 * `output` (undefined: unknown, anything goes) and what the next state is.
 */
export interface Model<S, I, O> {
  init(): S;
  step(state: S, input: I, output: O | undefined): { ok: boolean; next: S };
  /** A canonical string for a state: equal strings mean equal states (for the cache). */
  key(state: S): string;
  /** P-compositionality: split a history into independent sub-histories (e.g. by key). */
  partition?(ops: readonly Operation<I, O>[]): { name: string; ops: Operation<I, O>[] }[];
  describe(input: I, output: O | undefined): string;
}
