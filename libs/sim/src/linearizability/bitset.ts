/** A fixed-size bit set with a string key, for the checker's cache of visited configurations. */
export class Bitset {
  private readonly words: Uint32Array;

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32) || 1);
  }

  set(i: number): void {
    this.words[i >>> 5] |= 1 << (i & 31);
  }

  clear(i: number): void {
    this.words[i >>> 5] &= ~(1 << (i & 31));
  }

  key(): string {
    let out = '';
    for (const word of this.words) out += word.toString(36) + ',';
    return out;
  }
}
