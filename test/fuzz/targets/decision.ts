import fc from 'fast-check';
import {
  Command,
  DecisionStateMachine,
  Policy,
  canonical,
  commandFingerprint,
  decodeCommand,
  decodeSnapshot,
  encodeCommand,
  encodeSnapshot,
} from '@parley/decision';
import { FuzzTarget, ensure } from '../harness';
import {
  applyJsonMutations,
  applyMutations,
  binaryInputs,
  concat,
  hex,
  jsonMutation,
  mutations,
  toJsonText,
} from '../mutators';

/**
 * The decision state machine's byte formats: commands as Raft log entries, and whole-state
 * snapshots (magic, version, CRC-32, canonical JSON). A restored state machine must be one that
 * works: it answers queries, applies commands (a clock tick closes its proposals), and encodes
 * to a snapshot that restores to the same bytes.
 */
const small = fc.constantFrom('a', 'b', 'c');
const qty = fc.integer({ min: 1, max: 20 });
const ts = fc.nat({ max: 10_000 });
export const validCommand: fc.Arbitrary<Command> = fc.oneof(
  fc.record(
    {
      type: fc.constant('kv.put' as const),
      requestId: fc.string({ minLength: 1, maxLength: 4 }),
      ts,
      key: small,
      value: fc.string({ maxLength: 8 }),
      ifVersion: fc.nat({ max: 3 }),
    },
    { requiredKeys: ['type', 'requestId', 'ts', 'key', 'value'] },
  ),
  fc.record({ type: fc.constant('kv.delete' as const), requestId: small, ts, key: small }),
  fc.record({
    type: fc.constant('inventory.restock' as const),
    requestId: small,
    ts,
    sku: small,
    quantity: qty,
  }),
  fc.record({
    type: fc.constant('inventory.reserve' as const),
    requestId: small,
    ts,
    sku: small,
    orderId: small,
    quantity: qty,
  }),
  fc.record({
    type: fc.constant('inventory.release' as const),
    requestId: small,
    ts,
    sku: small,
    orderId: small,
  }),
  fc.record({
    type: fc.constant('budget.set' as const),
    requestId: small,
    ts,
    campaign: small,
    limit: fc.nat({ max: 100 }),
  }),
  fc.record({
    type: fc.constant('budget.spend' as const),
    requestId: small,
    ts,
    campaign: small,
    bidId: small,
    amount: qty,
  }),
  fc.record({
    type: fc.constant('proposal.create' as const),
    requestId: small,
    ts,
    proposalId: small,
    options: fc.constant<string[]>(['x', 'y']),
    policy: fc.constantFrom<Policy>(
      { kind: 'majority', voters: ['1', '2', '3'], deadlineMs: 100, onDeadline: 'plurality' },
      { kind: 'unanimous', quorum: 2, deadlineMs: 50, onDeadline: 'reject' },
      { kind: 'weighted', threshold: 5, deadlineMs: 500, onDeadline: { default: 'y' } },
      { kind: 'threshold', threshold: 60, quorum: 3, deadlineMs: 10, onDeadline: 'plurality' },
    ),
  }),
  fc.record(
    {
      type: fc.constant('proposal.vote' as const),
      requestId: fc.string({ minLength: 1, maxLength: 4 }),
      ts,
      proposalId: small,
      agentId: fc.constantFrom('1', '2', '3'),
      option: fc.constantFrom('x', 'y', 'z'),
      weight: qty,
    },
    { requiredKeys: ['type', 'requestId', 'ts', 'proposalId', 'agentId', 'option'] },
  ),
  fc.record({ type: fc.constant('clock' as const), ts }),
  fc.record({ type: fc.constant('mirror.cursor' as const), ts, index: fc.nat({ max: 100 }) }),
);

const COMMAND_WORDS = [
  'type',
  'requestId',
  'ts',
  'kv.put',
  'proposal.create',
  'policy',
  'voters',
  'onDeadline',
  'default',
];

const commandBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 2, arbitrary: binaryInputs(validCommand.map((c) => encodeCommand(c, 'binary'))) },
  { weight: 1, arbitrary: binaryInputs(validCommand.map((c) => encodeCommand(c, 'json'))) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(validCommand, fc.array(jsonMutation(COMMAND_WORDS), { minLength: 1, maxLength: 3 }))
      .map(([command, edits]) =>
        concat(Uint8Array.of(1), Buffer.from(toJsonText(applyJsonMutations(command, edits)))),
      ),
  },
);

export const decisionCommandTarget: FuzzTarget<Uint8Array> = {
  name: 'decision-command',
  arbitrary: commandBytes,
  execute(bytes) {
    const decoded = decodeCommand(bytes);
    if (!decoded.ok) {
      ensure(
        typeof decoded.error === 'string' && decoded.error.length > 0,
        'an empty command error',
      );
      return;
    }
    // A command the log accepted is one the state machine applies without throwing.
    new DecisionStateMachine().apply(1, decoded.command);
    // The binary form carries the session table's fingerprint: the encoder writes the
    // command's own. (A decoder takes what the log holds, as it takes the command.)
    const reencoded = decodeCommand(encodeCommand(decoded.command, 'binary'));
    if (reencoded.ok && reencoded.print !== undefined) {
      const own = commandFingerprint(decoded.command);
      ensure(
        reencoded.print[0] === own[0] && reencoded.print[1] === own[1],
        "the binary form carries another fingerprint than the command's own",
      );
    }
    for (const format of ['binary', 'json'] as const) {
      const again = decodeCommand(encodeCommand(decoded.command, format));
      ensure(
        again.ok &&
          canonical(again.command) === canonical(decoded.command) &&
          again.command.ts === decoded.command.ts,
        `a decoded command does not survive a re-encode as ${format}`,
      );
    }
  },
};

