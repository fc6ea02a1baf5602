import { TestNet, bytes } from './__tests__/harness';
import { ProgressState } from './progress';
import { EntryType, MessageType, Role } from './types';

function leaderNet(ids = ['n1', 'n2', 'n3'], overrides = {}): TestNet {
  const net = new TestNet(ids, overrides);
  net.elect('n1');
  return net;
}

describe('log replication (Raft §5.3)', () => {
  it('commits a proposal once a majority has it, and every replica applies it', () => {
    const net = leaderNet();
    net.isolate('n3');
    const result = net.rn('n1').propose(bytes('a'));
    expect(result.status).toBe('appended');
    net.stabilize();
    expect(net.rn('n1').status().commit).toBe(result.status === 'appended' ? result.index : -1);
    expect(net.appliedData('n1')).toEqual(['a']);
    expect(net.appliedData('n2')).toEqual(['a']);
    expect(net.appliedData('n3')).toEqual([]);
    net.heal();
    net.tickAll(2);
    expect(net.appliedData('n3')).toEqual(['a']);
  });

  it('does not commit without a majority', () => {
    const net = leaderNet();
    net.isolate('n2');
    net.isolate('n3');
    const before = net.rn('n1').status().commit;
    net.rn('n1').propose(bytes('lonely'));
    net.stabilize();
    expect(net.rn('n1').status().commit).toBe(before);
    expect(net.appliedData('n1')).toEqual([]);
  });

  it('batches every proposal made between two Ready cycles into one append per follower', () => {
    const net = leaderNet();
    for (let i = 0; i < 50; i += 1) net.rn('n1').propose(bytes(`p${i}`));
    net.queue = [];
    net.process('n1');
    const apps = net.queue.filter((m) => m.type === MessageType.App && m.to === 'n2');
    expect(apps).toHaveLength(1);
    expect(apps[0].entries).toHaveLength(50);
    net.stabilize();
    expect(net.appliedData('n2')).toHaveLength(50);
  });

  it('sends a batch of entries in one append when the follower needs them', () => {
    const net = leaderNet();
    net.isolate('n3');
    for (let i = 0; i < 30; i += 1) net.rn('n1').propose(bytes(`p${i}`));
    net.stabilize();
    net.heal();
    net.delivered = [];
    // n3 answered (before its isolation) in this heartbeat interval, so the first periodic
    // round spares it; the second reaches it, and its answer brings the missing entries.
    net.tickAll(2);
    const toN3 = net.delivered.filter((m) => m.type === MessageType.App && m.to === 'n3');
    expect(Math.max(...toN3.map((m) => m.entries.length))).toBeGreaterThanOrEqual(30);
    expect(net.appliedData('n3')).toHaveLength(30);
  });

  it('keeps several appends in flight to a follower in replicate state (pipelining)', () => {
    const net = leaderNet();
    net.stabilize();
    expect(net.rn('n1').status().progress.get('n2')?.state).toBe(ProgressState.Replicate);
    net.queue = [];
    for (let i = 0; i < 5; i += 1) {
      net.rn('n1').propose(bytes(`p${i}`));
      net.process('n1'); // sends, but no acknowledgement is delivered
    }
    expect(net.queue.filter((m) => m.type === MessageType.App && m.to === 'n2')).toHaveLength(5);
    expect(net.rn('n1').status().progress.get('n2')?.inflight).toBe(5);
    net.stabilize();
    expect(net.appliedData('n2')).toHaveLength(5);
  });

  it('stops sending when maxInflightMsgs appends are unacknowledged (flow control)', () => {
    const net = leaderNet(['n1', 'n2', 'n3'], { maxInflightMsgs: 3, maxSizePerMsgBytes: 1 });
    net.stabilize();
    net.queue = [];
    for (let i = 0; i < 10; i += 1) {
      net.rn('n1').propose(bytes(`p${i}`));
      net.process('n1');
    }
    const toN2 = net.queue.filter((m) => m.type === MessageType.App && m.to === 'n2');
    expect(toN2).toHaveLength(3);
    expect(net.rn('n1').status().progress.get('n2')?.inflight).toBe(3);
    net.stabilize();
    expect(net.appliedData('n2')).toHaveLength(10);
  });

  it('bounds the entry bytes of one append by maxSizePerMsgBytes', () => {
    const net = leaderNet(['n1', 'n2', 'n3'], { maxSizePerMsgBytes: 300 });
    net.isolate('n3');
    for (let i = 0; i < 20; i += 1) net.rn('n1').propose(new Uint8Array(100).fill(65 + (i % 26)));
    net.stabilize();
    net.heal();
    net.delivered = [];
    net.tickAll(3);
    const toN3 = net.delivered.filter(
      (m) => m.type === MessageType.App && m.to === 'n3' && m.entries.length > 0,
    );
    expect(Math.max(...toN3.map((m) => m.entries.length))).toBeLessThanOrEqual(3);
    expect(net.node('n3').applied.filter((e) => e.data.length === 100)).toHaveLength(20);
  });

  it('repairs a follower with a long divergent log in few round trips (fast backtracking)', () => {
    const net = new TestNet(['n1', 'n2', 'n3'], { preVote: false, checkQuorum: false });
    net.elect('n1');
    // n1 writes 50 entries that only it gets, in term 2.
    net.isolate('n1');
    for (let i = 0; i < 50; i += 1) net.rn('n1').propose(bytes(`lost${i}`));
    net.stabilize();
    // n2 becomes leader in term 3 and commits entries with n3.
    net.heal();
    net.isolate('n1');
    net.rn('n1').raft.becomeFollower(2, '');
    net.elect('n2');
    for (let i = 0; i < 5; i += 1) net.rn('n2').propose(bytes(`kept${i}`));
    net.stabilize();
    net.heal();
    net.delivered = [];
    net.tickAll(3);
    const rejections = net.delivered.filter(
      (m) => m.type === MessageType.AppResp && m.from === 'n1' && m.reject,
    );
    // One term of divergence is skipped per rejection, not one entry.
    expect(rejections.length).toBeLessThanOrEqual(2);
    expect(net.appliedData('n1')).toEqual(['kept0', 'kept1', 'kept2', 'kept3', 'kept4']);
    expect(net.node('n1').storage.lastIndex()).toBe(net.node('n2').storage.lastIndex());
  });

  it('a leader does not commit an entry from a previous term by counting replicas (figure 8)', () => {
    // Figure 8 of the Raft paper with servers s1..s5; one entry per append makes each step exact.
    const net = new TestNet(['s1', 's2', 's3', 's4', 's5'], {
      preVote: false,
      checkQuorum: false,
      maxSizePerMsgBytes: 1,
    });
    const pair = (a: string, b: string) => {
      net.cut.delete(`${a}->${b}`);
      net.cut.delete(`${b}->${a}`);
    };
    // (a) s1 leads term 2 and replicates an entry at index i to s2 only.
    net.elect('s1');
    net.isolate('s1');
    pair('s1', 's2');
    const p = net.rn('s1').propose(bytes('term2-entry'));
    const i = p.status === 'appended' ? p.index : -1;
    net.stabilize();
    expect(net.node('s2').storage.term(i)).toBe(2);
    // (b) s5 is elected for term 3 by s3, s4, s5 and appends at index i, but replicates nothing.
    net.heal();
    net.isolate('s1');
    net.isolate('s2');
    pair('s1', 's2');
    net.filter = (m) => !(m.from === 's5' && m.type === MessageType.App);
    net.elect('s5');
    expect(net.rn('s5').status().role).toBe(Role.Leader);
    expect(net.rn('s5').status().term).toBe(3);
    // (c) s1 is elected for term 4 by s1, s2, s3 and copies its term-2 entry to s3, so a
    // majority holds it; its own term-4 entries are held back.
    net.heal();
    net.isolate('s4');
    net.isolate('s5');
    // Term-4 entries are stripped from appends to followers that hold index i: s3 first rejects
    // (it lacks i), then receives i alone; s2 and s3 acknowledge i and nothing newer.
    net.transform = (m) =>
      m.from === 's1' && m.type === MessageType.App && net.node(m.to).storage.term(i) === 2
        ? { ...m, entries: m.entries.filter((e) => e.term !== 4) }
        : m;
    net.rn('s1').raft.becomeFollower(3, '');
    net.elect('s1');
    expect(net.rn('s1').status().role).toBe(Role.Leader);
    expect(net.rn('s1').status().term).toBe(4);
    expect(net.node('s3').storage.term(i)).toBe(2);
    // Counting replicas of a previous-term entry must not commit it (s5 could still win and
    // overwrite it, as in figure 8 (d)).
    expect(net.rn('s1').status().commit).toBeLessThan(i);
    expect(net.rn('s1').status().progress.get('s2')?.match).toBe(i);
    expect(net.rn('s1').status().progress.get('s3')?.match).toBe(i);
    // (e) once an entry of term 4 reaches a majority, everything before it commits.
    net.transform = (m) => m;
    net.tickAll(3);
    expect(net.rn('s1').status().commit).toBeGreaterThan(i);
    expect(net.appliedData('s3')).toContain('term2-entry');
  });

  it('a follower forwards proposals to the leader', () => {
    const net = leaderNet();
    const result = net.rn('n2').propose(bytes('via-follower'));
    expect(result).toEqual({ status: 'forwarded', leaderHint: 'n1' });
    net.stabilize();
    expect(net.appliedData('n1')).toEqual(['via-follower']);
  });

  it('a follower refuses proposals with a leader hint when forwarding is disabled', () => {
    const net = leaderNet(['n1', 'n2', 'n3'], { disableProposalForwarding: true });
    expect(net.rn('n2').propose(bytes('x'))).toEqual({
      status: 'refused',
      refusal: { reason: 'not-leader', leaderHint: 'n1' },
    });
  });

  it('refuses proposals when no leader is known', () => {
    const net = new TestNet(['n1', 'n2', 'n3']);
    expect(net.rn('n1').propose(bytes('x'))).toEqual({
      status: 'refused',
      refusal: { reason: 'no-leader' },
    });
  });

  it('refuses proposals over the uncommitted bytes bound', () => {
    const net = leaderNet(['n1', 'n2', 'n3'], { maxUncommittedEntriesBytes: 1000 });
    net.isolate('n2');
    net.isolate('n3');
    const results = [];
    for (let i = 0; i < 20; i += 1) results.push(net.rn('n1').propose(new Uint8Array(100)));
    expect(results.some((r) => r.status === 'refused' && r.refusal.reason === 'too-large')).toBe(
      true,
    );
    expect(results[0].status).toBe('appended');
  });

  it('a restarted node keeps its term, vote and log', () => {
    const net = leaderNet();
    net.rn('n1').propose(bytes('durable'));
    net.stabilize();
    const before = net.rn('n2').status();
    net.restart('n2');
    const after = net.rn('n2').status();
    expect(after.term).toBe(before.term);
    expect(after.vote).toBe(before.vote);
    expect(after.commit).toBe(before.commit);
    expect(after.lastIndex).toBe(before.lastIndex);
    net.stabilize();
    // It re-applies the committed log from its (empty) snapshot.
    net.tickAll(2);
    expect(net.appliedData('n2')).toEqual(['durable']);
  });

  it('an empty leader no-op is appended at the start of each term', () => {
    const net = leaderNet();
    const noops = net
      .node('n2')
      .applied.filter((e) => e.type === EntryType.Normal && e.data.length === 0);
    expect(noops.map((e) => e.term)).toEqual([2]);
  });
});
