import type { DecisionEvent } from '@parley/decision';
import { DecisionRing } from './decision-ring';

const event = (index: number, entity = `kv/k${index}`): DecisionEvent => ({
  index,
  type: 'kv.put',
  entity,
  requestId: `r${index}`,
  result: { index },
  decidedBy: 'command',
});

describe('the ring of recent decision events', () => {
  it('answers every event after an index, and how far the answer covers', () => {
    const ring = new DecisionRing(100);
    ring.applied(11, [event(11)]);
    ring.applied(12, []); // a clock tick: decided nothing
    ring.applied(13, [event(13)]);
    expect(ring.read(10, 100, 0)).toEqual({
      status: 'ok',
      events: [event(11), event(13)],
      upTo: 13,
    });
    expect(ring.read(11, 100, 0)).toEqual({ status: 'ok', events: [event(13)], upTo: 13 });
    expect(ring.read(13, 100, 0)).toEqual({ status: 'ok', events: [], upTo: 13 });
  });

  it('answers a follower that is behind with nothing newer, never past what it applied', () => {
    const ring = new DecisionRing(100);
    ring.applied(5, [event(5)]);
    expect(ring.read(9, 100, 0)).toEqual({ status: 'ok', events: [], upTo: 9 });
  });

  it('starts after the snapshot it restarted from, and says so for an older index', () => {
    const ring = new DecisionRing(100);
    expect(ring.read(undefined, 100, 40)).toEqual({ status: 'ok', events: [], upTo: 40 });
    expect(ring.read(39, 100, 40)).toEqual({ status: 'compacted', compactedIndex: 40 });
    ring.applied(41, [event(41)]);
    expect(ring.read(40, 100, 40)).toEqual({ status: 'ok', events: [event(41)], upTo: 41 });
    expect(ring.read(39, 100, 40)).toEqual({ status: 'compacted', compactedIndex: 40 });
  });

  it('drops the oldest whole index beyond its bound and reports it compacted', () => {
    const ring = new DecisionRing(2);
    ring.applied(1, [event(1)]);
    ring.applied(2, [event(2, 'proposals/a'), event(2)]);
    ring.applied(3, [event(3)]);
    // Index 2's two events leave together: 3 events do not fit in 2.
    expect(ring.read(2, 100, 0)).toEqual({ status: 'ok', events: [event(3)], upTo: 3 });
    expect(ring.read(1, 100, 0)).toEqual({ status: 'compacted', compactedIndex: 2 });
    expect(ring.size).toBe(1);
  });

  it('restarts after a snapshot installed from the leader (a jump in indexes)', () => {
    const ring = new DecisionRing(100);
    ring.applied(1, [event(1)]);
    ring.applied(50, [event(50)]);
    expect(ring.read(0, 100, 0)).toEqual({ status: 'compacted', compactedIndex: 49 });
    expect(ring.read(49, 100, 0)).toEqual({ status: 'ok', events: [event(50)], upTo: 50 });
  });

  it('never splits an index between two answers', () => {
    const ring = new DecisionRing(100);
    ring.applied(1, [event(1)]);
    ring.applied(2, [event(2, 'proposals/a'), event(2)]);
    ring.applied(3, [event(3)]);
    expect(ring.read(0, 2, 0)).toEqual({
      status: 'ok',
      events: [event(1), event(2, 'proposals/a'), event(2)],
      upTo: 2,
    });
    expect(ring.read(2, 2, 0)).toEqual({ status: 'ok', events: [event(3)], upTo: 3 });
  });

  it('wakes a long poll when a newer entry is applied', async () => {
    const ring = new DecisionRing(100);
    ring.applied(1, []);
    let woke = false;
    const waiting = ring.waitAfter(1, 60_000, 10).then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    ring.applied(2, [event(2)]);
    await waiting;
    expect(woke).toBe(true);
  });
});
