/**
 * CRDT figures (npm run bench:crdt), in-process: joins per second per type (a delta of one
 * mutation joined into a replica that holds a realistic state), and the bytes of a delta versus
 * the full state for a 10,000-element OR-Set after one add. Convergence after a partition heals
 * is measured by test/integration/crdt-nats.test.ts against the real nats-server (it prints it).
 * Prints figures; asserts nothing.
 */
import {
  HlcClock,
  LWWMap,
  LWWRegister,
  MVRegister,
  ORSet,
  PNCounter,
  GCounter,
} from '../../libs/crdt/src';

const ROUNDS = 200_000;
const SECONDS_MAX = 5;

interface Subject {
  name: string;
  /** A fresh delta to join, made on another replica. */
  delta: (i: number) => { merge?: unknown };
  target: { merge(other: never): void };
}

function joinsPerSecond(subject: Subject): number {
  const deltas = Array.from({ length: 1_000 }, (_, i) => subject.delta(i));
  const started = process.hrtime.bigint();
  let joins = 0;
  const deadline = Date.now() + SECONDS_MAX * 1000;
  for (; joins < ROUNDS && (joins % 1000 !== 0 || Date.now() < deadline); joins += 1)
    subject.target.merge(deltas[joins % deltas.length] as never);
  return joins / (Number(process.hrtime.bigint() - started) / 1e9);
}

const source = {
  g: new GCounter(),
  pn: new PNCounter(),
  set: new ORSet(),
  mv: new MVRegister(),
  map: new LWWMap(),
};
const clock = new HlcClock('b');
const big = new ORSet();
for (let i = 0; i < 10_000; i += 1) big.add(`r${i % 3}`, `element-${i}`);

const subjects: Subject[] = [
  { name: 'G-Counter', delta: () => source.g.increment('b', 1), target: new GCounter() },
  {
    name: 'PN-Counter',
    delta: (i) => source.pn.increment('b', i % 2 ? 1 : -1),
    target: new PNCounter(),
  },
  {
    name: 'OR-Set (10k elements)',
    delta: (i) => source.set.add('b', `new-${i}`),
    target: big.clone(),
  },
  {
    name: 'LWW-Register',
    delta: (i) => new LWWRegister().set(i, clock.now(i)),
    target: new LWWRegister(),
  },
  {
    name: 'LWW-Map',
    delta: (i) => source.map.set(`k${i % 100}`, i, clock.now(i)),
    target: new LWWMap(),
  },
  { name: 'MV-Register', delta: (i) => source.mv.write('b', i), target: new MVRegister() },
];

console.log(
  `CRDT joins per second (one-mutation deltas, ≤${ROUNDS} joins or ${SECONDS_MAX}s each):`,
);
for (const subject of subjects)
  console.log(
    `  ${subject.name.padEnd(22)} ${Math.round(joinsPerSecond(subject)).toLocaleString('en')} joins/s`,
  );

const replica = big.clone();
const delta = replica.add('r9', 'one-more');
const deltaBytes = Buffer.byteLength(JSON.stringify(delta.toJSON()));
const fullBytes = Buffer.byteLength(JSON.stringify(replica.toJSON()));
console.log(
  `OR-Set of 10,000 elements after one add: delta ${deltaBytes} bytes, full state ${fullBytes.toLocaleString('en')} bytes ` +
    `(${(fullBytes / deltaBytes).toFixed(0)}x)`,
);
