import {
  DECISION_EVENT,
  DecisionEventData,
  WATCH_ALERT,
  WATCH_COMPACTED,
  WATCH_EVENTS,
  WatchAlert,
} from '@parley/decision-api-contract';
import { ParleyCompacted, ParleyError, ParleyNotFound } from './errors';
import { backoffDelayMs } from '@parley/resilience';
import { SseParser } from './sse';
import { pause } from './pause';
import type { Transport } from './transport';
import type { BackoffOptions } from './retry-policy';

/**
 * The decision stream (`GET /v1/watch`) as an async iterator that resumes itself: after any
 * disconnect (an endpoint killed, a proxy timeout, an `overflow` close, silence past the
 * heartbeat timeout) it reconnects, through failover and back-off, from the last index it
 * yielded, so the caller sees every committed decision once, in log order, with no gap.
 */
export type DecisionEvent = DecisionEventData;

export interface WatchOptions {
  /** Only entities starting with this, or one of these (`inventory/`, `proposals/p1`). */
  prefix?: string | string[];
  /** Only these command types (`inventory.reserve`, `proposal.decided`, …). */
  types?: string[];
  /**
   * The last index already seen: events after it are delivered. Without it the stream starts
   * at the present (and a disconnect before the first event may skip what was decided then).
   */
  fromIndex?: number;
  signal?: AbortSignal;
  onAlert?: (alert: WatchAlert) => void;
  /** Called each time the stream is (re)connected, before its first event. */
  onConnected?: () => void;
  /** Reconnect when nothing (not even a heartbeat) arrived for this long. */
  silenceMsMax?: number;
}

export interface WatchSettings {
  backoff: BackoffOptions;
  random: () => number;
  silenceMsMax: number;
  /** Reconnections in a row without any event before giving up (the last error is thrown). */
  reconnectsMax: number;
}

export async function* watchDecisions(
  transport: Transport,
  settings: WatchSettings,
  options: WatchOptions = {},
): AsyncGenerator<DecisionEvent, void, undefined> {
  let last = options.fromIndex;
  let failures = 0;
  const silenceMsMax = options.silenceMsMax ?? settings.silenceMsMax;
  while (!options.signal?.aborted) {
    const connection = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, connection.signal])
      : connection.signal;
    let progressed = false;
    let lastError: unknown;
    try {
      const { response } = await transport.open({
        method: 'GET',
        path: watchPath(options, last),
        headers: {
          accept: 'text/event-stream',
          ...(last !== undefined ? { 'last-event-id': String(last) } : {}),
        },
        safety: 'read',
        signal,
      });
      options.onConnected?.();
      const parser = new SseParser();
      const decoder = new TextDecoder();
      let silence = setTimeout(() => connection.abort(), silenceMsMax);
      try {
        for await (const chunk of response.body! as AsyncIterable<Uint8Array>) {
          clearTimeout(silence);
          silence = setTimeout(() => connection.abort(), silenceMsMax);
          let closing = false;
          for (const event of parser.push(decoder.decode(chunk, { stream: true }))) {
            if (event.event === WATCH_EVENTS.decision) {
              const decision = DECISION_EVENT.parse(JSON.parse(event.data));
              // Never twice: a resumed stream starts after `last`; this guards against a server
              // that would not. Within one stream several events may share an index (deadline
              // decisions before the entry's own outcome), so only an older one is skipped there.
              if (last !== undefined && decision.index < last) continue;
              if (last !== undefined && decision.index === last && !progressed) continue;
              last = decision.index;
              progressed = true;
              failures = 0;
              yield decision;
            } else if (event.event === WATCH_EVENTS.compacted) {
              const { compactedIndex, resyncFrom } = WATCH_COMPACTED.parse(JSON.parse(event.data));
              throw new ParleyCompacted(
                `the watch's resume point ${last} is compacted (up to ${compactedIndex}); resync from ${resyncFrom}`,
                compactedIndex,
                resyncFrom,
              );
            } else if (event.event === WATCH_EVENTS.overflow) {
              closing = true; // too slow: resume from `last` on a fresh connection
            } else if (event.event === WATCH_EVENTS.alert) {
              options.onAlert?.(WATCH_ALERT.parse(JSON.parse(event.data)));
            }
          }
          if (closing) break;
        }
      } finally {
        clearTimeout(silence);
        connection.abort();
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      // Refusals that no reconnection changes: compaction, an unknown route, a bad key.
      if (
        error instanceof ParleyCompacted ||
        error instanceof ParleyNotFound ||
        (error instanceof ParleyError &&
          error.status !== undefined &&
          error.status < 500 &&
          error.status !== 429)
      )
        throw error;
      lastError = error;
    }
    if (options.signal?.aborted) return;
    if (!progressed) failures += 1;
    if (failures > settings.reconnectsMax)
      throw lastError ?? new Error(`the watch closed ${failures} times in a row without an event`);
    await pause(backoffDelayMs(failures, settings.backoff, settings.random), options.signal);
  }
}

function watchPath(options: WatchOptions, last: number | undefined): string {
  const query = new URLSearchParams();
  const prefixes = [options.prefix ?? []].flat();
  if (prefixes.length) query.set('prefix', prefixes.join(','));
  if (options.types?.length) query.set('types', options.types.join(','));
  if (last !== undefined) query.set('fromIndex', String(last));
  const text = query.toString();
  return `/v1/watch${text ? `?${text}` : ''}`;
}
