import { BroadcastQueue } from './broadcast-queue';
import { retransmitLimit, resolveSwimConfig, suspicionTimeoutMinTicks } from './config';
import { suspicionTimeoutTicks } from './suspicion';
import { Swim } from './swim';
import { GossipMessage, MemberState, Outbound, Update } from './types';

const META = { role: 'replica', appAddress: '127.0.0.1:8000', version: '1' } as const;

function lcg(seed = 1) {
  let state = seed;
  return { nextInt: (max: number) => (state = (state * 1103515245 + 12345) % 2147483648) % max };
}

/** A member that knows `others` as alive, with no periodic jitter in the way. */
function member(
  id: string,
  others: string[],
  overrides: Partial<Parameters<typeof resolveSwimConfig>[0]> = {},
) {
  const swim = new Swim({ id, address: id, meta: META, random: lcg(), ...overrides });
  for (const other of others)
    swim.addKnownMember({
      id: other,
      address: other,
      meta: META,
      incarnation: 0,
      state: MemberState.Alive,
    });
  swim.drain();
  return swim;
}

function ticksUntil(swim: Swim, found: (o: Outbound) => boolean, max = 100): Outbound {
  for (let i = 0; i < max; i += 1) {
    swim.tick();
    const hit = swim.drain().outbound.find(found);
    if (hit) return hit;
  }
  throw new Error('no such message');
}

describe('SWIM failure detection', () => {
  it('answers a ping with an ack carrying the same seq', () => {
    const b = member('b', ['a']);
    b.step({ type: 'ping', seq: 7, from: 'a', target: 'b', updates: [] }, 'a');
    expect(b.drain().outbound).toEqual([
      { to: 'a', channel: 'packet', message: { type: 'ack', seq: 7, from: 'b', updates: [] } },
    ]);
  });

  it('does not answer a ping meant for another member (stale address)', () => {
    const b = member('b', ['a']);
    b.step({ type: 'ping', seq: 7, from: 'a', target: 'c', updates: [] }, 'a');
    expect(b.drain().outbound).toEqual([]);
    expect(b.counters.misdirected).toBe(1);
  });

  it('without an ack asks k others (ping-req), then suspects the target at the period end', () => {
    const a = member('a', ['b', 'c', 'd', 'e'], { indirectChecks: 2 });
    const ping = ticksUntil(a, (o) => o.message.type === 'ping');
    const target = (ping.message as Extract<GossipMessage, { type: 'ping' }>).target;
    const pingReqs = [];
    for (let i = 0; i < 5; i += 1) {
      a.tick();
      pingReqs.push(...a.drain().outbound.filter((o) => o.message.type === 'ping-req'));
    }
    expect(pingReqs).toHaveLength(2);
    expect(pingReqs.every((o) => o.to !== target)).toBe(true);
    for (let i = 0; i < 5 && a.member(target)!.state === MemberState.Alive; i += 1) a.tick();
    expect(a.member(target)!.state).toBe(MemberState.Suspect);
    expect(a.counters.probesFailed).toBe(1);
  });

  it('an ack within the period keeps the target alive and lowers the health score', () => {
    const a = member('a', ['b']);
    const ping = ticksUntil(a, (o) => o.message.type === 'ping');
    a.step(
      { type: 'ack', seq: (ping.message as { seq: number }).seq, from: 'b', updates: [] },
      'b',
    );
    for (let i = 0; i < 9; i += 1) a.tick(); // the rest of the period
    expect(a.member('b')!.state).toBe(MemberState.Alive);
    expect(a.health).toBe(0);
  });

  it('relays a ping-req: pings the target and forwards its ack to the origin', () => {
    const c = member('c', ['a', 'b']);
    c.step({ type: 'ping-req', seq: 3, from: 'a', target: 'b', updates: [] }, 'a');
    const relayed = c.drain().outbound[0];
    expect(relayed).toMatchObject({ to: 'b', message: { type: 'ping', target: 'b' } });
    c.step(
      { type: 'ack', seq: (relayed.message as { seq: number }).seq, from: 'b', updates: [] },
      'b',
    );
    expect(c.drain().outbound[0]).toMatchObject({ to: 'a', message: { type: 'ack', seq: 3 } });
  });

  it('Lifeguard: a relay that gets no ack sends a nack, so the origin knows the relay is fine', () => {
    const c = member('c', ['a', 'b']);
    c.step({ type: 'ping-req', seq: 3, from: 'a', target: 'b', updates: [] }, 'a');
    c.drain();
    let nack: Outbound | undefined;
    for (let i = 0; i < 10 && !nack; i += 1) {
      c.tick();
      nack = c.drain().outbound.find((o) => o.message.type === 'nack');
    }
    expect(nack).toMatchObject({ to: 'a', message: { type: 'nack', seq: 3, from: 'c' } });
  });
});

