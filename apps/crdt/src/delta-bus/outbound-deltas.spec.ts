import { PNCounter, ORSet } from '@parley/crdt';
import { OutboundDelta, OutboundDeltas, OutboundSource } from './outbound-deltas';

/** Timers run by hand: `fire()` runs the ones started and not cancelled. */
function handTimers() {
  const timers: { ms: number; run: () => void; on: boolean }[] = [];
  return {
    after: (ms: number, run: () => void) => {
      const timer = { ms, run, on: true };
      timers.push(timer);
      return () => (timer.on = false);
    },
    started: () => timers.length,
    live: () => timers.filter((t) => t.on).length,
    fire: () => {
      for (const timer of timers.splice(0)) if (timer.on) timer.run();
    },
  };
}

const counterDelta = (replica: string, total: number) => {
  const counter = new PNCounter();
  return counter.increment(replica, total);
};

function setUp(lingerMs = 2, objectsMax = 100) {
  const timers = handTimers();
  const sent: { deltas: OutboundDelta[]; sources: OutboundSource[] }[] = [];
  const outbound = new OutboundDeltas(
    lingerMs,
    objectsMax,
    (deltas, sources) => sent.push({ deltas, sources }),
    timers.after,
  );
  return { timers, sent, outbound };
}

describe('OutboundDeltas', () => {
  it('holds deltas for the linger, then sends those of one object merged into one', () => {
    const { timers, sent, outbound } = setUp();
    const counter = new PNCounter();
    for (let i = 0; i < 100; i += 1)
      outbound.queue([{ key: 'counter/c', kind: 'counter', delta: counter.increment('r1', 1) }]);
    expect(sent).toEqual([]);
    expect(timers.started()).toBe(1);
    timers.fire();
    expect(sent).toHaveLength(1);
    expect(sent[0].deltas).toHaveLength(1);
    expect(sent[0].deltas[0].delta.toJSON()).toEqual(counter.toJSON());
    expect((sent[0].deltas[0].delta as PNCounter).value()).toBe(100);
  });

  it('keeps the deltas of different objects apart', () => {
    const { timers, sent, outbound } = setUp();
    const set = new ORSet();
    outbound.queue([
      { key: 'counter/a', kind: 'counter', delta: counterDelta('r1', 3) },
      { key: 'set/s', kind: 'set', delta: set.add('r1', 'x') },
    ]);
    outbound.queue([{ key: 'counter/b', kind: 'counter', delta: counterDelta('r1', 5) }]);
    timers.fire();
    expect(sent[0].deltas.map((d) => d.key)).toEqual(['counter/a', 'set/s', 'counter/b']);
  });

  it('sends a source range after the deltas that carry it, with the highest offset of the window', () => {
    const { timers, sent, outbound } = setUp();
    outbound.queue([{ key: 'counter/a', kind: 'counter', delta: counterDelta('r1', 1) }], {
      source: 'agent-events/0',
      through: 10,
    });
    outbound.queue([{ key: 'counter/a', kind: 'counter', delta: counterDelta('r1', 2) }], {
      source: 'agent-events/0',
      through: 20,
    });
    timers.fire();
    expect(sent).toHaveLength(1);
    expect(sent[0].deltas).toHaveLength(1);
    expect(sent[0].sources).toEqual([{ source: 'agent-events/0', through: 20 }]);
  });

  it('with no linger, sends every queue call at once', () => {
    const { timers, sent, outbound } = setUp(0);
    outbound.queue([{ key: 'counter/a', kind: 'counter', delta: counterDelta('r1', 1) }]);
    outbound.queue([{ key: 'counter/a', kind: 'counter', delta: counterDelta('r1', 2) }]);
    expect(sent).toHaveLength(2);
    expect(timers.started()).toBe(0);
  });

  it('sends at once when its bound of objects is reached, and the timer is cancelled', () => {
    const { timers, sent, outbound } = setUp(2, 3);
    for (const name of ['a', 'b', 'c'])
      outbound.queue([{ key: `counter/${name}`, kind: 'counter', delta: counterDelta('r1', 1) }]);
    expect(sent).toHaveLength(1);
    expect(sent[0].deltas).toHaveLength(3);
    expect(timers.live()).toBe(0);
    expect(outbound.waiting).toBe(0);
  });

  it('flush (shutdown) sends what waits, and nothing is sent twice', () => {
    const { timers, sent, outbound } = setUp();
    outbound.queue([{ key: 'counter/a', kind: 'counter', delta: counterDelta('r1', 1) }]);
    outbound.flush();
    timers.fire();
    outbound.flush();
    expect(sent).toHaveLength(1);
  });
});
