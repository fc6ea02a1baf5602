import fc from 'fast-check';
import {
  CrdtKind,
  CrdtObject,
  JsonValue,
  LWWRegister,
  ORSet,
  PNCounter,
  decodeCrdt,
  emptyCrdt,
  mergeCrdt,
} from '@parley/crdt';
import { FuzzTarget, ensure } from '../harness';
import { jsonTexts, toJsonText } from '../mutators';

/**
 * The crdt codec on what a peer may send over the delta bus (JSON text, parsed, then decoded)
 * and what the replica joins into its store. Besides "a value or a clean error", what is
 * accepted must behave: joining it into an empty object and then again is idempotent, and the
 * joined state's canonical JSON (what the replica persists) decodes again to the same state.
 * Large shapes (thousands of dots, in any order) are generated on purpose: the decoder runs on
 * the event loop, so super-linear work on a 16 MiB message is a denial of service.
 */
const replica = fc.constantFrom('r1', 'r2', 'r3', 'node-a');
const element = fc.string({ maxLength: 6 });

const ops = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const), replica, element }),
    fc.record({
      kind: fc.constant('inc' as const),
      replica,
      amount: fc.integer({ min: -5, max: 5 }),
    }),
  ),
  { maxLength: 12 },
);

/** Real states: built by the types' own operations, then serialized as the bus does. */
const validState: fc.Arbitrary<{ kind: CrdtKind; state: unknown }> = fc.oneof(
  ops.map((steps) => {
    const counter = new PNCounter();
    for (const s of steps) if (s.kind === 'inc') counter.increment(s.replica, s.amount);
    return { kind: 'counter' as const, state: counter.toJSON() };
  }),
  ops.map((steps) => {
    const set = new ORSet();
    for (const s of steps)
      if (s.kind === 'add') set.add(s.replica, s.element);
      else if (s.kind === 'remove') set.remove(s.element);
    return { kind: 'set' as const, state: set.toJSON() };
  }),
  fc
    .record({
      value: fc.jsonValue({ maxDepth: 2 }),
      wallMs: fc.nat(),
      logical: fc.nat({ max: 5 }),
      node: replica,
    })
    .map(({ value, wallMs, logical, node }) => {
      const register = new LWWRegister();
      register.set(value as JsonValue, { wallMs, logical, node });
      return { kind: 'flag' as const, state: register.toJSON() };
    }),
);

/**
 * Sets whose causal context holds thousands of cloud dots, in a chosen order: runs that fold into
 * the vector (first counter 1, no gap) and runs that stay in the cloud (a gap, or a missing 1).
 */
const bigContext = fc
  .record({
    dots: fc.integer({ min: 1_000, max: 12_000 }),
    order: fc.constantFrom('ascending', 'descending', 'interleaved'),
    first: fc.constantFrom(1, 2),
    gap: fc.constantFrom(1, 2),
    replicas: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ dots, order, first, gap, replicas }) => {
    const cloud: { replica: string; counter: number }[] = [];
    for (let i = 0; i < dots; i += 1)
      cloud.push({ replica: `r${i % replicas}`, counter: first + gap * Math.floor(i / replicas) });
    if (order === 'descending') cloud.reverse();
    if (order === 'interleaved') cloud.sort((a, b) => (a.counter % 7) - (b.counter % 7));
    return { kind: 'set' as CrdtKind, state: { entries: [], context: { vector: [], cloud } } };
  });

/** Sets with many elements, each with a dot (work grows linearly: kept small for speed). */
const manyElements = fc.integer({ min: 500, max: 4_000 }).map((count) => {
  const entries: [string, { replica: string; counter: number }[]][] = [];
  for (let i = 0; i < count; i += 1) entries.push([`e${i}`, [{ replica: 'r1', counter: i + 1 }]]);
  return {
    kind: 'set' as CrdtKind,
    state: { entries, context: { vector: [['r1', count]], cloud: [] } },
  };
});

const KINDS = ['counter', 'set', 'flag'];
const FIELDS = [
  'p',
  'n',
  'entries',
  'context',
  'vector',
  'cloud',
  'replica',
  'counter',
  'value',
  'ts',
  'wallMs',
  'logical',
  'node',
];

export interface CrdtInput {
  kind: unknown;
  text: string;
}

const crdtInput: fc.Arbitrary<CrdtInput> = fc.oneof(
  {
    weight: 18,
    arbitrary: validState.chain(({ kind, state }) =>
      fc.record({
        kind: fc.oneof(
          { weight: 6, arbitrary: fc.constant(kind) },
          {
            weight: 1,
            arbitrary: fc.constantFrom<unknown>(...KINDS, 'bogus', '__proto__', null, 1),
          },
        ),
        text: jsonTexts(fc.constant(state), [...FIELDS, ...KINDS]),
      }),
    ),
  },
  {
    weight: 1,
    arbitrary: bigContext.map(({ kind, state }) => ({ kind, text: toJsonText(state) })),
  },
  {
    weight: 1,
    arbitrary: manyElements.map(({ kind, state }) => ({ kind, text: toJsonText(state) })),
  },
);

const canonical = (value: CrdtObject) => JSON.stringify(value.toJSON());

export const crdtCodecTarget: FuzzTarget<CrdtInput> = {
  name: 'crdt-codec',
  arbitrary: crdtInput,
  execute({ kind, text }) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return; // the delta bus drops what is not JSON before it reaches the codec
    }
    const decoded = decodeCrdt(kind, raw);
    if (!decoded.ok) {
      ensure(typeof decoded.error === 'string' && decoded.error.length > 0, 'an empty crdt error');
      return;
    }
    ensure(decoded.kind === kind, 'decoded as another kind');
    // The replica store's join: into a new object, then again (join is idempotent).
    const held = emptyCrdt(decoded.kind);
    mergeCrdt(held, decoded.value);
    const once = canonical(held);
    mergeCrdt(held, decoded.value);
    ensure(canonical(held) === once, 'joining the same state twice changed the object');
    // What the replica persists (toJSON) must load again, to the same state.
    const reloaded = decodeCrdt(decoded.kind, JSON.parse(once));
    ensure(reloaded.ok, `a joined state does not load again: ${reloaded.ok || reloaded.error}`);
    ensure(canonical(reloaded.value) === once, 'a joined state loads as another state');
  },
};
