import { TickTimes, leaseHoldsInRealTime } from './tick-times';

describe('TickTimes', () => {
  it('knows when each of the last `capacity` ticks happened, and no older one', () => {
    const times = new TickTimes(4);
    for (let tick = 10; tick <= 15; tick += 1) times.record(tick, tick * 100);
    expect(times.timeOf(15)).toBe(1_500);
    expect(times.timeOf(12)).toBe(1_200);
    expect(times.timeOf(11)).toBeUndefined(); // overwritten by 15
    expect(times.timeOf(16)).toBeUndefined(); // not yet
    expect(times.timeOf(-1)).toBeUndefined(); // "no lease": not a leader
  });

  it('refuses ticks out of order: a gap would give a tick the time of another', () => {
    const times = new TickTimes(4);
    times.record(0, 0);
    expect(() => times.record(2, 20)).toThrow(/in order/);
  });
});

describe('leaseHoldsInRealTime', () => {
  const timing = { tickMs: 10, electionTicks: 10, driftTicks: 2 };

  it('holds for (electionTicks - drift - 1) tick periods of real time after the echoed send', () => {
    expect(leaseHoldsInRealTime(1_000, 1_069, timing)).toBe(true);
    expect(leaseHoldsInRealTime(1_000, 1_070, timing)).toBe(false);
  });

  it('ends for a leader whose loop stalled, however few ticks it counted meanwhile', () => {
    // The heartbeat was sent at 1,000 ms and echoed; the loop then stalled 300 ms and its next
    // tick came once: by ticks the lease looks fresh, by the clock the followers may have voted.
    expect(leaseHoldsInRealTime(1_000, 1_300, timing)).toBe(false);
  });

  it('does not hold when the lease start is unknown (too old, or not leading)', () => {
    expect(leaseHoldsInRealTime(undefined, 0, timing)).toBe(false);
  });
});
