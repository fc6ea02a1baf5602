import { EventQueue } from './event-queue';
import { ProcessPause } from './process-pause';
import { SimClock, Timeline } from './sim-clock';

/** A timeline run by hand: `runUntil` fires everything due up to `time`. */
function manualTimeline(): Timeline & { runUntil(time: number): void } {
  const queue = new EventQueue<() => void>();
  let now = 0;
  return {
    now: () => now,
    at: (time, run) => queue.push(time, run),
    runUntil(time: number) {
      for (;;) {
        const next = queue.pop();
        if (!next) break;
        if (next.time > time) {
          queue.push(next.time, next.value);
          break;
        }
        now = next.time;
        next.value();
      }
      now = time;
    },
  };
}

describe('SimClock while its process is paused', () => {
  it('fires a repeating timer once for all the periods it missed, then one period later', () => {
    const timeline = manualTimeline();
    const pause = new ProcessPause();
    const clock = new SimClock(timeline, 1, 0, pause);
    const firedAt: number[] = [];
    clock.every(10, () => firedAt.push(timeline.now()));
    timeline.runUntil(25);
    expect(firedAt).toEqual([0, 10, 20]);

    pause.pause();
    timeline.runUntil(95);
    expect(firedAt).toEqual([0, 10, 20]);

    const held = pause.resume();
    expect(held).toHaveLength(1);
    for (const work of held) work();
    expect(firedAt).toEqual([0, 10, 20, 95]);
    timeline.runUntil(120);
    expect(firedAt).toEqual([0, 10, 20, 95, 105, 115]);
  });

  it('holds one-shot timers and deferred work, and each source in order in one callback', () => {
    const timeline = manualTimeline();
    const pause = new ProcessPause();
    const clock = new SimClock(timeline, 1, 0, pause);
    const ran: string[] = [];
    pause.pause();
    clock.after(5, () => ran.push('after'));
    clock.defer(() => ran.push('defer'));
    pause.run(() => ran.push('n2 first'), 'peer n2');
    pause.run(() => ran.push('request'));
    pause.run(() => ran.push('n2 second'), 'peer n2');
    timeline.runUntil(50);
    expect(ran).toEqual([]);

    const held = pause.resume();
    expect(held).toHaveLength(4);
    for (const work of held) work();
    expect(ran.indexOf('n2 second')).toBe(ran.indexOf('n2 first') + 1);
    expect([...ran].sort()).toEqual(['after', 'defer', 'n2 first', 'n2 second', 'request']);
    expect(pause.paused).toBe(false);
  });
});
