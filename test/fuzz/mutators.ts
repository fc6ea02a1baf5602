import fc from 'fast-check';

/**
 * Input generators shared by the fuzz targets. Random bytes alone rarely get past a version
 * byte or a checksum; mutations of valid encodings reach the deep code paths, so most inputs are
 * a valid encoding with a few edits: bit flips, truncation, insertion, deletion, duplication, and
 * big-endian integers written over any offset (a length field set to 2^32-1 or to its bound + 1).
 */

/** u32 values that sit on the edges of our length and count checks. */
const EDGE_U32 = [
  0, 1, 2, 0x3f, 0x40, 0x41, 0x7f, 0x80, 0xff, 0x100, 0x400, 0x401, 0xffff, 0x10000, 0x100000,
  0x100001, 0x1000000, 0x1000001, 0x4000000, 0x4000001, 0x7fffffff, 0x80000000, 0xfffffffe,
  0xffffffff,
];

export type ByteMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'duplicate'; at: number; count: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'u64'; at: number; high: number; low: number };

const edgeU32 = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EDGE_U32) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 32 }),
  }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: edgeU32 }),
  fc.record({ kind: fc.constant('u64' as const), at: fc.nat(), high: edgeU32, low: edgeU32 }),
);

function writeU32(out: Uint8Array, at: number, value: number): void {
  for (let i = 0; i < 4 && at + i < out.length; i += 1)
    out[at + i] = (value >>> (24 - 8 * i)) & 0xff;
}

/** A real copy: Buffer#slice is a view, and encoders here return Buffers. */
const copyOf = (bytes: Uint8Array) => new Uint8Array(bytes);

/** Applies one mutation to a copy; offsets wrap around the current length. */
export function applyMutation(input: Uint8Array, mutation: ByteMutation): Uint8Array {
  const length = input.length;
  const at = length === 0 ? 0 : mutation.at % (length + 1);
  switch (mutation.kind) {
    case 'flip': {
      if (length === 0) return copyOf(input);
      const out = copyOf(input);
      out[mutation.at % length] ^= 1 << mutation.bit;
      return out;
    }
    case 'set': {
      if (length === 0) return copyOf(input);
      const out = copyOf(input);
      out[mutation.at % length] = mutation.value;
      return out;
    }
    case 'truncate':
      return copyOf(input.subarray(0, length === 0 ? 0 : mutation.at % length));
    case 'insert':
      return concat(input.subarray(0, at), mutation.bytes, input.subarray(at));
    case 'delete':
      return concat(input.subarray(0, at), input.subarray(at + mutation.count));
    case 'duplicate':
      return concat(input.subarray(0, at + mutation.count), input.subarray(at));
    case 'u32': {
      const out = copyOf(input);
      writeU32(out, at, mutation.value);
      return out;
    }
    case 'u64': {
      const out = copyOf(input);
      writeU32(out, at, mutation.high);
      writeU32(out, at + 4, mutation.low);
      return out;
    }
  }
}

export function applyMutations(input: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  return mutations.reduce(applyMutation, input);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const mutations = fc.array(byteMutation, { minLength: 1, maxLength: 5 });

/** A valid encoding with one to five edits. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, mutations).map(([bytes, edits]) => applyMutations(bytes, edits));
}

/**
 * Inputs for a binary decoder: mostly mutations of valid encodings, some unmodified valid ones
 * (so the accepting path is checked too), some random bytes, and a crossover of two encodings.
 */
export function binaryInputs(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: mutated(valid) },
    { weight: 1, arbitrary: valid },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, valid, fc.nat(), fc.nat())
        .map(([a, b, i, j]) =>
          concat(a.subarray(0, i % (a.length + 1)), b.subarray(j % (b.length + 1))),
        ),
    },
  );
}

export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/* ---------------------------------------------------------------------------------------------
 * JSON inputs. A mutation works on the tree of a valid document: replace any node by an
 * interesting value, delete it, or add a key. Serialization is ours so that "deep nesting"
 * nodes can stand for 10^4-deep arrays, which JSON.stringify itself could not print.
 * ------------------------------------------------------------------------------------------- */

/** Stands for `depth` nested arrays around `inner`; printed by toJsonText. */
export class DeepNesting {
  constructor(
    readonly depth: number,
    readonly inner: unknown = 0,
  ) {}
}

/** Stands for an array of `count` copies of `item`, printed without building it twice. */
export class Repeated {
  constructor(
    readonly count: number,
    readonly item: unknown,
  ) {}
}

