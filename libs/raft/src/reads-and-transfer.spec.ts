import { TestNet, bytes } from './__tests__/harness';
import { MessageType, Role } from './types';

describe('ReadIndex (dissertation §6.4)', () => {
  it('answers a read on the leader after a quorum confirms it is still leader', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.rn('n1').propose(bytes('w'));
    net.stabilize();
    const commit = net.rn('n1').status().commit;
    expect(net.rn('n1').readIndex('r1')).toEqual({ status: 'queued' });
    // Nothing is answered before the heartbeat round.
    net.process('n1');
    expect(net.node('n1').readStates).toEqual([]);
    net.stabilize();
    expect(net.node('n1').readStates).toEqual([{ index: commit, requestCtx: 'r1' }]);
  });

  it('does not answer a read when the leader cannot reach a quorum', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.isolate('n1');
    net.rn('n1').readIndex('r1');
    net.stabilize();
    expect(net.node('n1').readStates).toEqual([]);
  });

  it('a new leader holds reads until it has committed an entry of its term', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.isolate('n2');
    net.isolate('n3');
    net.rn('n1').campaign();
    net.stabilize();
    net.heal();
    net.filter = (m) =>
      !(m.type === MessageType.PreVote || m.type === MessageType.Vote) || m.from !== 'n1';
    // n1 is not leader yet: forwarded nowhere, refused.
    expect(net.rn('n1').readIndex('early').status).toBe('refused');
    net.filter = () => true;
    net.elect('n1');
    expect(net.rn('n1').status().role).toBe(Role.Leader);
    expect(net.node('n1').readStates.map((s) => s.requestCtx)).toEqual([]);
    net.rn('n1').readIndex('after');
    net.stabilize();
    const state = net.node('n1').readStates.find((s) => s.requestCtx === 'after');
    expect(state).toBeDefined();
    expect(net.node('n1').storage.term(state!.index)).toBe(net.rn('n1').status().term);
  });

  it('queues reads on a leader that has not committed in its term, then answers them', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.filter = (m) => !(m.type === MessageType.AppResp);
    net.elect('n1');
    expect(net.rn('n1').readIndex('q').status).toBe('queued');
    net.stabilize();
    expect(net.node('n1').readStates).toEqual([]);
    net.filter = () => true;
    net.tickAll(2);
    expect(net.node('n1').readStates.map((s) => s.requestCtx)).toEqual(['q']);
  });

  it('a follower forwards a read to the leader and gets the read index back', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    expect(net.rn('n2').readIndex('f1')).toEqual({ status: 'forwarded' });
    net.stabilize();
    expect(net.node('n2').readStates).toEqual([
      { index: net.rn('n1').status().commit, requestCtx: 'f1' },
    ]);
  });
});

describe('leader lease reads (dissertation §6.4.1)', () => {
  function leasedNet(): TestNet {
    const net = new TestNet(['n1', 'n2', 'n3'], { leaseDriftTicks: 2 });
    net.elect('n1');
    // The first periodic round is spared (the election's append was answered); the second
    // heartbeat round starts the lease at a known tick.
    net.tickAll(2);
    return net;
  }

  it('answers a lease read without a round trip while the lease holds', () => {
    const net = leasedNet();
    expect(net.rn('n1').status().leaseValid).toBe(true);
    net.delivered = [];
    net.rn('n1').readIndex('lease-1', 'lease');
    net.process('n1');
    expect(net.node('n1').readStates.map((s) => s.requestCtx)).toEqual(['lease-1']);
  });

  it('the lease expires electionTick - drift - 1 ticks after the last quorum heartbeat', () => {
    const net = leasedNet();
    net.isolate('n1');
    for (let i = 0; i < 6; i += 1) net.tick('n1');
    expect(net.rn('n1').status().leaseValid).toBe(true);
    net.tick('n1');
    expect(net.rn('n1').status().leaseValid).toBe(false);
    // Without a lease, the read falls back to ReadIndex, which cannot complete in isolation.
    net.rn('n1').readIndex('lease-2', 'lease');
    net.stabilize();
    expect(net.node('n1').readStates).toEqual([]);
  });

  it('followers that acknowledged the lease refuse to elect anyone before it expires', () => {
    const net = leasedNet();
    net.isolate('n1');
    // n2 campaigns at once: n3 heard from n1 recently and ignores it.
    net.rn('n2').campaign();
    net.stabilize();
    expect(net.rn('n2').status().role).not.toBe(Role.Leader);
    expect(net.rn('n1').status().leaseValid).toBe(true);
  });

  it('tells the driver the tick its lease started at, so the lease can be checked in real time', () => {
    const net = leasedNet();
    const start = net.rn('n1').leaseStartTick();
    expect(start).toBeGreaterThanOrEqual(0);
    expect(start).toBeLessThanOrEqual(net.rn('n1').ticks);
    // The lease in ticks ends electionTick - drift - 1 ticks after that start (as above).
    net.isolate('n1');
    while (net.rn('n1').status().leaseValid) net.tick('n1');
    expect(net.rn('n1').ticks).toBe(start + 10 - 2 - 1);
    // A follower has no lease to start.
    expect(net.rn('n2').leaseStartTick()).toBe(-1);
  });

  it('a leader that started a transfer stops serving lease reads', () => {
    const net = leasedNet();
    net.rn('n1').transferLeadership('n2');
    expect(net.rn('n1').status().leaseValid).toBe(false);
  });
});

