import type { Clock } from '@parley/replica';
import { ProcessPause } from './process-pause';

/** The simulation's timeline: virtual time and callbacks run from its event queue. */
export interface Timeline {
  now(): number;
  at(time: number, run: () => void): void;
}

/**
 * One process's clock in the simulator. It runs `skew` times the virtual rate (within the lease
 * drift bound), and stops for good when the process dies: nothing a dead process scheduled runs.
 * While the process is paused its callbacks are held; a repeating timer then fires once when it
 * resumes, however many periods it missed (as Node's setInterval does after a blocked loop), and
 * goes on one period after that.
 */
export class SimClock implements Clock {
  private alive = true;

  constructor(
    private readonly timeline: Timeline,
    private readonly skew: number,
    /** Where in its first period a repeating timer first fires, in [0, 1). */
    private readonly phase: number,
    private readonly pause: ProcessPause = new ProcessPause(),
  ) {}

  now(): number {
    return this.timeline.now() * this.skew;
  }

  every(ms: number, run: () => void): () => void {
    const period = ms / this.skew;
    const timer = { on: true };
    // Paused, the due firing is held and nothing reschedules it: the missed periods coalesce.
    const due = () => this.pause.run(fire);
    const fire = () => {
      if (!this.alive || !timer.on) return;
      run();
      this.timeline.at(this.timeline.now() + period, due);
    };
    this.timeline.at(this.timeline.now() + period * this.phase, due);
    return () => (timer.on = false);
  }

  after(ms: number, run: () => void): () => void {
    const timer = { on: true };
    this.timeline.at(this.timeline.now() + ms / this.skew, () =>
      this.pause.run(() => {
        if (this.alive && timer.on) run();
      }),
    );
    return () => (timer.on = false);
  }

  defer(run: () => void): void {
    this.timeline.at(this.timeline.now(), () =>
      this.pause.run(() => {
        if (this.alive) run();
      }),
    );
  }

  stop(): void {
    this.alive = false;
  }
}
