import { TestNet } from './__tests__/harness';
import { MessageType, Role } from './types';

describe('leader election (Raft §5.2)', () => {
  it('elects the node whose election timer fires first, with a majority of votes', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    expect(net.rn('n1').status().role).toBe(Role.Leader);
    expect(net.rn('n2').status().lead).toBe('n1');
    expect(net.rn('n3').status().lead).toBe('n1');
    expect(net.rn('n1').status().term).toBe(2);
  });

  it('elects a leader from ticks alone, with randomized timeouts', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    for (let i = 0; i < 40 && net.leader() === undefined; i += 1) net.tickAll();
    expect(net.leader()).toBeDefined();
  });

  it('randomizes the election timeout within [electionTick, 2*electionTick)', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    const seen = new Set<number>();
    for (let i = 0; i < 50; i += 1) {
      net.rn('n1').raft.becomeFollower(net.rn('n1').raft.term + 1, '');
      const timeout = net.rn('n1').raft.randomizedElectionTimeout;
      expect(timeout).toBeGreaterThanOrEqual(10);
      expect(timeout).toBeLessThan(20);
      seen.add(timeout);
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  it('rejects a vote for a candidate whose log is behind (§5.4.1)', () => {
    const net = new TestNet(['n1', 'n2', 'n3'], { preVote: false, checkQuorum: false });
    net.elect('n1');
    net.isolate('n3');
    net.rn('n1').propose(new TextEncoder().encode('x'));
    net.stabilize();
    net.heal();
    net.isolate('n1');
    // n3 missed the entry: n2 must refuse it.
    net.rn('n3').campaign();
    net.stabilize();
    const votes = net.delivered.filter(
      (m) => m.type === MessageType.VoteResp && m.from === 'n2' && m.to === 'n3',
    );
    expect(votes.length).toBeGreaterThan(0);
    expect(votes.every((m) => m.reject)).toBe(true);
    expect(net.rn('n3').status().role).not.toBe(Role.Leader);
  });

  it('grants at most one vote per term', () => {
    const net = new TestNet(['n1', 'n2', 'n3'], { preVote: false, checkQuorum: false });
    net.isolate('n3');
    net.rn('n1').campaign(); // n1 asks n2 for term 2
    net.deliverOnce();
    net.deliverOnce();
    net.heal();
    net.cutLink('n1', 'n2');
    net.cutLink('n2', 'n1');
    const n2 = net.rn('n2').raft;
    expect(n2.vote).toBe('n1');
    // A second candidate in the same term is refused by n2.
    net.rn('n3').raft.becomeFollower(1, '');
    net.rn('n3').campaign();
    net.stabilize();
    const toN3 = net.delivered.filter(
      (m) => m.type === MessageType.VoteResp && m.from === 'n2' && m.to === 'n3' && m.term === 2,
    );
    expect(toN3.every((m) => m.reject)).toBe(true);
  });

  it('a candidate that hears from a leader of its term becomes follower', () => {
    const net = new TestNet(['n1', 'n2', 'n3'], { preVote: false });
    net.elect('n1');
    net.isolate('n2');
    net.rn('n2').raft.becomeCandidate(); // term 3, nobody answers
    net.heal();
    net.rn('n1').raft.becomeFollower(3, '');
    net.elect('n1');
    expect(net.rn('n2').status().role).toBe(Role.Follower);
    expect(net.rn('n2').status().lead).toBe('n1');
  });
});

describe('PreVote (dissertation §9.6)', () => {
  it('a partitioned node rejoining does not depose a healthy leader', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    const term = net.rn('n1').status().term;
    net.isolate('n3');
    for (let i = 0; i < 100; i += 1) net.tick('n3');
    // Pre-elections never increment the term.
    expect(net.rn('n3').status().term).toBe(term);
    net.heal();
    net.tickAll(3);
    expect(net.leader()).toBe('n1');
    expect(net.rn('n1').status().term).toBe(term);
  });

  it('without PreVote, the rejoining node does disrupt the cluster (the contrast)', () => {
    const net = new TestNet(['n1', 'n2', 'n3'], { preVote: false, checkQuorum: false });
    net.elect('n1');
    const term = net.rn('n1').status().term;
    net.isolate('n3');
    for (let i = 0; i < 100; i += 1) net.tick('n3');
    expect(net.rn('n3').status().term).toBeGreaterThan(term);
    net.heal();
    net.tickAll(3);
    expect(net.rn('n1').status().term).toBeGreaterThan(term);
  });

  it('grants a pre-vote without changing the voter term or vote', () => {
    const net = new TestNet(['n1', 'n2', 'n3'], { checkQuorum: false });
    net.rn('n1').campaign();
    net.deliverOnce(); // pre-votes reach n2, n3
    expect(net.rn('n2').raft.vote).toBe('');
    expect(net.rn('n2').raft.term).toBe(1);
  });
});

describe('CheckQuorum', () => {
  it('a leader that loses contact with a quorum steps down', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.isolate('n1');
    for (let i = 0; i < 20; i += 1) net.tick('n1');
    expect(net.rn('n1').status().role).not.toBe(Role.Leader);
  });

  it('a leader in contact with a quorum stays leader', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    net.elect('n1');
    net.isolate('n3');
    for (let i = 0; i < 25; i += 1) {
      net.tick('n1');
      net.stabilize();
    }
    expect(net.rn('n1').status().role).toBe(Role.Leader);
  });

  it('followers that hear from a leader ignore vote requests (leader stickiness)', () => {
    const net = new TestNet(['n1', 'n2', 'n3'], { preVote: false });
    net.elect('n1');
    const term = net.rn('n1').status().term;
    net.isolate('n3');
    for (let i = 0; i < 40; i += 1) net.tick('n3');
    net.heal();
    net.stabilize();
    // n2 did not vote for n3 while n1 was alive and heard from.
    expect(net.rn('n2').status().lead).toBe('n1');
    expect(net.rn('n2').raft.vote).not.toBe('n3');
    expect(net.rn('n3').status().term).toBeGreaterThan(term);
  });
});
