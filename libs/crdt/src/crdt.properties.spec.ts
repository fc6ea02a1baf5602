import fc from 'fast-check';
import { GCounter } from './gcounter';
import { Hlc, HlcClock } from './hlc';
import { LWWMap, LWWRegister } from './lww';
import { MVRegister } from './mvregister';
import { ORSet } from './orset';
import { PNCounter } from './pncounter';

/**
 * The lattice laws and delta equivalence for every type, by property (fast-check, fixed seed
 * so a failure replays): join is commutative, associative, idempotent; joining the deltas of a
 * history equals joining the full states; under random delivery order, duplication and loss,
 * anti-entropy (full-state join) brings every replica to the same value.
 */
interface Joinable<T> {
  merge(other: T): void;
  clone(): T;
  toJSON(): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCrdt = Joinable<any>;

const REPLICAS = ['r1', 'r2', 'r3'];
const PARAMS = { seed: 20261125, numRuns: 150 };

type Op = { replica: number; kind: number; arg: number };
const opArb = fc.record({
  replica: fc.integer({ min: 0, max: 2 }),
  kind: fc.integer({ min: 0, max: 3 }),
  arg: fc.integer({ min: -5, max: 5 }),
});

/** How a type turns a random op into a mutation on one replica; returns the delta. */
interface TypeUnderTest<T extends Joinable<T>> {
  name: string;
  empty: () => T;
  apply: (state: T, replica: string, op: Op, clock: HlcClock, time: number) => T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const types: TypeUnderTest<any>[] = [
  {
    name: 'G-Counter',
    empty: () => new GCounter(),
    apply: (s: GCounter, r, op) => s.increment(r, Math.abs(op.arg)),
  },
  {
    name: 'PN-Counter',
    empty: () => new PNCounter(),
    apply: (s: PNCounter, r, op) => s.increment(r, op.arg),
  },
  {
    name: 'OR-Set',
    empty: () => new ORSet(),
    apply: (s: ORSet, r, op) =>
      op.kind % 2 === 0
        ? s.add(r, `e${Math.abs(op.arg) % 4}`)
        : s.remove(`e${Math.abs(op.arg) % 4}`),
  },
  {
    name: 'LWW-Register',
    empty: () => new LWWRegister(),
    apply: (s: LWWRegister, _r, op, clock, time) => s.set(op.arg, clock.now(time)),
  },
  {
    name: 'LWW-Map',
    empty: () => new LWWMap(),
    apply: (s: LWWMap, _r, op, clock, time) =>
      op.kind === 3
        ? s.remove(`k${Math.abs(op.arg) % 3}`, clock.now(time))
        : s.set(`k${Math.abs(op.arg) % 3}`, op.arg, clock.now(time)),
  },
  {
    name: 'MV-Register',
    empty: () => new MVRegister(),
    apply: (s: MVRegister, r, op) => s.write(r, op.arg),
  },
];

function same<T extends Joinable<T>>(a: T, b: T): boolean {
  return JSON.stringify(a.toJSON()) === JSON.stringify(b.toJSON());
}

function joined<T extends Joinable<T>>(a: T, b: T): T {
  const out = a.clone();
  out.merge(b);
  return out;
}

const deliveryArb = fc.record({
  to: fc.integer({ min: 0, max: 2 }),
  pick: fc.nat(),
  lose: fc.boolean(),
});
type Delivery = { to: number; pick: number; lose: boolean };

/**
 * One system of three replicas: ops run where they say, and each delivery hands a random
 * earlier delta to a replica (in any order, perhaps twice, perhaps never: `lose`).
 */
function history<T extends Joinable<T>>(
  type: TypeUnderTest<T>,
  ops: Op[],
  deliveries: Delivery[] = [],
) {
  const states = REPLICAS.map(() => type.empty());
  const clocks = REPLICAS.map((r) => new HlcClock(r));
  const deltas: { from: number; delta: T }[] = [];
  ops.forEach((op, time) => {
    const delta = type.apply(
      states[op.replica],
      REPLICAS[op.replica],
      op,
      clocks[op.replica],
      time,
    );
    deltas.push({ from: op.replica, delta });
    const d = deliveries[time];
    if (d && !d.lose && deltas.length > 0) states[d.to].merge(deltas[d.pick % deltas.length].delta);
  });
  return { states, deltas };
}

describe.each(types.map((t) => [t.name, t]))('%s', (_name, typeUntyped) => {
  const type = typeUntyped as unknown as TypeUnderTest<AnyCrdt>;
  // Three replica states of one system (ids and timestamps are unique within a system).
  const statesArb = fc
    .tuple(fc.array(opArb, { maxLength: 25 }), fc.array(deliveryArb, { maxLength: 25 }))
    .map(([ops, deliveries]) => history(type, ops, deliveries).states);

  it('join is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(statesArb, ([a, b, c]) => {
        expect(same(joined(a, b), joined(b, a))).toBe(true);
        expect(same(joined(joined(a, b), c), joined(a, joined(b, c)))).toBe(true);
        expect(same(joined(a, a), a)).toBe(true);
      }),
      PARAMS,
    );
  });

  it('joining every delta equals joining the full states', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const { states, deltas } = history(type, ops);
        const fromStates = type.empty();
        for (const s of states) fromStates.merge(s);
        const fromDeltas = type.empty();
        for (const { delta } of deltas) fromDeltas.merge(delta);
        expect(same(fromDeltas, fromStates)).toBe(true);
      }),
      PARAMS,
    );
  });

  it('converges under reordered, duplicated and lost deltas once anti-entropy runs', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 30 }),
        fc.array(deliveryArb, { maxLength: 60 }),
        (ops, deliveries) => {
          const { states, deltas } = history(type, ops);
          // Random deliveries after the fact: any delta to any replica, any order, dup or lost.
          for (const d of deliveries)
            if (!d.lose) states[d.to].merge(deltas[d.pick % deltas.length].delta);
          // Anti-entropy: each replica joins the others' full states.
          for (let i = 0; i < REPLICAS.length; i += 1)
            for (let j = 0; j < REPLICAS.length; j += 1)
              if (i !== j) states[i].merge(states[j].clone());
          for (let i = 0; i < REPLICAS.length; i += 1)
            for (let j = 0; j < REPLICAS.length; j += 1)
              if (i !== j) states[i].merge(states[j].clone());
          expect(same(states[0], states[1]) && same(states[1], states[2])).toBe(true);
          // And the value is the one every delta implies.
          const all = type.empty();
          for (const { delta } of deltas) all.merge(delta);
          expect(same(states[0], all)).toBe(true);
        },
      ),
      PARAMS,
    );
  });
});