describe('leadership transfer (dissertation §3.10)', () => {
  it('hands leadership to an up-to-date follower with TimeoutNow', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.rn('n1').transferLeadership('n2');
    net.stabilize();
    expect(net.leader()).toBe('n2');
    expect(net.delivered.some((m) => m.type === MessageType.TimeoutNow && m.to === 'n2')).toBe(
      true,
    );
  });

  it('catches a lagging target up before sending TimeoutNow', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.isolate('n3');
    for (let i = 0; i < 10; i += 1) net.rn('n1').propose(bytes(`e${i}`));
    net.stabilize();
    net.heal();
    net.rn('n1').transferLeadership('n3');
    net.stabilize();
    expect(net.leader()).toBe('n3');
    expect(net.appliedData('n3')).toHaveLength(10);
  });

  it('refuses proposals while a transfer is in progress', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.isolate('n2');
    net.rn('n1').transferLeadership('n2');
    expect(net.rn('n1').propose(bytes('x'))).toEqual({
      status: 'refused',
      refusal: { reason: 'transferring-leadership' },
    });
  });

  it('abandons a transfer that does not finish within an election timeout', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.isolate('n2');
    net.rn('n1').transferLeadership('n2');
    expect(net.rn('n1').status().leadTransferee).toBe('n2');
    for (let i = 0; i < 10; i += 1) {
      net.tick('n1');
      net.stabilize();
    }
    expect(net.rn('n1').status().leadTransferee).toBe('');
    expect(net.rn('n1').status().role).toBe(Role.Leader);
    expect(net.rn('n1').propose(bytes('after')).status).toBe('appended');
  });

  it('a follower forwards a transfer request to the leader', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.rn('n3').transferLeadership('n3');
    net.stabilize();
    expect(net.leader()).toBe('n3');
  });
});

describe('heartbeats spared under replication', () => {
  const heartbeatsTo = (net: TestNet) =>
    net.delivered
      .filter((m) => m.type === MessageType.Heartbeat)
      .map((m) => m.to)
      .sort();

  it('a periodic round skips followers sent an append that answered; a quiet interval gets one', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.tickAll(2);
    net.rn('n1').propose(bytes('w'));
    net.stabilize();
    net.delivered = [];
    net.tickAll(1);
    expect(heartbeatsTo(net)).toEqual([]);
    // Nothing was appended in that interval: the next round reaches everyone again.
    net.tickAll(1);
    expect(heartbeatsTo(net)).toEqual(['n2', 'n3']);
  });

  it('a follower that was sent appends but did not answer still gets its heartbeat', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.tickAll(2);
    net.filter = (m) => !(m.type === MessageType.AppResp && m.from === 'n3');
    net.rn('n1').propose(bytes('w'));
    net.stabilize();
    net.delivered = [];
    net.tickAll(1);
    expect(heartbeatsTo(net)).toEqual(['n3']);
  });

  it('keeps the lease on appends alone: their answers echo the tick they were sent at', () => {
    const net = new TestNet(['n1', 'n2', 'n3'], { leaseDriftTicks: 2 });
    net.elect('n1');
    net.tickAll(2);
    net.delivered = [];
    // Twice as long as a lease lasts from one acknowledgement, with no heartbeat at all.
    for (let tick = 0; tick < 14; tick += 1) {
      net.rn('n1').propose(bytes(`w${tick}`));
      net.stabilize();
      net.tickAll(1);
    }
    expect(heartbeatsTo(net)).toEqual([]);
    expect(net.rn('n1').status().leaseValid).toBe(true);
    net.rn('n1').readIndex('lease-under-load', 'lease');
    net.process('n1');
    expect(net.node('n1').readStates.map((s) => s.requestCtx)).toEqual(['lease-under-load']);
  });

  it('an append answer from an older tick does not extend the lease', () => {
    const net = new TestNet(['n1', 'n2', 'n3'], { leaseDriftTicks: 2 });
    net.elect('n1');
    net.tickAll(2);
    // Answers arrive, but they echo tick 0 (a follower from before sentTick on appends).
    net.transform = (m) => (m.type === MessageType.AppResp ? { ...m, sentTick: 0 } : m);
    net.filter = (m) => m.type !== MessageType.HeartbeatResp;
    for (let tick = 0; tick < 14; tick += 1) {
      net.rn('n1').propose(bytes(`w${tick}`));
      net.stabilize();
      net.tickAll(1);
    }
    expect(net.rn('n1').status().leaseValid).toBe(false);
  });

  it('a round carrying a pending read goes to every follower, appends or not', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.tickAll(2);
    // The read's confirmations are lost, so it stays pending across the next round.
    net.filter = (m) => m.type !== MessageType.HeartbeatResp;
    net.rn('n1').readIndex('pending');
    net.rn('n1').propose(bytes('w'));
    net.stabilize();
    net.delivered = [];
    net.tickAll(1);
    expect(heartbeatsTo(net)).toEqual(['n2', 'n3']);
    expect(net.delivered.filter((m) => m.type === MessageType.Heartbeat)[0].context).toBe(
      'pending',
    );
  });
});
