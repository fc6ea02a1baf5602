import type { Clock } from '@parley/replica';

/** The simulation's timeline: virtual time and callbacks run from its event queue. */
export interface Timeline {
  now(): number;
  at(time: number, run: () => void): void;
}

/**
 * One process's clock in the simulator. It runs `skew` times the virtual rate (within the lease
 * drift bound), and stops for good when the process dies: nothing a dead process scheduled runs.
 */
export class SimClock implements Clock {
  private alive = true;

  constructor(
    private readonly timeline: Timeline,
    private readonly skew: number,
    /** Where in its first period a repeating timer first fires, in [0, 1). */
    private readonly phase: number,
  ) {}

  now(): number {
    return this.timeline.now() * this.skew;
  }

  every(ms: number, run: () => void): () => void {
    const period = ms / this.skew;
    const timer = { on: true };
    const fire = () => {
      if (!this.alive || !timer.on) return;
      run();
      this.timeline.at(this.timeline.now() + period, fire);
    };
    this.timeline.at(this.timeline.now() + period * this.phase, fire);
    return () => (timer.on = false);
  }

  after(ms: number, run: () => void): () => void {
    const timer = { on: true };
    this.timeline.at(this.timeline.now() + ms / this.skew, () => {
      if (this.alive && timer.on) run();
    });
    return () => (timer.on = false);
  }

  defer(run: () => void): void {
    this.timeline.at(this.timeline.now(), () => {
      if (this.alive) run();
    });
  }

  stop(): void {
    this.alive = false;
  }
}