/** Serializes generated documents (finite depth) including DeepNesting and Repeated nodes. */
export function toJsonText(value: unknown): string {
  if (value instanceof DeepNesting)
    return `${'['.repeat(value.depth)}${toJsonText(value.inner)}${']'.repeat(value.depth)}`;
  if (value instanceof Repeated) {
    const item = toJsonText(value.item);
    return `[${Array.from({ length: value.count }, () => item).join(',')}]`;
  }
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .map((k) => `${JSON.stringify(k)}:${toJsonText((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  // JSON has no undefined, NaN or Infinity: what a peer could send instead is null.
  return JSON.stringify(value) ?? 'null';
}

/** Strings that break naive lookups and validations. */
export const TRICKY_STRINGS = [
  '',
  ' ',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '\u0000',
  '\n',
  '../..',
  '%00',
  '\ud800',
  '😀',
  'a'.repeat(64),
  'a'.repeat(65),
  'b'.repeat(129),
  'c'.repeat(1025),
];

const TRICKY_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  2 ** 31,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e308,
  -1e308,
  5e-324,
];

/** Scalars and small shapes a decoder should refuse or handle. */
export function trickyValue(extraStrings: readonly string[] = []): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom<unknown>(...TRICKY_NUMBERS, true, false, null, [], {}, ...TRICKY_STRINGS),
    fc.constantFrom<unknown>(...(extraStrings.length > 0 ? extraStrings : ['x'])),
    fc.jsonValue({ maxDepth: 2 }),
    fc.integer({ min: 1_000, max: 50_000 }).map((depth) => new DeepNesting(depth)),
    fc.integer({ min: 1_000, max: 20_000 }).map((count) => new Repeated(count, 0)),
  );
}

export type JsonMutation =
  | { kind: 'replace'; at: number; by: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'add-key'; at: number; key: string; value: unknown };

export function jsonMutation(extraStrings: readonly string[] = []): fc.Arbitrary<JsonMutation> {
  const value = trickyValue(extraStrings);
  const key = fc.oneof(
    fc.constantFrom(...TRICKY_STRINGS, ...extraStrings),
    fc.string({ maxLength: 8 }),
  );
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), by: value }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('add-key' as const), at: fc.nat(), key, value }),
    },
  );
}

interface Slot {
  parent: unknown[] | Record<string, unknown> | undefined;
  key: string | number;
  node: unknown;
}

function slots(root: unknown): Slot[] {
  const out: Slot[] = [{ parent: undefined, key: '', node: root }];
  for (let i = 0; i < out.length; i += 1) {
    const { node } = out[i];
    if (Array.isArray(node))
      node.forEach((child, k) => out.push({ parent: node, key: k, node: child }));
    else if (
      typeof node === 'object' &&
      node !== null &&
      !(node instanceof DeepNesting) &&
      !(node instanceof Repeated)
    )
      for (const k of Object.keys(node))
        out.push({
          parent: node as Record<string, unknown>,
          key: k,
          node: (node as Record<string, unknown>)[k],
        });
  }
  return out;
}

/** A deep copy of a generated document (plain data plus our marker nodes). */
function copy(value: unknown): unknown {
  if (value instanceof DeepNesting || value instanceof Repeated) return value;
  if (Array.isArray(value)) return value.map(copy);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: "__proto__" must become an own key, as JSON.parse makes it.
    for (const k of Object.keys(value))
      Object.defineProperty(out, k, {
        value: copy((value as Record<string, unknown>)[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

export function applyJsonMutations(document: unknown, edits: readonly JsonMutation[]): unknown {
  let root = copy(document);
  for (const edit of edits) {
    const all = slots(root);
    const slot = all[edit.at % all.length];
    if (edit.kind === 'replace') {
      if (slot.parent === undefined) root = edit.by;
      else if (Array.isArray(slot.parent)) slot.parent[slot.key as number] = edit.by;
      else setOwn(slot.parent, slot.key as string, edit.by);
    } else if (edit.kind === 'delete') {
      if (slot.parent === undefined) root = null;
      else if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
      else delete slot.parent[slot.key as string];
    } else if (Array.isArray(slot.node)) {
      slot.node.push(edit.value);
    } else if (
      typeof slot.node === 'object' &&
      slot.node !== null &&
      !(slot.node instanceof DeepNesting) &&
      !(slot.node instanceof Repeated)
    ) {
      setOwn(slot.node as Record<string, unknown>, edit.key, edit.value);
    }
  }
  return root;
}

/**
 * JSON texts for a decoder of JSON: valid documents, tree mutations of them (most inputs), byte
 * mutations of their text, random JSON and random text.
 */
export function jsonTexts(
  valid: fc.Arbitrary<unknown>,
  extraStrings: readonly string[] = [],
): fc.Arbitrary<string> {
  const edits = fc.array(jsonMutation(extraStrings), { minLength: 1, maxLength: 4 });
  return fc.oneof(
    { weight: 2, arbitrary: valid.map(toJsonText) },
    {
      weight: 6,
      arbitrary: fc.tuple(valid, edits).map(([doc, e]) => toJsonText(applyJsonMutations(doc, e))),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid.map(toJsonText), mutations)
        .map(([text, e]) =>
          Buffer.from(applyMutations(Buffer.from(text, 'utf8'), e)).toString('utf8'),
        ),
    },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
  );
}
