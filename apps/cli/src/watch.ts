import { CliError, EXIT, exitCodeOf } from './exit-codes';
import type { CommandContext, Outcome } from './commands';

/** One server-sent event: its name, id and data (the WHATWG event-stream format). */
export interface ServerSentEvent {
  event: string;
  id?: string;
  data: string;
}

/**
 * Splits an event stream into events as chunks arrive: frames end at a blank line, `:` lines
 * are comments (heartbeats), `data:` lines join with newlines.
 */
export class EventStreamParser {
  private buffer = '';

  /** The events completed by this chunk. The buffer is bounded by one frame. */
  push(chunk: string): ServerSentEvent[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const events: ServerSentEvent[] = [];
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: ServerSentEvent = { event: 'message', data: '' };
      const data: string[] = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length === 0) continue; // a comment-only frame (heartbeat) or an id only
      event.data = data.join('\n');
      events.push(event);
    }
    return events;
  }
}

/** One decision event as a line: index, type, entity, outcome, and who decided it. */
export function decisionLine(data: Record<string, unknown>): string {
  const result = (data.result ?? {}) as Record<string, unknown>;
  const status =
    typeof result.status === 'string'
      ? result.status
      : typeof result.title === 'string'
        ? result.title
        : 'ok';
  const outcome = typeof result.outcome === 'string' ? ` (${result.outcome})` : '';
  const by = data.decidedBy === 'deadline' ? '  [deadline]' : '';
  return `${String(data.index)}  ${String(data.type)}  ${String(data.entity)}  ${status}${outcome}${by}`;
}

/** Pauses before reconnecting after a dropped stream (the watch resumes from the last id). */
const RECONNECT_DELAY_MS = 1_000;
const RECONNECTS_MAX = 30;

/**
 * `parley watch [--prefix P] [--types T] [--from N] [--count N]`: prints decisions as they are
 * committed, one line each (JSON lines with --json). A dropped stream is resumed from the last
 * index printed (Last-Event-ID); `compacted` ends the command (exit 4), naming where to resync.
 */
export async function watch(context: CommandContext): Promise<Outcome> {
  const query = new URLSearchParams();
  for (const name of ['prefix', 'types'] as const) {
    const value = context.options[name];
    if (typeof value === 'string') query.set(name, value);
  }
  const from = context.options.from;
  if (from !== undefined && (typeof from !== 'string' || !/^\d+$/.test(from)))
    throw new CliError('--from must be a whole number (the last index already seen)', EXIT.usage);
  const countRaw = context.options.count;
  const count = countRaw === undefined ? Infinity : Number(countRaw);
  if (!Number.isSafeInteger(count) && count !== Infinity)
    throw new CliError('--count must be a whole number', EXIT.usage);
  const json = context.options.json === true;
  let lastId = typeof from === 'string' ? from : undefined;
  let printed = 0;
  for (let reconnects = 0; reconnects <= RECONNECTS_MAX; reconnects += 1) {
    const ended = await streamOnce(context, query, lastId, (event) => {
      if (event.id !== undefined) lastId = event.id;
      if (event.event === 'compacted')
        throw new CliError(`the resume point is compacted: ${event.data}`, EXIT.rejected);
      if (event.event === 'decision') {
        const data = JSON.parse(event.data) as Record<string, unknown>;
        process.stdout.write(`${json ? event.data : decisionLine(data)}\n`);
        printed += 1;
      } else if (event.event === 'alert') process.stdout.write(`alert ${event.data}\n`);
      return printed < count;
    });
    if (ended === 'done') break;
    if (ended === 'received') reconnects = 0;
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
  }
  // Every event went out as it came; nothing is left to print at the end.
  return { text: '', json: undefined, printed: true };
}

/**
 * One stream, until it ends or `onEvent` says enough: 'done' (enough), 'received' (ended after
 * some events), 'nothing' (ended or failed before any).
 */
async function streamOnce(
  context: CommandContext,
  query: URLSearchParams,
  lastId: string | undefined,
  onEvent: (event: ServerSentEvent) => boolean,
): Promise<'done' | 'received' | 'nothing'> {
  const controller = new AbortController();
  let response: Response;
  try {
    response = await fetch(new URL(`/v1/watch?${query}`, context.client.baseUrl), {
      headers: {
        accept: 'text/event-stream',
        ...(context.client.key ? { authorization: `Bearer ${context.client.key}` } : {}),
        ...(lastId !== undefined ? { 'last-event-id': lastId } : {}),
      },
      signal: controller.signal,
    });
  } catch {
    return 'nothing';
  }
  if (response.status !== 200) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string };
    if (response.status === 410)
      throw new CliError(`the resume point is compacted: ${problem.detail ?? ''}`, EXIT.rejected);
    const exitCode = exitCodeOf(response.status);
    // Overloaded or no replica: worth another try; anything else is the caller's to fix.
    if (exitCode === EXIT.unavailable) return 'nothing';
    throw new CliError(`watch answered ${response.status}: ${problem.detail ?? ''}`, exitCode);
  }
  const parser = new EventStreamParser();
  const decoder = new TextDecoder();
  const reader = response.body!.getReader();
  let received = false;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      for (const event of parser.push(decoder.decode(chunk.value, { stream: true }))) {
        received = true;
        if (!onEvent(event)) return 'done';
      }
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    // the connection dropped: resume from the last id
  } finally {
    // Cancelling the body closes the connection; a stream left open keeps the process alive.
    await reader.cancel().catch(() => undefined);
    controller.abort();
  }
  return received ? 'received' : 'nothing';
}