describe('suspicion, refutation and incarnations', () => {
  it('a suspected member refutes with a higher incarnation', () => {
    const b = member('b', ['a']);
    b.step(
      {
        type: 'gossip',
        from: 'a',
        updates: [{ kind: 'suspect', id: 'b', incarnation: 0, from: 'a' }],
      },
      'a',
    );
    expect(b.member('b')!.incarnation).toBe(1);
    expect(b.counters.refutations).toBe(1);
    expect(b.health).toBe(1);
  });

  it('an alive with a higher incarnation clears a suspicion; a stale suspect is ignored', () => {
    const a = member('a', ['b', 'c', 'd']);
    const step = (u: Update) => a.step({ type: 'gossip', from: 'c', updates: [u] }, 'c');
    step({ kind: 'suspect', id: 'b', incarnation: 0, from: 'c' });
    expect(a.member('b')!.state).toBe(MemberState.Suspect);
    step({ kind: 'alive', id: 'b', incarnation: 1, address: 'b', meta: META });
    expect(a.member('b')).toMatchObject({ state: MemberState.Alive, incarnation: 1 });
    step({ kind: 'suspect', id: 'b', incarnation: 0, from: 'd' });
    expect(a.member('b')!.state).toBe(MemberState.Alive);
  });

  it('an unrefuted suspicion ends in dead, and dead is final for that incarnation', () => {
    const a = member('a', ['b', 'c'], { lifeguard: false });
    a.step(
      {
        type: 'gossip',
        from: 'c',
        updates: [{ kind: 'suspect', id: 'b', incarnation: 0, from: 'c' }],
      },
      'c',
    );
    const timeout = suspicionTimeoutMinTicks(a.config, 3);
    for (let i = 0; i < timeout + 1; i += 1) a.tick();
    expect(a.member('b')!.state).toBe(MemberState.Dead);
    a.step(
      {
        type: 'gossip',
        from: 'c',
        updates: [{ kind: 'alive', id: 'b', incarnation: 0, address: 'b', meta: META }],
      },
      'c',
    );
    expect(a.member('b')!.state).toBe(MemberState.Dead);
    a.step(
      {
        type: 'gossip',
        from: 'c',
        updates: [{ kind: 'alive', id: 'b', incarnation: 1, address: 'b', meta: META }],
      },
      'c',
    );
    expect(a.member('b')!.state).toBe(MemberState.Alive);
  });

  it('Lifeguard: the suspicion timeout shrinks from max to min as confirmations arrive', () => {
    expect([0, 1, 2, 3].map((c) => suspicionTimeoutTicks(c, 2, 120, 720))).toEqual([
      720, 341, 120, 120,
    ]);
    expect(suspicionTimeoutTicks(0, 0, 120, 720)).toBe(120);
  });

  it('Lifeguard buddy rule: a ping to a suspected member tells it so', () => {
    const a = member('a', ['b']);
    a.step(
      {
        type: 'gossip',
        from: 'x',
        updates: [{ kind: 'suspect', id: 'b', incarnation: 0, from: 'x' }],
      },
      'x',
    );
    const ping = ticksUntil(a, (o) => o.message.type === 'ping');
    expect((ping.message as { updates: Update[] }).updates[0]).toEqual({
      kind: 'suspect',
      id: 'b',
      incarnation: 0,
      from: 'a',
    });
  });

  it('a graceful leave marks the member left everywhere it reaches', () => {
    const a = member('a', ['b']);
    const b = member('b', ['a']);
    b.leave();
    const gossip = ticksUntil(b, (o) => o.message.type === 'gossip');
    a.step(gossip.message, 'b');
    expect(a.member('b')!.state).toBe(MemberState.Left);
    expect(b.member('b')!.state).toBe(MemberState.Left);
  });
});