describe('the classic anomalies', () => {
  it('OR-Set: a concurrent add and remove of the same element — the add wins', () => {
    const a = new ORSet();
    const b = new ORSet();
    b.merge(a.add('a', 'x'));
    const removal = b.remove('x'); // b removes the x it saw...
    const readd = a.add('a', 'x'); // ...while a adds x again, concurrently
    a.merge(removal);
    b.merge(readd);
    expect(a.values()).toEqual(['x']);
    expect(b.values()).toEqual(['x']);
  });

  it('OR-Set: a remove of what was seen removes it everywhere and leaves no tombstone', () => {
    const a = new ORSet();
    const b = new ORSet();
    b.merge(a.add('a', 'x'));
    a.merge(b.remove('x'));
    expect(a.values()).toEqual([]);
    expect(a.entries.size).toBe(0);
    expect(a.context.dots()).toEqual([]); // folded into the version vector
  });

  it('LWW: with skewed clocks the HLC keeps causality — a write after reading wins', () => {
    const fast = new HlcClock('fast');
    const slow = new HlcClock('slow');
    const register = new LWWRegister();
    register.set('first', fast.now(10_000)); // a clock 10 s ahead
    slow.observe(register.ts as Hlc, 1_000); // the slow node reads it...
    register.set('second', slow.now(1_001)); // ...then writes: causally later, so it wins
    expect(register.value).toBe('second');
  });

  it('PN-Counter: decrements below zero are kept, and concurrent ones add up', () => {
    const a = new PNCounter();
    const b = new PNCounter();
    a.merge(b.increment('b', -3));
    b.merge(a.increment('a', -4));
    expect(a.value()).toBe(-7);
    expect(b.value()).toBe(-7);
  });

  it('MV-Register: concurrent writes are both kept until a write that saw them', () => {
    const a = new MVRegister();
    const b = new MVRegister();
    const fromA = a.write('a', 1);
    const fromB = b.write('b', 2);
    a.merge(fromB);
    b.merge(fromA);
    expect(a.values()).toEqual([1, 2]);
    b.merge(a.write('a', 3));
    expect(b.values()).toEqual([3]);
  });
});

