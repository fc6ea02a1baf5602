import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { assert } from '@parley/common';
import { DecisionEvent, EventWindow } from '@parley/decision';
import type { WatchAlert, WatchCompacted } from '@parley/decision-api-contract';
import { WATCH_EVENTS_MAX } from '@parley/command-log-api';
import { backoffDelayMs } from '@parley/resilience';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { sse } from './watch-filter';

/** Events in log order after what the hub had, and how far they cover (the entries in between decided nothing). */
export interface Delivery {
  events: readonly DecisionEvent[];
  /** `events[i]` as its SSE frame, made once for every watcher. */
  frames: readonly string[];
  upTo: number;
}

/** One watcher as the hub sees it (a WatchSession for an SSE connection). */
export interface WatchSubscriber {
  decisions(delivery: Delivery): void;
  alert(alert: WatchAlert): void;
  /** The hub lost the range the subscriber stood in: it must resync and is let go. */
  compacted(compacted: WatchCompacted): void;
  heartbeat(): void;
  /** The process is stopping: end the stream now (the client resumes elsewhere). */
  stop(): void;
}

export interface WatchHubOptions {
  /** Recent events kept here, so a watcher joins the live stream without asking a replica. */
  recentEventsMax: number;
  /** Longest wait of one long poll at a replica (below the RPC timeout). */
  pollWaitMs: number;
  heartbeatMs: number;
  /** Watchers this process serves at once (PARLEY_WATCH_WATCHERS_MAX). */
  watchersMax: number;
  /** Bytes a watcher may leave unread before it gets `overflow` (PARLEY_WATCH_BUFFER_BYTES_MAX). */
  bufferBytesMax: number;
}

export type JoinOutcome =
  | { status: 'joined' }
  | { status: 'compacted'; compactedIndex: number }
  | { status: 'closed' }
  | { status: 'unavailable'; detail: string };

const delivery = (events: readonly DecisionEvent[], upTo: number): Delivery => ({
  events,
  frames: events.map(sse.decision),
  upTo,
});

/**
 * The one stream of decisions this decision-api follows, fanned out to every watcher: a single
 * long poll at one replica (any replica serves it, so a leader change or a replica crash only
 * moves the poll; the index cursor makes the move exact), a bounded window of recent events,
 * and the heartbeat. A watcher resuming from further back is caught up from the replicas'
 * rings first, then joins the live stream at the window without a gap or a duplicate.
 *
 * Other parts of decision-api publish operational alerts to every watcher with publishAlert().
 */
