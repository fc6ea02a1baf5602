/**
 * Bounds-checked binary readers and writers for our frame and record formats. Every read
 * checks the remaining length and throws `DecodeError`, which decoders turn into an error
 * value; nothing here allocates more than the input it was given.
 */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly input: Uint8Array) {
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  get remaining(): number {
    return this.input.length - this.offset;
  }

  private need(count: number, what: string): void {
    if (count < 0 || this.offset + count > this.input.length) {
      throw new DecodeError(`truncated input reading ${what} at byte ${this.offset}`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.offset++);
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  /** An unsigned integer up to 2^53-1, stored as two big-endian u32 halves. */
  u53(what: string): number {
    const high = this.u32(what);
    const low = this.u32(what);
    if (high > 0x1fffff) throw new DecodeError(`${what} exceeds 2^53`);
    return high * 0x100000000 + low;
  }

  bytes(what: string, maxLength: number): Uint8Array {
    const length = this.u32(`${what} length`);
    if (length > maxLength)
      throw new DecodeError(`${what} of ${length} bytes exceeds ${maxLength}`);
    this.need(length, what);
    const out = this.input.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  string(what: string, maxLength: number): string {
    const raw = this.bytes(what, maxLength);
    try {
      return textDecoder.decode(raw);
    } catch {
      throw new DecodeError(`${what} is not valid UTF-8`);
    }
  }

  end(what: string): void {
    if (this.remaining !== 0)
      throw new DecodeError(`${this.remaining} trailing bytes after ${what}`);
  }
}

export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(initialCapacity = 256) {
    this.buffer = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buffer.buffer);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): this {
    this.ensure(1);
    this.view.setUint8(this.length++, value);
    return this;
  }

  u32(value: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, value);
    this.length += 4;
    return this;
  }

  u53(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a u53: ${value}`);
    return this.u32(Math.floor(value / 0x100000000)).u32(value >>> 0);
  }

  bytes(value: Uint8Array): this {
    this.u32(value.length);
    this.ensure(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** Appends bytes with no length prefix. */
  raw(value: Uint8Array): this {
    this.ensure(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  string(value: string): this {
    return this.bytes(textEncoder.encode(value));
  }

  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}
