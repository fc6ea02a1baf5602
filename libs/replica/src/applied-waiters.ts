import type { Clock } from './clock.port';

/** Callers waiting until the local state machine has applied an index (read-your-writes). */
export class AppliedWaiters {
  private waiters: { index: number; resolve: (reached: boolean) => void }[] = [];

  constructor(private readonly clock: Clock) {}

  /** Resolves true once `applied()` reaches `index`, false after `timeoutMs`. */
  wait(index: number, applied: number, timeoutMs: number): Promise<boolean> {
    if (applied >= index) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { index, resolve };
      this.waiters.push(waiter);
      this.clock.after(timeoutMs, () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) {
          this.waiters.splice(at, 1);
          resolve(false);
        }
      });
    });
  }

  release(applied: number): void {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (waiter.index <= applied) waiter.resolve(true);
      else still.push(waiter);
    }
    this.waiters = still;
  }
}
