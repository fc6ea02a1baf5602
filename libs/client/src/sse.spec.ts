import { SseParser, SSE_LINE_CHARS_MAX } from './sse';

describe('the event-stream parser', () => {
  it('dispatches an event at the blank line, with its type, data and id', () => {
    const parser = new SseParser();
    expect(parser.push('event: decision\nid: 7\ndata: {"index":7}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'decision', id: '7', data: '{"index":7}' }]);
  });

  it('joins data lines with newlines and reads CRLF and CR line ends alike', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r\ndata: b\r\n\r\ndata:c\r\rdata: d\n\n')).toEqual([
      { event: 'message', data: 'a\nb' },
      { event: 'message', data: 'c' },
      { event: 'message', data: 'd' },
    ]);
  });

  it('reassembles an event split anywhere across chunks, a CRLF split in two included', () => {
    const text = 'event: decision\r\nid: 12\r\ndata: {"x":1}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut += 1) {
      const parser = new SseParser();
      const events = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect(events).toEqual([{ event: 'decision', id: '12', data: '{"x":1}' }]);
    }
  });

  it('skips comments (heartbeats) and keeps the last id for later events', () => {
    const parser = new SseParser();
    expect(parser.push(': heartbeat\n\nid: 3\ndata: x\n\n: heartbeat\ndata: y\n\n')).toEqual([
      { event: 'message', id: '3', data: 'x' },
      { event: 'message', id: '3', data: 'y' },
    ]);
  });

  it('dispatches a named event without data (overflow) but not an empty unnamed one', () => {
    const parser = new SseParser();
    expect(parser.push('\n\nevent: overflow\n\n')).toEqual([{ event: 'overflow', data: '' }]);
  });

  it('refuses a line longer than its bound instead of buffering without limit', () => {
    const parser = new SseParser();
    expect(() => parser.push(`data: ${'x'.repeat(SSE_LINE_CHARS_MAX)}`)).toThrow(/exceeds/);
  });
});
