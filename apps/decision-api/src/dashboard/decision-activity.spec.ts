import { DecisionActivity } from './decision-activity';

describe('DecisionActivity', () => {
  let now = 0;
  const activity = () =>
    new DecisionActivity(
      () => now,
      5,
      () => 0.5,
    );
  const decision = (latencyMs: number, subject = 'k') => ({
    type: 'kv.put',
    subject,
    outcome: 'ok',
    index: 1,
    latencyMs,
  });

  beforeEach(() => (now = 100_000));

  it('counts decisions per whole second with their p50 and p99', () => {
    const tracker = activity();
    for (let ms = 1; ms <= 100; ms += 1) tracker.record(decision(ms));
    now += 1_000;
    tracker.record(decision(7));
    now += 1_000;
    const series = tracker.series();
    expect(series).toHaveLength(5);
    expect(series.map((s) => s.decisions)).toEqual([0, 0, 0, 100, 1]);
    expect(series[3]).toMatchObject({ at: 100_000, p50Ms: 50, p99Ms: 99 });
    expect(series[4]).toMatchObject({ p50Ms: 7, p99Ms: 7 });
    expect(series[0]).toMatchObject({ p50Ms: null, p99Ms: null });
    expect(tracker.total).toBe(101);
  });

  it('forgets seconds older than its window, so memory stays bounded', () => {
    const tracker = activity();
    for (let second = 0; second < 50; second += 1) {
      tracker.record(decision(1));
      now += 1_000;
    }
    expect(tracker.series().reduce((sum, s) => sum + s.decisions, 0)).toBe(5);
    expect((tracker as unknown as { seconds: Map<number, unknown> }).seconds.size).toBeLessThan(8);
  });

  it('samples latencies of a busy second without growing past its sample size', () => {
    let seed = 7;
    const seeded = () => ((seed = (seed * 48_271) % 2_147_483_647) - 1) / 2_147_483_646;
    const tracker = new DecisionActivity(() => now, 5, seeded);
    for (let n = 0; n < 10_000; n += 1) tracker.record(decision(n < 2_000 ? 1 : 9));
    now += 1_000;
    const [busy] = tracker.series().slice(-1);
    expect(busy.decisions).toBe(10_000);
    expect(busy.p50Ms).toBe(9); // the later half is sampled fairly, not dropped
    expect(busy.p99Ms).toBe(9);
    const kept = (tracker as unknown as { seconds: Map<number, { latencies: number[] }> }).seconds;
    expect(Math.max(...[...kept.values()].map((b) => b.latencies.length))).toBe(2_048);
  });
});
