/**
 * A Server-Sent Events parser (the WHATWG "event stream interpretation"), fed text as it comes
 * off the wire, with no EventSource: the client needs its own resume rules and headers.
 */
export interface SseEvent {
  /** `message` when the event names no type. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far (SSE's "last event ID"), if any. */
  id?: string;
}

/** Lines longer than this end the stream as malformed: a bound on what one event may buffer. */
export const SSE_LINE_CHARS_MAX = 1_048_576;

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private lastId: string | undefined;
  /** A `\r` ended the last chunk: a `\n` opening the next one belongs to it. */
  private pendingCr = false;

  /** The events completed by this chunk, in order. */
  push(chunk: string): SseEvent[] {
    if (this.pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.pendingCr = false;
    this.buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const at = this.buffer.search(/[\r\n]/);
      if (at < 0) break;
      const line = this.buffer.slice(0, at);
      let next = at + 1;
      if (this.buffer[at] === '\r') {
        if (at + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[at + 1] === '\n') next = at + 2;
      }
      this.buffer = this.buffer.slice(next);
      const event = this.line(line);
      if (event) events.push(event);
    }
    if (this.buffer.length > SSE_LINE_CHARS_MAX)
      throw new Error(`an event-stream line exceeds ${SSE_LINE_CHARS_MAX} characters`);
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // a comment: heartbeats
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const named = this.event;
    const data = this.data;
    this.event = '';
    this.data = [];
    // The standard drops an event without data; a named one (`event: overflow`) still counts.
    if (data.length === 0 && named === '') return undefined;
    const event = named || 'message';
    return {
      event,
      data: data.join('\n'),
      ...(this.lastId !== undefined ? { id: this.lastId } : {}),
    };
  }
}
