import fc from 'fast-check';
import { validateCommand } from '@parley/decision';
import { parseCrdtBatch } from '@parley/crdt';
import { parseAgentEvent } from '../../../apps/decision-api/src/kafka/agent-event';
import { FuzzTarget, ensure } from '../harness';
import { applyMutations, jsonTexts, mutations } from '../mutators';

/**
 * Records of the `agent-events` Kafka topic (SPEC.md §4). A record that does not parse must
 * become a dead-letter reason; a throw here would make kafkajs redeliver the record forever
 * and stop the partition (the consumer only dead-letters `{ok: false}` answers).
 */
const TYPES = [
  'reserve',
  'release',
  'restock',
  'spend',
  'vote',
  'propose',
  'increment',
  'set-add',
  'set-remove',
  'flag',
];
const FIELDS = [
  'type',
  'requestId',
  'sku',
  'orderId',
  'quantity',
  'campaign',
  'bidId',
  'amount',
  'proposalId',
  'agentId',
  'option',
  'weight',
  'options',
  'policy',
  'name',
  'delta',
  'element',
  'value',
];

const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,15}$/);
const requestId = fc.string({ minLength: 1, maxLength: 16 });
const quantity = fc.integer({ min: 1, max: 1000 });

/** Valid records of every type (field values drawn so that most also validate). */
const validEvent: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ type: fc.constant('reserve'), requestId, sku: name, orderId: name, quantity }),
  fc.record({ type: fc.constant('release'), requestId, sku: name, orderId: name }),
  fc.record({ type: fc.constant('restock'), requestId, sku: name, quantity }),
  fc.record({
    type: fc.constant('spend'),
    requestId,
    campaign: name,
    bidId: name,
    amount: quantity,
  }),
  fc.record(
    {
      type: fc.constant('vote'),
      requestId,
      proposalId: name,
      agentId: name,
      option: name,
      weight: quantity,
    },
    { requiredKeys: ['type', 'requestId', 'proposalId', 'agentId', 'option'] },
  ),
  fc.record({
    type: fc.constant('propose'),
    requestId,
    proposalId: name,
    options: fc.constant(['yes', 'no']),
    policy: fc.constantFrom(
      { kind: 'majority', quorum: 3, deadlineMs: 1000, onDeadline: 'reject' },
      { kind: 'weighted', threshold: 10, deadlineMs: 60_000, onDeadline: { default: 'no' } },
    ),
  }),
  fc.record({
    type: fc.constant('increment'),
    requestId,
    name,
    delta: fc.integer({ min: -5, max: 5 }),
  }),
  fc.record({
    type: fc.constantFrom('set-add', 'set-remove'),
    requestId,
    name,
    element: fc.string({ maxLength: 8 }),
  }),
  fc.record({ type: fc.constant('flag'), requestId, name, value: fc.jsonValue({ maxDepth: 2 }) }),
);

const recordBytes: fc.Arbitrary<Buffer | null> = fc.oneof(
  {
    weight: 8,
    arbitrary: jsonTexts(validEvent, [...TYPES, ...FIELDS]).map((text) =>
      Buffer.from(text, 'utf8'),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(validEvent, mutations)
      .map(([event, edits]) =>
        Buffer.from(applyMutations(Buffer.from(JSON.stringify(event)), edits)),
      ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 128 }).map((bytes) => Buffer.from(bytes)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, Buffer.alloc(0), Buffer.alloc(256 * 1024 + 1, 0x20)),
  },
);

export const agentEventTarget: FuzzTarget<Buffer | null> = {
  name: 'agent-event',
  arbitrary: recordBytes,
  execute(value) {
    const parsed = parseAgentEvent(value);
    if (!parsed.ok) {
      ensure(
        typeof parsed.reason === 'string' && parsed.reason.length > 0,
        'an empty dead-letter reason',
      );
      return;
    }
    ensure(typeof parsed.entity === 'string', 'an accepted event without an entity');
    const { effect } = parsed;
    if (effect.kind === 'strong') {
      // What goes to the Raft log must be a command the state machine accepts.
      const validated = validateCommand({ ...effect.command, ts: 0 });
      ensure(
        validated.ok,
        `an accepted event is not a valid command: ${validated.ok || validated.errors.join('; ')}`,
      );
    } else {
      // What goes to the crdt replica must be a write it accepts (else it would be refused
      // after the record was taken, instead of dead-lettered with its reason).
      const checked = parseCrdtBatch({
        source: 's/0',
        from: 0,
        through: 0,
        writes: [effect.write],
      });
      ensure(
        checked.ok,
        `an accepted event is a write the crdt refuses: ${JSON.stringify(checked)}`,
      );
      ensure(
        effect.requestId.length >= 1 && effect.requestId.length <= 128,
        'a bad request id got through',
      );
    }
  },
};
