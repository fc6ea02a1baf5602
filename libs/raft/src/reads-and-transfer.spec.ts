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
    net.tickAll(1); // a heartbeat round starts the lease
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