describe('anti-entropy deltas ("send only what the other lacks")', () => {
  it('OR-Set: a peer far behind (or a counter near 2^53) gets the full state, not a dot per counter', () => {
    const far = new ORSet();
    far.add('r1', 'kept');
    // A dot far ahead in r2's sequence, as a bad or long-lived peer could report it.
    const ahead = new ORSet();
    ahead.context.vector.set('r2', Number.MAX_SAFE_INTEGER - 1);
    ahead.add('r2', 'huge');
    far.merge(ahead);
    const delta = far.deltaSince(new Map());
    expect([...delta.values()].sort()).toEqual(['huge', 'kept']);
    expect(delta.context.vector.get('r2')).toBe(Number.MAX_SAFE_INTEGER);
    // Joining it is the full join.
    const peer = new ORSet();
    peer.merge(delta);
    expect([...peer.values()].sort()).toEqual(['huge', 'kept']);
  });

  it('OR-Set: a peer joining deltaSince(its vector) reaches the full join, or the vectors are equal', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 30 }),
        fc.array(deliveryArb, { maxLength: 30 }),
        (ops, deliveries) => {
          const { states } = history(
            {
              name: 'OR-Set',
              empty: () => new ORSet(),
              apply: (s, r, op) =>
                op.kind % 2 === 0
                  ? s.add(r, `e${Math.abs(op.arg) % 4}`)
                  : s.remove(`e${Math.abs(op.arg) % 4}`),
            },
            ops,
            deliveries,
          );
          const [mine, peer] = states as ORSet[];
          const viaDelta = peer.clone();
          viaDelta.merge(mine.deltaSince(peer.context.vector));
          const viaFull = joined(peer, mine);
          // Either the delta carried everything, or what is left is only removals of dots the
          // peer had already seen, which the full-state fallback repairs.
          if (!same(viaDelta, viaFull)) {
            const back = viaDelta.clone();
            back.merge(mine);
            expect(same(back, viaFull)).toBe(true);
            expect(mine.isAheadOf(viaDelta.context.vector)).toBe(false);
          }
          // Never more than the peer would get from the full state.
          const again = viaDelta.clone();
          again.merge(mine);
          expect(same(again, viaFull)).toBe(true);
        },
      ),
      PARAMS,
    );
  });

  it('PN-Counter: deltaSince carries exactly the slots the peer is behind on', () => {
    const mine = new PNCounter();
    mine.increment('a', 5);
    mine.increment('b', -2);
    const peer = new PNCounter();
    peer.merge(mine.clone());
    mine.increment('a', 1);
    const delta = mine.deltaSince({ p: peer.p.counts, n: peer.n.counts });
    expect(delta.toJSON()).toEqual({ p: { a: 6 }, n: {} });
    peer.merge(delta);
    expect(peer.value()).toBe(mine.value());
    expect(mine.deltaSince({ p: peer.p.counts, n: peer.n.counts }).isEmpty()).toBe(true);
  });
});
