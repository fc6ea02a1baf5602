import { z } from 'zod';
import { nonNegativeIntegerParam } from './schemas';

/**
 * The one outcome shape of a strong command (libs/decision's `decisionEvents` makes them): the
 * `data` of a `decision` event on `GET /v1/watch` and the value of a `decisions` record on
 * Kafka. `result` is the body the synchronous REST route answers.
 */
export const DECISION_EVENT = z.object({
  index: z.int().min(1),
  type: z.string().min(1),
  entity: z.string().min(1),
  requestId: z.string().min(1).optional(),
  result: z.record(z.string(), z.unknown()),
  decidedBy: z.enum(['command', 'deadline']),
});

export type DecisionEventData = z.output<typeof DECISION_EVENT>;

/**
 * The resume point is older than what the replicas retain: read the state again (any strong
 * read at or after `resyncFrom`) and watch again with `fromIndex=resyncFrom`.
 */
export const WATCH_COMPACTED = z.object({
  compactedIndex: z.int().min(0),
  resyncFrom: z.int().min(0),
});

export type WatchCompacted = z.output<typeof WATCH_COMPACTED>;

/** An operational alert on the watch (quorum lost, outbox filling up...): `kind` says which. */
export const WATCH_ALERT = z.looseObject({ kind: z.string().min(1) });

export type WatchAlert = z.output<typeof WATCH_ALERT>;

/** The SSE event names of `GET /v1/watch`. */
export const WATCH_EVENTS = {
  decision: 'decision',
  compacted: 'compacted',
  overflow: 'overflow',
  alert: 'alert',
} as const;

/** How many entity prefixes and types one watch may name (each a filter to test per event). */
export const WATCH_FILTERS_MAX = 32;

const commaList = (what: string) =>
  z
    .string()
    .transform((raw) => raw.split(',').filter((part) => part.length > 0))
    .refine((parts) => parts.length <= WATCH_FILTERS_MAX, {
      error: `must name at most ${WATCH_FILTERS_MAX} ${what}, separated by commas`,
    })
    .refine((parts) => parts.every((part) => part.length <= 300), {
      error: `must name ${what} of at most 300 characters each`,
    })
    .optional();

/** The query of `GET /v1/watch`. */
export const WATCH_QUERY = z.strictObject({
  prefix: commaList('entity prefixes').meta({
    description:
      'only events whose entity starts with one of these (comma-separated), e.g. ' +
      '`inventory/` or `kv/colour,proposals/p1`',
  }),
  types: commaList('event types').meta({
    description:
      'only events of these types (comma-separated), e.g. `inventory.reserve,proposal.decided`',
  }),
  fromIndex: nonNegativeIntegerParam(
    'the last index already seen: events after it are sent (Last-Event-ID says the same); ' +
      'without either, the watch starts at the newest applied entry',
  ),
});

export type WatchQuery = z.output<typeof WATCH_QUERY>;