describe('Lifeguard local health', () => {
  it('missing nacks raise the health score, which stretches the probe interval', () => {
    const a = member('a', ['b', 'c', 'd', 'e']);
    ticksUntil(a, (o) => o.message.type === 'ping');
    for (let i = 0; i < 10; i += 1) a.tick();
    // Three helpers asked, no nack from any: three points against ourselves.
    expect(a.health).toBe(3);
    a.drain();
    let ticksBetweenPings = 0;
    ticksUntil(a, (o) => o.message.type === 'ping');
    const healthAtProbe = a.health;
    for (;;) {
      a.tick();
      ticksBetweenPings += 1;
      if (a.drain().outbound.some((o) => o.message.type === 'ping')) break;
    }
    expect(healthAtProbe).toBeGreaterThanOrEqual(3);
    expect(ticksBetweenPings).toBe(10 * (healthAtProbe + 1));
  });

  it('probe timeouts back off as base · 2^retries for a member that keeps failing probes', () => {
    // A long suspicion keeps b probed (suspect, not dead) for the whole run.
    const a = member('a', ['b'], { lifeguard: false, suspicionMult: 40 });
    const pingTicks: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      a.tick();
      if (a.drain().outbound.some((o) => o.message.type === 'ping')) pingTicks.push(a.tickCount);
    }
    const gaps = pingTicks.slice(1).map((t, i) => t - pingTicks[i]);
    // 10, then 20, 40, 80 (capped at 2^3) — b never answers.
    expect(gaps.slice(0, 4)).toEqual([10, 20, 40, 80]);
  });

  it('a stall pushes the probe deadline back instead of accusing the target', () => {
    const a = member('a', ['b']);
    const ping = ticksUntil(a, (o) => o.message.type === 'ping');
    a.tick(30); // 3 s without running: the ack below was waiting unread
    a.step(
      { type: 'ack', seq: (ping.message as { seq: number }).seq, from: 'b', updates: [] },
      'b',
    );
    for (let i = 0; i < 5; i += 1) a.tick();
    expect(a.member('b')!.state).toBe(MemberState.Alive);
    expect(a.counters.stalls).toBe(1);
  });

  it('plain SWIM runs the missed ticks and accuses the target', () => {
    const a = member('a', ['b'], { lifeguard: false });
    const ping = ticksUntil(a, (o) => o.message.type === 'ping');
    a.tick(30);
    a.step(
      { type: 'ack', seq: (ping.message as { seq: number }).seq, from: 'b', updates: [] },
      'b',
    );
    expect(a.member('b')!.state).toBe(MemberState.Suspect);
  });
});

describe('dissemination and state sync', () => {
  it('a push-pull join learns the full state; a peer believed dead is only suspected', () => {
    const seed = member('seed', ['x', 'y']);
    seed.step(
      {
        type: 'gossip',
        from: 'y',
        updates: [{ kind: 'dead', id: 'x', incarnation: 0, from: 'y' }],
      },
      'y',
    );
    const joiner = member('joiner', []);
    joiner.join(['seed']);
    const [hello] = joiner.drain().outbound;
    expect(hello).toMatchObject({
      to: 'seed',
      channel: 'stream',
      message: { type: 'push-pull', reply: false },
    });
    seed.step(hello.message, 'joiner');
    expect(seed.member('joiner')!.state).toBe(MemberState.Alive);
    const [reply] = seed.drain().outbound.filter((o) => o.message.type === 'push-pull');
    joiner.step(reply.message, 'seed');
    expect(joiner.member('y')!.state).toBe(MemberState.Alive);
    expect(joiner.member('x')).toBeUndefined();
  });

  it('caps the member table and counts what it refused', () => {
    const a = member('a', [], { membersMax: 3 });
    const updates: Update[] = ['b', 'c', 'd'].map((id) => ({
      kind: 'alive',
      id,
      incarnation: 0,
      address: id,
      meta: META,
    }));
    a.step({ type: 'gossip', from: 'b', updates }, 'b');
    expect(a.members()).toHaveLength(3);
    expect(a.counters.membersRefused).toBe(1);
  });

  it('the broadcast queue sends least-sent and newest first, up to the retransmit limit', () => {
    const queue = new BroadcastQueue(10);
    const alive = (id: string, incarnation = 0): Update => ({
      kind: 'alive',
      id,
      incarnation,
      address: id,
      meta: META,
    });
    queue.enqueue(alive('a'));
    queue.enqueue(alive('b'));
    expect(queue.take(1, 2).map((u) => u.id)).toEqual(['b']);
    expect(queue.take(2, 2).map((u) => u.id)).toEqual(['a', 'b']);
    expect(queue.size).toBe(1);
    queue.enqueue(alive('a', 5)); // replaces the pending update about a
    expect(queue.take(5, 2)).toEqual([alive('a', 5)]);
    expect(queue.take(5, 2)).toEqual([alive('a', 5)]);
    expect(queue.size).toBe(0);
  });

  it('the broadcast queue is bounded: past capacity the most-sent update goes', () => {
    const queue = new BroadcastQueue(2);
    const alive = (id: string): Update => ({
      kind: 'alive',
      id,
      incarnation: 0,
      address: id,
      meta: META,
    });
    queue.enqueue(alive('a'));
    queue.take(1, 10);
    queue.enqueue(alive('b'));
    queue.enqueue(alive('c'));
    expect(queue.size).toBe(2);
    expect(queue.pending('a')).toBeUndefined();
    expect(queue.dropped).toBe(1);
  });

  it('retransmits each update about 4·log10(n+1) times', () => {
    const config = resolveSwimConfig({ id: 'a', address: 'a', meta: META, random: lcg() });
    expect([1, 9, 10, 100, 1000].map((n) => retransmitLimit(config, n))).toEqual([4, 4, 8, 12, 16]);
  });

  it('refuses a configuration whose probe timeout is not shorter than the interval', () => {
    expect(() =>
      resolveSwimConfig({
        id: 'a',
        address: 'a',
        meta: META,
        random: lcg(),
        probeTimeoutTicks: 10,
      }),
    ).toThrow(/probeTimeoutTicks/);
  });
});