/* --------------------------------------------------------------------------------------------
 * Snapshots.
 * ------------------------------------------------------------------------------------------ */
const MAGIC = Uint8Array.from([0x50, 0x52, 0x4c, 0x59, 0x44, 0x53, 0x4d]);

/** The IEEE CRC-32 the snapshot envelope uses (libs/decision/src/fnv.ts). */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A version-2 snapshot envelope around any payload, with a correct checksum. */
function envelope(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(MAGIC.length + 5 + payload.length);
  out.set(MAGIC, 0);
  out[MAGIC.length] = 2;
  new DataView(out.buffer).setUint32(MAGIC.length + 1, crc32(payload));
  out.set(payload, MAGIC.length + 5);
  return out;
}

/** A version-2 payload split into its JSON part and the session columns after it. */
function jsonAndColumns(snapshot: Uint8Array): { json: Uint8Array; columns: Uint8Array } {
  const payload = snapshot.subarray(MAGIC.length + 5);
  const length = new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
  return { json: payload.subarray(4, 4 + length), columns: payload.subarray(4 + length) };
}

/** A version-2 payload of a JSON text and session columns. */
function payloadOf(json: Uint8Array, columns: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + json.length + columns.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.set(columns, 4 + json.length);
  return out;
}

const machine = fc.array(validCommand, { maxLength: 16 }).map((commands) => {
  const sm = new DecisionStateMachine();
  commands.forEach((c, i) => sm.apply(i + 1, c));
  return sm;
});

const SNAPSHOT_WORDS = [
  'logTime',
  'mirroredIndex',
  'kv',
  'graves',
  'inventory',
  'budgets',
  'proposals',
  'sessions',
  'live',
  'past',
  'whole',
  'open',
  'decided',
  'expired',
];

type SnapshotInput = { resealed: boolean; original: Uint8Array; bytes: Uint8Array };

const snapshotInput: fc.Arbitrary<SnapshotInput> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.tuple(machine, fc.option(mutations, { nil: undefined })).map(([sm, edits]) => {
      const original = encodeSnapshot(sm);
      return {
        resealed: false,
        original,
        bytes: edits ? applyMutations(original, edits) : original,
      };
    }),
  },
  {
    // Damage to the JSON, then a recomputed checksum: reaches the validation of every field.
    weight: 4,
    arbitrary: fc
      .tuple(machine, fc.array(jsonMutation(SNAPSHOT_WORDS), { minLength: 1, maxLength: 3 }))
      .map(([sm, edits]) => {
        const original = encodeSnapshot(sm);
        const { json, columns } = jsonAndColumns(original);
        const state: unknown = JSON.parse(Buffer.from(json).toString('utf8'));
        const mutated = Buffer.from(toJsonText(applyJsonMutations(state, edits)));
        return { resealed: true, original, bytes: envelope(payloadOf(mutated, columns)) };
      }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(machine, mutations).map(([sm, edits]) => {
      const original = encodeSnapshot(sm);
      return {
        resealed: true,
        original,
        bytes: envelope(applyMutations(original.subarray(MAGIC.length + 5), edits)),
      };
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 128 })
      .map((bytes) => ({ resealed: true, original: bytes, bytes })),
  },
);

export const decisionSnapshotTarget: FuzzTarget<SnapshotInput> = {
  name: 'decision-snapshot',
  arbitrary: snapshotInput,
  execute({ resealed, original, bytes }) {
    const decoded = decodeSnapshot(bytes);
    if (!decoded.ok) {
      ensure(
        typeof decoded.error === 'string' && decoded.error.length > 0,
        'an empty snapshot error',
      );
      ensure(
        resealed || hex(bytes) !== hex(original),
        `a valid snapshot was refused: ${decoded.error}`,
      );
      return;
    }
    if (!resealed) ensure(hex(bytes) === hex(original), 'a damaged snapshot passed its checksum');
    const sm = decoded.sm;
    // Restored state encodes, and restores to the same bytes (canonical form).
    const encoded = encodeSnapshot(sm);
    const again = decodeSnapshot(encoded);
    ensure(again.ok, `a restored state machine does not restore again: ${again.ok || again.error}`);
    ensure(hex(encodeSnapshot(again.sm)) === hex(encoded), 'a restored snapshot is not a fixpoint');
    // ...and works: every entity answers, and a clock tick past every deadline closes proposals.
    for (const key of sm.kv.entries.keys()) sm.query({ type: 'kv.get', key });
    for (const sku of sm.inventory.skus.keys()) sm.query({ type: 'inventory.get', sku });
    for (const campaign of sm.budgets.campaigns.keys()) sm.query({ type: 'budget.get', campaign });
    for (const proposalId of sm.proposals.proposals.keys())
      sm.query({ type: 'proposal.get', proposalId });
    sm.apply(Number.MAX_SAFE_INTEGER - 1, {
      type: 'clock',
      ts: Math.min(Number.MAX_SAFE_INTEGER, sm.logTime + 1e12),
    });
  },
};
