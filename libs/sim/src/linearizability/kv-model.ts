import { Model } from './model';
import { Operation } from './history';

export type KvInput =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'get'; key: string }
  | { kind: 'cas'; key: string; expected: string | null; value: string };

export type KvOutput = { ok: boolean } | { value: string | null };

/** A register per key (a missing key reads as null), with put, get and compare-and-set. */
export const kvModel: Model<string | null, KvInput, KvOutput> = {
  init: () => null,
  step(state, input, output) {
    switch (input.kind) {
      case 'put':
        return {
          ok: output === undefined || (output as { ok: boolean }).ok === true,
          next: input.value,
        };
      case 'get':
        return {
          ok: output === undefined || (output as { value: string | null }).value === state,
          next: state,
        };
      case 'cas': {
        const matches = state === input.expected;
        const reported = output === undefined ? undefined : (output as { ok: boolean }).ok;
        return {
          ok: reported === undefined || reported === matches,
          next: matches ? input.value : state,
        };
      }
    }
  },
  key: (state) => (state === null ? '\u0000null' : state),
  partition(ops) {
    const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
    for (const op of ops) {
      const list = byKey.get(op.input.key) ?? [];
      list.push(op);
      byKey.set(op.input.key, list);
    }
    return [...byKey.keys()].sort().map((name) => ({ name, ops: byKey.get(name)! }));
  },
  describe(input, output) {
    const out = output === undefined ? '?' : JSON.stringify(output);
    if (input.kind === 'put') return `put(${input.key}, ${input.value}) -> ${out}`;
    if (input.kind === 'get') return `get(${input.key}) -> ${out}`;
    return `cas(${input.key}, ${String(input.expected)} => ${input.value}) -> ${out}`;
  },
};
