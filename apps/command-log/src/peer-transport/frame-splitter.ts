/**
 * Splits a TCP byte stream into length-prefixed frames ([u32 length][body]). A length above
 * the bound is an error (the connection is closed), so a peer cannot make us buffer without
 * limit.
 */
export class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly frameBytesMax: number) {}

  /** Feeds bytes; returns complete frames, or an error string for an oversized frame. */
  push(data: Buffer): { frames: Buffer[] } | { error: string } {
    this.chunks.push(data);
    this.buffered += data.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length > this.frameBytesMax)
        return { error: `frame of ${length} bytes exceeds ${this.frameBytesMax}` };
      if (this.buffered < 4 + length) break;
      const all = this.take(4 + length);
      frames.push(all.subarray(4));
    }
    return { frames };
  }

  private peek(count: number): Buffer {
    if (this.chunks[0].length >= count) return this.chunks[0].subarray(0, count);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, count);
  }

  private take(count: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = joined.subarray(0, count);
    const rest = joined.subarray(count);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= count;
    return out;
  }
}

export function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}
