/**
 * The commands of the decision state machine, and their strict validation. Commands arrive as
 * untrusted JSON (REST bodies, Kafka records, log entries): every field is checked, unknown
 * fields are refused, sizes are bounded, and every bad field is named.
 */
export const LIMITS = {
  keyBytesMax: 256,
  valueBytesMax: 64 * 1024,
  idLengthMax: 128,
  optionsMax: 64,
  votersMax: 10_000,
  quantityMax: 1_000_000_000,
  amountMax: Number.MAX_SAFE_INTEGER,
  deadlineMsMax: 365 * 24 * 3600 * 1000,
} as const;

export type OnDeadline = 'plurality' | 'reject' | { default: string };

export interface Policy {
  kind: 'majority' | 'threshold' | 'unanimous' | 'weighted';
  voters?: string[];
  /**
   * weighted only: each voter's weight, fixed by whoever creates the proposal. With it, the
   * voters are its keys, a vote weighs what the policy says, and a vote naming another weight
   * is not counted; without it, a vote's own `weight` counts (default 1), trusting the voter.
   */
  weights?: Record<string, number>;
  quorum?: number;
  threshold?: number;
  deadlineMs: number;
  onDeadline: OnDeadline;
}

export type Command =
  | {
      type: 'kv.put';
      requestId: string;
      ts: number;
      key: string;
      value: string;
      ifVersion?: number;
    }
  | { type: 'kv.delete'; requestId: string; ts: number; key: string; ifVersion?: number }
  | { type: 'inventory.restock'; requestId: string; ts: number; sku: string; quantity: number }
  | {
      type: 'inventory.reserve';
      requestId: string;
      ts: number;
      sku: string;
      orderId: string;
      quantity: number;
    }
  | { type: 'inventory.release'; requestId: string; ts: number; sku: string; orderId: string }
  | { type: 'budget.set'; requestId: string; ts: number; campaign: string; limit: number }
  | {
      type: 'budget.spend';
      requestId: string;
      ts: number;
      campaign: string;
      bidId: string;
      amount: number;
    }
  | {
      type: 'proposal.create';
      requestId: string;
      ts: number;
      proposalId: string;
      options: string[];
      policy: Policy;
    }
  | {
      type: 'proposal.vote';
      requestId: string;
      ts: number;
      proposalId: string;
      agentId: string;
      option: string;
      weight?: number;
    }
  | { type: 'clock'; ts: number }
  /** The leader records how far the Kafka mirror got, so every replica keeps the log behind it. */
  | { type: 'mirror.cursor'; ts: number; index: number };

export type Query =
  | { type: 'kv.get'; key: string }
  | { type: 'inventory.get'; sku: string }
  | { type: 'budget.get'; campaign: string }
  | { type: 'proposal.get'; proposalId: string };

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: string[] };

type Shape = Record<string, (value: unknown, name: string) => string | undefined>;

const utf8 = new TextEncoder();
/**
 * Whether `s` fits in `max` UTF-8 bytes. Every command is validated again when a replica applies
 * it (a million at a WAL replay), so the common case must not allocate: a UTF-16 code unit is
 * at most 3 UTF-8 bytes, and a surrogate pair (2 units) is 4.
 */
const fitsUtf8 = (s: string, max: number) =>
  s.length * 3 <= max || (s.length <= max && utf8.encode(s).length <= max);

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) if (value.charCodeAt(i) < 0x20) return true;
  return false;
}
const id = (value: unknown, name: string) =>
  typeof value !== 'string' ||
  value.length === 0 ||
  value.length > LIMITS.idLengthMax ||
  hasControlCharacter(value)
    ? `${name} must be a string of 1-${LIMITS.idLengthMax} printable characters`
    : undefined;
const key = (value: unknown, name: string) =>
  typeof value !== 'string' || value.length === 0 || !fitsUtf8(value, LIMITS.keyBytesMax)
    ? `${name} must be a non-empty string of at most ${LIMITS.keyBytesMax} bytes`
    : undefined;
const text = (value: unknown, name: string) =>
  typeof value !== 'string' || !fitsUtf8(value, LIMITS.valueBytesMax)
    ? `${name} must be a string of at most ${LIMITS.valueBytesMax} bytes`
    : undefined;
