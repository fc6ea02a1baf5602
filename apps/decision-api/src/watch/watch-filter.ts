import type { DecisionEvent } from '@parley/decision';
import type { WatchAlert, WatchCompacted } from '@parley/decision-api-contract';

/** What one watcher asked for: entity prefixes and event types (absent: all). */
export interface WatchFilter {
  prefixes?: readonly string[];
  types?: readonly string[];
}

/** Does the watcher want this decision? */
export function wants(filter: WatchFilter, event: DecisionEvent): boolean {
  if (filter.types && filter.types.length > 0 && !filter.types.includes(event.type)) return false;
  if (!filter.prefixes || filter.prefixes.length === 0) return true;
  return filter.prefixes.some((prefix) => event.entity.startsWith(prefix));
}

/** Alerts go to every watcher unless its `types` leave `alert` out. */
export function wantsAlerts(filter: WatchFilter): boolean {
  return !filter.types || filter.types.length === 0 || filter.types.includes('alert');
}

/**
 * Server-sent event frames (the WHATWG event-stream format). JSON never holds a raw newline,
 * so one `data:` line carries it whole.
 */
export const sse = {
  decision: (event: DecisionEvent) =>
    `event: decision\nid: ${event.index}\ndata: ${JSON.stringify(event)}\n\n`,
  compacted: (compacted: WatchCompacted) =>
    `event: compacted\ndata: ${JSON.stringify(compacted)}\n\n`,
  overflow: (lastIndex: number) => `event: overflow\ndata: ${JSON.stringify({ lastIndex })}\n\n`,
  alert: (alert: WatchAlert) => `event: alert\ndata: ${JSON.stringify(alert)}\n\n`,
  heartbeat: ': heartbeat\n\n',
} as const;

/** The resume point a request names: `fromIndex` wins over `Last-Event-ID`. */
export function resumePoint(
  fromIndex: number | undefined,
  lastEventId: string | undefined,
): { ok: true; index: number | undefined } | { ok: false; error: string } {
  if (fromIndex !== undefined) return { ok: true, index: fromIndex };
  if (lastEventId === undefined || lastEventId === '') return { ok: true, index: undefined };
  if (!/^\d{1,15}$/.test(lastEventId))
    return { ok: false, error: 'Last-Event-ID must be a Raft index (a non-negative integer)' };
  return { ok: true, index: Number(lastEventId) };
}
