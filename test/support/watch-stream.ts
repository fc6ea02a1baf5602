import { request, IncomingMessage, ClientRequest } from 'node:http';
import { TEST_KEYS } from './api-keys';
import { waitFor } from './wait';

/** One server-sent event as a client sees it. */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/**
 * A `GET /v1/watch` stream read with node:http (as a browser's EventSource would: frames split
 * on blank lines, `:` lines are comments), every event and comment kept for assertions.
 */
export class WatchStream {
  readonly events: SseEvent[] = [];
  comments = 0;
  status = 0;
  headers: IncomingMessage['headers'] = {};
  body = '';
  ended = false;
  private buffer = '';
  private response: IncomingMessage | undefined;

  private constructor(private readonly request: ClientRequest) {}

  /** Opens a watch; resolves once the answer's status line has arrived. */
  static open(
    port: number,
    query = '',
    headers: Record<string, string> = {},
    role: keyof typeof TEST_KEYS = 'reader',
  ): Promise<WatchStream> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: `/v1/watch${query}`,
        headers: { authorization: `Bearer ${TEST_KEYS[role]}`, ...headers },
        agent: false,
      });
      const stream = new WatchStream(req);
      req.on('response', (response) => {
        stream.response = response;
        stream.status = response.statusCode ?? 0;
        stream.headers = response.headers;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => stream.take(chunk));
        response.on('end', () => (stream.ended = true));
        response.on('close', () => (stream.ended = true));
        response.on('error', () => (stream.ended = true));
        resolve(stream);
      });
      req.on('error', (error) => {
        stream.ended = true;
        reject(error);
      });
      req.end();
    });
  }

  /** The decision events' data, parsed. */
  decisions<T = Record<string, unknown>>(): (T & { index: number })[] {
    return this.events.filter((e) => e.event === 'decision').map((e) => JSON.parse(e.data));
  }

  /** The id of the last event that had one (what EventSource sends as Last-Event-ID). */
  get lastEventId(): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i -= 1)
      if (this.events[i].id !== undefined) return this.events[i].id;
    return undefined;
  }

  /** Stops reading (the socket stays open): the server's buffer for this watcher fills up. */
  pause(): void {
    this.response?.pause();
  }

  resume(): void {
    this.response?.resume();
  }

  close(): void {
    this.request.destroy();
    this.ended = true;
  }

  async waitForDecisions(count: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `${count} decision events (have ${this.decisions().length})`,
      () => (this.decisions().length >= count ? true : undefined),
      { timeoutMs, intervalMs: 20 },
    );
  }

  private take(chunk: string): void {
    if (this.status !== 200) {
      this.body += chunk;
      return;
    }
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = { event: 'message', data: '' };
      let comment = false;
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) comment = true;
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('data: ')) event.data += line.slice(6);
      }
      if (comment && event.data === '' && event.event === 'message') this.comments += 1;
      else this.events.push(event);
    }
  }
}
