/**
 * A simulated process paused whole (SIGSTOP, a long GC pause, a starved event loop): while it
 * is paused nothing of it runs, neither timers nor message deliveries nor client requests; the
 * work is held and handed back when it resumes, for the simulation to run in an order of its
 * choosing. Virtual time goes on meanwhile, and so do the other processes.
 *
 * Held work is grouped by where it came from: what one connection buffered while the process
 * was stopped reaches it in one read, in order, as one callback; separate connections and
 * timers are separate callbacks, which the event loop runs in no order a replica can rely on.
 */
export class ProcessPause {
  private held: Map<string | object, (() => void)[]> | undefined;

  get paused(): boolean {
    return this.held !== undefined;
  }

  pause(): void {
    this.held ??= new Map();
  }

  /**
   * Runs `work` now, or holds it until the process resumes. Work from the same `source` (a
   * connection) stays together and in order; without one it is a callback of its own.
   */
  run(work: () => void, source?: string): void {
    if (!this.held) return work();
    const key = source ?? {};
    const group = this.held.get(key);
    if (group) group.push(work);
    else this.held.set(key, [work]);
  }

  /** Ends the pause and returns the work held meanwhile: one callback per source. */
  resume(): (() => void)[] {
    const held = this.held ?? new Map<string | object, (() => void)[]>();
    this.held = undefined;
    return [...held.values()].map((group) => () => {
      for (const work of group) work();
    });
  }
}
