import type { ServerResponse } from 'node:http';
import type { WatchAlert, WatchCompacted } from '@parley/decision-api-contract';
import { Delivery, WatchSubscriber } from './watch-hub';
import { sse, WatchFilter, wants, wantsAlerts } from './watch-filter';

/** How long a closed watcher's unread bytes may hold its socket before it is cut. */
const CLOSE_GRACE_MS = 5_000;

/**
 * One `GET /v1/watch` connection: writes the events its filter wants, after its cursor, as
 * server-sent events. Its memory is bounded: what the client has not read yet stays in the
 * socket's buffer, and once that passes `bufferBytesMax` the watcher gets `overflow` and is
 * closed (it resumes with Last-Event-ID), so a slow reader never makes the process grow.
 */
export class WatchSession implements WatchSubscriber {
  /** The last index this watcher has: every event up to it was sent or filtered out. */
  private cursor: number;
  private open = true;
  /** Whether the 200 and its headers went out (before that, a refusal can still be a 410/503). */
  started = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly filter: WatchFilter,
    fromIndex: number | undefined,
    private readonly bufferBytesMax: number,
    private readonly onOverflow: () => void,
  ) {
    this.cursor = fromIndex ?? 0;
    response.on('close', () => (this.open = false));
  }

  get isOpen(): boolean {
    return this.open && !this.response.destroyed;
  }

  /** Sends the 200 and the event-stream headers, if not yet. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.response.statusCode = 200;
    this.response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.response.setHeader('Cache-Control', 'no-cache, no-transform');
    this.response.setHeader('Connection', 'keep-alive');
    // Proxies that buffer answers (nginx) would hold events back.
    this.response.setHeader('X-Accel-Buffering', 'no');
    this.response.flushHeaders();
    this.response.socket?.setNoDelay(true);
  }

  decisions(delivery: Delivery): void {
    if (!this.isOpen) return;
    const chunks: string[] = [];
    for (let i = 0; i < delivery.events.length; i += 1) {
      const event = delivery.events[i];
      if (event.index <= this.cursor || !wants(this.filter, event)) continue;
      chunks.push(delivery.frames[i]);
    }
    this.cursor = Math.max(this.cursor, delivery.upTo);
    if (chunks.length > 0) this.write(chunks.join(''));
  }

  alert(alert: WatchAlert): void {
    if (this.isOpen && wantsAlerts(this.filter)) this.write(sse.alert(alert));
  }

  heartbeat(): void {
    if (this.isOpen && this.started) this.write(sse.heartbeat);
  }

  compacted(compacted: WatchCompacted): void {
    if (!this.isOpen) return;
    this.start();
    this.close(sse.compacted(compacted));
  }

  private write(text: string): void {
    this.start();
    this.response.write(text);
    if (this.response.writableLength > this.bufferBytesMax) {
      this.onOverflow();
      this.close(sse.overflow(this.cursor));
    }
  }

  stop(): void {
    this.close();
    // What the client has not read would hold the socket, and the server's close with it.
    if (this.response.writableLength > 0) this.response.destroy();
  }

  /** Ends the stream with a last frame; a client that does not read it is cut after a grace. */
  close(lastFrame?: string): void {
    if (!this.open) return;
    this.open = false;
    this.response.end(lastFrame);
    setTimeout(() => this.response.destroy(), CLOSE_GRACE_MS).unref();
  }
}