const int = (min: number, max: number) => (value: unknown, name: string) =>
  !Number.isSafeInteger(value) || (value as number) < min || (value as number) > max
    ? `${name} must be an integer from ${min} to ${max}`
    : undefined;
const optional =
  (check: (value: unknown, name: string) => string | undefined) =>
  (value: unknown, name: string) => (value === undefined ? undefined : check(value, name));
const timestamp = int(0, Number.MAX_SAFE_INTEGER);

function checkPolicy(value: unknown, name: string): string | undefined {
  if (!isPlainObject(value)) return `${name} must be an object`;
  const errors = checkShape(
    value,
    {
      kind: (v, n) =>
        ['majority', 'threshold', 'unanimous', 'weighted'].includes(v as string)
          ? undefined
          : `${n} must be majority, threshold, unanimous or weighted`,
      voters: optional((v, n) => {
        if (!Array.isArray(v) || v.length === 0 || v.length > LIMITS.votersMax)
          return `${n} must be a list of 1-${LIMITS.votersMax} agent ids`;
        if (v.some((x) => id(x, n) !== undefined)) return `${n} must hold agent ids`;
        return new Set(v).size === v.length ? undefined : `${n} must not repeat an agent`;
      }),
      weights: optional(checkWeights),
      quorum: optional(int(1, LIMITS.votersMax)),
      threshold: optional(int(1, Number.MAX_SAFE_INTEGER)),
      deadlineMs: int(1, LIMITS.deadlineMsMax),
      onDeadline: (v, n) => {
        if (v === 'plurality' || v === 'reject') return undefined;
        if (
          isPlainObject(v) &&
          Object.keys(v).length === 1 &&
          id(v.default, `${n}.default`) === undefined
        )
          return undefined;
        return `${n} must be "plurality", "reject" or {"default": option}`;
      },
    },
    name,
  );
  if (errors.length > 0) return errors.join('; ');
  const policy = value as unknown as Policy;
  if (!policy.voters && policy.quorum === undefined && policy.kind !== 'weighted') {
    return `${name}: ${policy.kind} needs voters or quorum`;
  }
  if (policy.kind === 'threshold' && (policy.threshold === undefined || policy.threshold > 100)) {
    return `${name}.threshold must be a percentage from 1 to 100 for kind threshold`;
  }
  if (policy.kind === 'weighted' && policy.threshold === undefined)
    return `${name}.threshold (total weight needed) is required for kind weighted`;
  if (policy.weights !== undefined && policy.kind !== 'weighted')
    return `${name}.weights is only for kind weighted`;
  if (policy.weights !== undefined && policy.voters !== undefined) {
    const weighted = Object.keys(policy.weights);
    const same =
      weighted.length === policy.voters.length && policy.voters.every((v) => v in policy.weights!);
    if (!same) return `${name}.voters must be exactly the agents of ${name}.weights`;
  }
  if (policy.weights !== undefined) {
    const total = Object.values(policy.weights).reduce((sum, w) => sum + w, 0);
    if (policy.threshold! > total)
      return `${name}.threshold ${policy.threshold} is more than all weights together (${total})`;
  }
  return undefined;
}

/** A vote's weight, from the policy or (without policy weights) from the vote. */
export const VOTE_WEIGHT_MAX = 1_000_000;

function checkWeights(value: unknown, name: string): string | undefined {
  if (!isPlainObject(value)) return `${name} must be an object of agent id to weight`;
  const entries = Object.entries(value);
  if (entries.length === 0 || entries.length > LIMITS.votersMax)
    return `${name} must weigh 1-${LIMITS.votersMax} agents`;
  for (const [agent, weight] of entries) {
    const bad = id(agent, `${name} key`) ?? int(1, VOTE_WEIGHT_MAX)(weight, `${name}.${agent}`);
    if (bad) return bad;
  }
  return undefined;
}

