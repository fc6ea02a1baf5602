import type { Clock } from '@parley/replica';

/** The process's own clock for the replica driver: wall time and Node's timers. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  every(ms, run) {
    const timer = setInterval(run, ms);
    return () => clearInterval(timer);
  },
  after(ms, run) {
    const timer = setTimeout(run, ms).unref();
    return () => clearTimeout(timer);
  },
  // setImmediate: after this turn's promise callbacks (the clients' answers), before new I/O.
  defer: (run) => void setImmediate(run),
};
