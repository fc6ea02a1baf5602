import { Command } from './commands';

type Stamped = Exclude<Command, { type: 'clock' } | { type: 'mirror.cursor' }>;
type Result = Record<string, unknown>;

/**
 * A remembered result in a few bytes: a retry carries the same body as the first request (its
 * fingerprint matched), so every field the command itself holds (key, value, sku, campaign,
 * option) is rebuilt from the retry, the log index from the session, and what the command
 * cannot know (versions, stock, remaining budget) from two numbers. A form is one shape of
 * result; a result that matches no form exactly (same fields, same order, same values) is kept
 * whole instead, so a replay is always byte-identical to the first answer.
 */
interface ResultForm {
  type: Stamped['type'];
  args(result: Result): [number, number];
  build(command: never, index: number, a: number, b: number): Result;
}

/** The code of a result kept whole (no form fits it). */
export const WHOLE_RESULT = 0;

const num = (value: unknown) => (typeof value === 'number' ? value : 0);
const VOTE_STATUS = ['open', 'decided', 'expired'] as const;
/** A vote's outcome as a number: absent, null, or the option the vote itself named. */
const outcomeCode = (result: Result, option: string | undefined) =>
  !('outcome' in result) ? 0 : result.outcome === null ? 1 : result.outcome === option ? 2 : 3;
const outcomeOf = (code: number, option: string) =>
  code === 0 ? {} : { outcome: code === 1 ? null : option };

type Of<T extends Stamped['type']> = Extract<Stamped, { type: T }>;
const form = <T extends Stamped['type']>(
  type: T,
  args: (result: Result) => [number, number],
  build: (command: Of<T>, index: number, a: number, b: number) => Result,
): ResultForm => ({ type, args, build: build as ResultForm['build'] });

const stock = (r: Result): [number, number] => [num(r.available), num(r.reserved)];
const noArgs = (): [number, number] => [0, 0];

const FORMS: ResultForm[] = [
  form(
    'kv.put',
    (r) => [num(r.version), 0],
    (c, index, version) => ({
      status: 'ok',
      key: c.key,
      value: c.value,
      version,
      index,
    }),
  ),
  form(
    'kv.put',
    (r) => [num(r.currentVersion), 0],
    (c, _index, currentVersion) => ({
      status: 'conflict',
      key: c.key,
      currentVersion,
    }),
  ),
  form(
    'kv.delete',
    (r) => [num(r.version), 0],
    (c, index, version) => ({
      status: 'ok',
      key: c.key,
      version,
      index,
    }),
  ),
  form('kv.delete', noArgs, (c) => ({ status: 'not-found', key: c.key })),
  form(
    'kv.delete',
    (r) => [num(r.currentVersion), 0],
    (c, _index, currentVersion) => ({
      status: 'conflict',
      key: c.key,
      currentVersion,
    }),
  ),
  form('inventory.restock', stock, (c, index, available, reserved) => ({
    status: 'ok',
    sku: c.sku,
    available,
    reserved,
    index,
  })),
  form('inventory.reserve', stock, (c, index, available, reserved) => ({
    status: 'accepted',
    sku: c.sku,
    available,
    reserved,
    index,
  })),
  ...(['out-of-stock', 'unknown-sku', 'order-exists'] as const).map((reason) =>
    form('inventory.reserve', stock, (c, index, available) => ({
      status: 'rejected',
      reason,
      sku: c.sku,
      available,
      index,
    })),
  ),
  form('inventory.release', stock, (c, index, available, reserved) => ({
    status: 'released',
    sku: c.sku,
    available,
    reserved,
    index,
  })),
  form('inventory.release', noArgs, (c) => ({ status: 'not-found', sku: c.sku })),
  form(
    'budget.set',
    (r) => [num(r.limit), num(r.spent)],
    (c, index, limit, spent) => ({
      status: 'ok',
      campaign: c.campaign,
      limit,
      spent,
      remaining: Math.max(0, limit - spent),
      index,
    }),
  ),
  form(
    'budget.spend',
    (r) => [num(r.remaining), 0],
    (c, index, remaining) => ({
      status: 'accepted',
      campaign: c.campaign,
      remaining,
      index,
    }),
  ),
  ...(['over-budget', 'unknown-campaign', 'bid-exists'] as const).map((reason) =>
    form(
      'budget.spend',
      (r) => [num(r.remaining), 0],
      (c, index, remaining) => ({
        status: 'rejected',
        reason,
        campaign: c.campaign,
        remaining,
        index,
      }),
    ),
  ),
  form('proposal.create', noArgs, (c, index) => ({
    status: 'open',
    proposalId: c.proposalId,
    index,
  })),
  form('proposal.create', noArgs, (c, index) => ({
    status: 'conflict',
    reason: 'exists',
    proposalId: c.proposalId,
    index,
  })),
  ...[
    undefined,
    'unknown-proposal',
    'not-open',
    'not-a-voter',
    'unknown-option',
    'already-voted',
  ].map((reason) =>
    form(
      'proposal.vote',
      (r) => [VOTE_STATUS.indexOf(r.status as 'open'), 0], // the outcome: see compactResult
      (c, index, status, outcome) => ({
        counted: reason === undefined,
        status: VOTE_STATUS[status],
        ...outcomeOf(outcome, c.option),
        ...(reason === undefined ? {} : { reason }),
        index,
      }),
    ),
  ),
];

/** Forms by command type, each with its code (1 + its place in FORMS). */
const FORMS_BY_TYPE = new Map<string, [number, ResultForm][]>();
FORMS.forEach((f, i) => {
  const list = FORMS_BY_TYPE.get(f.type) ?? [];
  list.push([i + 1, f]);
  FORMS_BY_TYPE.set(f.type, list);
});
export const RESULT_CODES_MAX = FORMS.length;

/** Same own fields in the same order with identical primitive values. */
function sameFlat(a: Result, b: Result): boolean {
  const keys = Object.keys(a);
  const other = Object.keys(b);
  if (keys.length !== other.length) return false;
  return keys.every((k, i) => other[i] === k && a[k] === b[k]);
}

/** The form code and numbers of `result`, or WHOLE_RESULT when it must be kept whole. */
export function compactResult(
  command: Stamped,
  index: number,
  result: unknown,
): { code: number; a: number; b: number } {
  if (typeof result !== 'object' || result === null || Array.isArray(result))
    return { code: WHOLE_RESULT, a: 0, b: 0 };
  const r = result as Result;
  for (const [code, f] of FORMS_BY_TYPE.get(command.type) ?? []) {
    const [a, args1] = f.args(r);
    // A vote's outcome naming another option than its own is kept whole.
    const b = command.type === 'proposal.vote' ? outcomeCode(r, command.option) : args1;
    if (command.type === 'proposal.vote' && (b === 3 || a < 0)) continue;
    if (sameFlat(f.build(command as never, index, a, b), r)) return { code, a, b };
  }
  return { code: WHOLE_RESULT, a: 0, b: 0 };
}

/**
 * The result a form code stands for, rebuilt from the retried command; undefined when the code
 * belongs to another command type (only a fingerprint collision can bring that about).
 */
export function expandResult(
  code: number,
  command: Stamped,
  index: number,
  a: number,
  b: number,
): Result | undefined {
  const f = FORMS[code - 1];
  if (!f || f.type !== command.type) return undefined;
  return f.build(command as never, index, a, b);
}
