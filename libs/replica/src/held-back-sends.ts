import type { Message } from '@parley/raft';

/**
 * The replica's way to its peers, with one extra: messages that may wait until the answers to
 * clients are written. When a leader applies commits, the promise callbacks that write those
 * answers run only after the replica's synchronous work, so peer writes made during it (on this
 * VM ~50 µs of syscall each, two per commit) delay every answer. Held-back messages leave on
 * the next turn of the event loop instead, and never overtake or get overtaken: anything sent
 * before then first sends what is held back.
 */
export class HeldBackSends {
  private held: Message[] = [];

  constructor(
    private readonly sendNow: (messages: readonly Message[]) => void,
    /** Runs a callback on the next turn of the event loop (the driver's Clock.defer). */
    private readonly nextTurn: (run: () => void) => void,
  ) {}

  /** Sends at once (after anything held back, to keep the order). */
  send(messages: readonly Message[]): void {
    this.flush();
    if (messages.length > 0) this.sendNow(messages);
  }

  /** Sends on the next turn of the event loop, after this turn's promise callbacks. */
  sendAfterAnswers(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    if (this.held.length === 0) this.nextTurn(() => this.flush());
    this.held.push(...messages);
  }

  get heldCount(): number {
    return this.held.length;
  }

  flush(): void {
    if (this.held.length === 0) return;
    const messages = this.held;
    this.held = [];
    this.sendNow(messages);
  }
}