const shapes: Record<string, Shape> = {
  'kv.put': {
    requestId: id,
    ts: timestamp,
    key,
    value: text,
    ifVersion: optional(int(0, Number.MAX_SAFE_INTEGER)),
  },
  'kv.delete': {
    requestId: id,
    ts: timestamp,
    key,
    ifVersion: optional(int(0, Number.MAX_SAFE_INTEGER)),
  },
  'inventory.restock': {
    requestId: id,
    ts: timestamp,
    sku: id,
    quantity: int(1, LIMITS.quantityMax),
  },
  'inventory.reserve': {
    requestId: id,
    ts: timestamp,
    sku: id,
    orderId: id,
    quantity: int(1, LIMITS.quantityMax),
  },
  'inventory.release': { requestId: id, ts: timestamp, sku: id, orderId: id },
  'budget.set': { requestId: id, ts: timestamp, campaign: id, limit: int(0, LIMITS.amountMax) },
  'budget.spend': {
    requestId: id,
    ts: timestamp,
    campaign: id,
    bidId: id,
    amount: int(1, LIMITS.amountMax),
  },
  'proposal.create': {
    requestId: id,
    ts: timestamp,
    proposalId: id,
    options: (v, n) => {
      if (!Array.isArray(v) || v.length < 2 || v.length > LIMITS.optionsMax)
        return `${n} must be a list of 2-${LIMITS.optionsMax} options`;
      if (v.some((x) => id(x, n) !== undefined))
        return `${n} must hold option names of 1-${LIMITS.idLengthMax} characters`;
      return new Set(v).size === v.length ? undefined : `${n} must not repeat an option`;
    },
    policy: checkPolicy,
  },
  'proposal.vote': {
    requestId: id,
    ts: timestamp,
    proposalId: id,
    agentId: id,
    option: id,
    weight: optional(int(1, VOTE_WEIGHT_MAX)),
  },
  clock: { ts: timestamp },
  'mirror.cursor': { ts: timestamp, index: int(0, Number.MAX_SAFE_INTEGER) },
};

/** Each command type's fields, `type` included: a validated command holds no others. */
export const COMMAND_FIELDS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries(shapes).map(([type, shape]) => [type, ['type', ...Object.keys(shape)]]),
);

const queryShapes: Record<string, Shape> = {
  'kv.get': { key },
  'inventory.get': { sku: id },
  'budget.get': { campaign: id },
  'proposal.get': { proposalId: id },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** Each shape's checks as a list, made once: every replica checks every command it applies. */
const shapeChecks = new WeakMap<Shape, [string, Shape[string]][]>();

function checksOf(shape: Shape): [string, Shape[string]][] {
  let checks = shapeChecks.get(shape);
  if (checks === undefined) {
    checks = Object.entries(shape);
    shapeChecks.set(shape, checks);
  }
  return checks;
}

const NO_ERRORS: string[] = [];

function checkShape(value: Record<string, unknown>, shape: Shape, prefix = ''): string[] {
  let errors = NO_ERRORS;
  const fail = (error: string) => {
    if (errors === NO_ERRORS) errors = [];
    errors.push(error);
  };
  for (const name in value) {
    if (name === 'type' && prefix === '') continue;
    if (!Object.prototype.hasOwnProperty.call(shape, name))
      fail(`${prefix ? `${prefix}.${name}` : name} is not a known field`);
  }
  for (const [name, check] of checksOf(shape)) {
    const error = check(value[name], prefix ? `${prefix}.${name}` : name);
    if (error) fail(error);
  }
  return errors;
}

function validateWith<T>(raw: unknown, table: Record<string, Shape>, what: string): Validated<T> {
  if (!isPlainObject(raw)) return { ok: false, errors: [`${what} must be a JSON object`] };
  const type = raw.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(table, type)) {
    return { ok: false, errors: [`type must be one of ${Object.keys(table).join(', ')}`] };
  }
  const errors = checkShape(raw, table[type]);
  if (errors.length > 0) return { ok: false, errors };
  if (type === 'proposal.create') {
    const c = raw as unknown as Extract<Command, { type: 'proposal.create' }>;
    const def = typeof c.policy.onDeadline === 'object' ? c.policy.onDeadline.default : undefined;
    if (def !== undefined && !c.options.includes(def))
      return { ok: false, errors: ['policy.onDeadline.default must be one of options'] };
  }
  return { ok: true, value: raw as unknown as T };
}

export function validateCommand(raw: unknown): Validated<Command> {
  return validateWith<Command>(raw, shapes, 'a command');
}

export function validateQuery(raw: unknown): Validated<Query> {
  return validateWith<Query>(raw, queryShapes, 'a query');
}