@Injectable()
export class WatchHub implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WatchHub');
  private window: EventWindow;
  private readonly subscribers = new Set<WatchSubscriber>();
  private admitted = 0;
  private running = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private readyWaiters: (() => void)[] = [];

  constructor(
    private readonly client: CommandLogClient,
    readonly options: WatchHubOptions,
  ) {
    this.window = new EventWindow(options.recentEventsMax);
  }

  onApplicationBootstrap(): void {
    if (!this.client.configured) return;
    this.running = true;
    void this.tail();
    this.heartbeat = setInterval(() => {
      for (const subscriber of this.subscribers) subscriber.heartbeat();
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Before the HTTP server closes: it would wait for every open stream to end. */
  beforeApplicationShutdown(): void {
    this.running = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const subscriber of [...this.subscribers]) subscriber.stop();
  }

  // ---- the extension point ---------------------------------------------------------------

  /** Sends an operational alert (`event: alert`) to every watcher that takes alerts. */
  publishAlert(alert: WatchAlert): void {
    for (const subscriber of this.subscribers) subscriber.alert(alert);
  }

  // ---- watchers ----------------------------------------------------------------------------

  /** Takes a watcher slot, or false when the process serves as many as it may (503). */
  admit(): boolean {
    if (this.admitted >= this.options.watchersMax) return false;
    this.admitted += 1;
    return true;
  }

  /** Gives back the slot admit() took (once per admitted watcher) and stops delivering to it. */
  release(subscriber: WatchSubscriber): void {
    this.subscribers.delete(subscriber);
    this.admitted -= 1;
    assert(this.admitted >= 0, 'a watcher slot was given back twice');
  }

  get watchers(): number {
    return this.admitted;
  }

  /** The newest decisions this process has seen, newest first (the dashboard's list). */
  recent(count: number): DecisionEvent[] {
    return this.window.newest(count);
  }

  /**
   * Delivers the events after `afterIndex` (absent: from now on) to the subscriber, then live
   * ones. Older events than the window holds come from the replicas first; `isOpen` stops the
   * catch-up of a watcher that went away.
   */
  async join(
    subscriber: WatchSubscriber,
    afterIndex: number | undefined,
    isOpen: () => boolean,
  ): Promise<JoinOutcome> {
    if (!(await this.ready()))
      return { status: 'unavailable', detail: 'no command-log replica answered the watch' };
    let cursor = afterIndex ?? this.window.last!;
    for (let stalls = 0; ;) {
      if (!isOpen()) return { status: 'closed' };
      const fromWindow = this.window.read(cursor, Number.MAX_SAFE_INTEGER);
      if (fromWindow.status === 'ok') {
        // No await between the read and the subscription: no event can fall between them.
        if (fromWindow.events.length > 0)
          subscriber.decisions(delivery(fromWindow.events, fromWindow.upTo));
        this.subscribers.add(subscriber);
        return { status: 'joined' };
      }
      let answer;
      try {
        // A replica that has nothing after the cursor yet is behind: let it wait a little.
        answer = await this.client.watchEvents({
          afterIndex: cursor,
          waitMs: stalls > 0 ? 200 : 0,
          eventsMax: WATCH_EVENTS_MAX,
        });
      } catch (error) {
        return { status: 'unavailable', detail: (error as Error).message };
      }
      if (answer.status === 'compacted') return answer;
      if (answer.status === 'rejected') return { status: 'unavailable', detail: answer.reason };
      if (answer.events.length > 0 && isOpen())
        subscriber.decisions(delivery(answer.events, answer.upTo));
      stalls = answer.upTo > cursor ? 0 : stalls + 1;
      if (stalls > 50)
        return { status: 'unavailable', detail: 'no replica caught up with the watch' };
      cursor = answer.upTo;
    }
  }

  /** Resolves true once the hub knows where the log is (its first poll answered), false after a while. */
  private ready(): Promise<boolean> {
    if (this.window.last !== undefined) return Promise.resolve(true);
    if (!this.running) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      this.readyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  // ---- the one stream from the replicas ------------------------------------------------------

  /**
   * The long poll, for as long as the process runs. A failure, a refusal or a lost range backs
   * off (exponentially, with jitter) before the next poll, so a replica in trouble is never
   * hammered.
   */
  private async tail(): Promise<void> {
    for (let failures = 0; this.running;) {
      let trouble: string;
      try {
        const answer = await this.client.watchEvents({
          afterIndex: this.window.last,
          waitMs: this.options.pollWaitMs,
          eventsMax: WATCH_EVENTS_MAX,
        });
        if (answer.status === 'ok') {
          this.advance(answer.events, answer.upTo);
          failures = 0;
          continue;
        }
        if (answer.status === 'compacted') this.lostRange(answer.compactedIndex);
        trouble =
          answer.status === 'rejected' ? answer.reason : `compacted at ${answer.compactedIndex}`;
      } catch (error) {
        trouble = (error as Error).message;
      }
      failures += 1;
      if (failures === 1) this.logger.warn(`watch: ${trouble}; retrying`);
      const delayMs = backoffDelayMs(failures, { delayMsBase: 50, delayMsMax: 2_000 }, Math.random);
      await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    }
  }

  private advance(events: readonly DecisionEvent[], upTo: number): void {
    if (this.window.last === undefined) {
      this.window.restartAfter(upTo);
      for (const wake of this.readyWaiters.splice(0)) wake();
      return;
    }
    if (upTo <= this.window.last) return;
    this.window.append(events, upTo);
    // The hub tails every decision whether or not anyone watches (the window serves joins and
    // the dashboard); the SSE frames are made only for watchers.
    if (this.subscribers.size === 0) return;
    const batch = delivery(events, upTo);
    for (const subscriber of this.subscribers) subscriber.decisions(batch);
  }

  /**
   * Every replica dropped the events after the hub's cursor (this process could not reach them
   * for longer than their rings last): its watchers must resync, and the hub starts over.
   */
  private lostRange(compactedIndex: number): void {
    this.logger.warn(
      `watch: the replicas no longer hold index ${this.window.last}; watchers resync`,
    );
    const compacted = { compactedIndex, resyncFrom: compactedIndex };
    for (const subscriber of [...this.subscribers]) subscriber.compacted(compacted);
    // Let go: each gives its slot back when its connection closes (release).
    this.subscribers.clear();
    this.window = new EventWindow(this.options.recentEventsMax);
  }
}
