import { TestNet, bytes } from './__tests__/harness';
import { ConfChangeType } from './confchange';
import { ProgressState } from './progress';
import { MessageType, Role } from './types';

const add = (nodeId: string) => ({ type: ConfChangeType.AddNode, nodeId });
const learner = (nodeId: string) => ({ type: ConfChangeType.AddLearner, nodeId });
const remove = (nodeId: string) => ({ type: ConfChangeType.RemoveNode, nodeId });

function threeNodes(overrides = {}): TestNet {
  const net = new TestNet(['n1', 'n2', 'n3'], overrides);
  net.elect('n1');
  return net;
}

describe('membership changes', () => {
  it('adds a learner that catches up without voting, then promotes it', () => {
    const net = threeNodes();
    for (let i = 0; i < 5; i += 1) net.rn('n1').propose(bytes(`e${i}`));
    net.stabilize();
    net.addNode('n4', []);
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [learner('n4')] }).status,
    ).toBe('appended');
    net.stabilize();
    net.tickAll(2);
    expect(net.rn('n1').status().confState.learners).toEqual(['n4']);
    expect(net.appliedData('n4')).toHaveLength(5);
    // A learner never campaigns.
    for (let i = 0; i < 40; i += 1) net.tick('n4');
    expect(net.rn('n4').status().role).toBe(Role.Follower);
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [add('n4')] }).status,
    ).toBe('appended');
    net.stabilize();
    expect(net.rn('n1').status().confState.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(net.rn('n4').status().confState.voters).toEqual(['n1', 'n2', 'n3', 'n4']);
  });

  it('a learner is not counted for commitment', () => {
    const net = threeNodes();
    net.addNode('n4', []);
    net.rn('n1').proposeConfChange({ transition: 'auto', changes: [learner('n4')] });
    net.stabilize();
    net.isolate('n2');
    net.isolate('n3');
    const before = net.rn('n1').status().commit;
    net.rn('n1').propose(bytes('needs-a-voter'));
    net.stabilize();
    expect(net.rn('n1').status().commit).toBe(before);
  });

  it('removes a node; the rest keep committing without it', () => {
    const net = threeNodes();
    net.rn('n1').proposeConfChange({ transition: 'auto', changes: [remove('n3')] });
    net.stabilize();
    expect(net.rn('n1').status().confState.voters).toEqual(['n1', 'n2']);
    net.isolate('n3');
    net.rn('n1').propose(bytes('two-of-two'));
    net.stabilize();
    expect(net.appliedData('n2')).toEqual(['two-of-two']);
  });

  it('a leader that removes itself steps down and the others elect a leader', () => {
    const net = threeNodes();
    net.rn('n1').proposeConfChange({ transition: 'auto', changes: [remove('n1')] });
    net.stabilize();
    expect(net.rn('n1').status().role).toBe(Role.Follower);
    for (let i = 0; i < 40 && !['n2', 'n3'].includes(net.leader() ?? ''); i += 1) net.tickAll();
    expect(['n2', 'n3']).toContain(net.leader());
  });

  it('refuses a second conf change while one is pending (the single-server safety rule)', () => {
    const net = threeNodes();
    net.isolate('n2');
    net.isolate('n3');
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [learner('n4')] }).status,
    ).toBe('appended');
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [learner('n5')] }),
    ).toEqual({
      status: 'refused',
      refusal: { reason: 'conf-change-pending' },
    });
  });

  it('refuses an invalid conf change with the reason', () => {
    const net = threeNodes();
    const result = net.rn('n1').proposeConfChange({
      transition: 'auto',
      changes: [remove('n1'), remove('n2'), remove('n3')],
    });
    expect(result.status).toBe('refused');
  });

  it('changes two voters at once through joint consensus and leaves it automatically', () => {
    const net = threeNodes();
    net.addNode('n4', []);
    net.addNode('n5', []);
    const result = net
      .rn('n1')
      .proposeConfChange({ transition: 'auto', changes: [add('n4'), add('n5')] });
    expect(result.status).toBe('appended');
    // While joint, a commit needs a majority of {n1,n2,n3} and of {n1..n5}.
    net.stabilize();
    net.tickAll(2);
    const status = net.rn('n1').status();
    expect(status.isJoint).toBe(false);
    expect(status.confState.voters).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(net.rn('n5').status().confState.voters).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
  });

  it('in a joint configuration both majorities are needed to commit', () => {
    const net = threeNodes();
    net.addNode('n4', []);
    net.addNode('n5', []);
    // Learners first: C_new = {n1,n4,n5} must be reachable for the strict check to allow it.
    for (const id of ['n4', 'n5']) {
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [learner(id)] });
      net.stabilize();
    }
    net.rn('n1').proposeConfChange({
      transition: 'joint-explicit',
      changes: [add('n4'), add('n5'), remove('n2'), remove('n3')],
    });
    net.stabilize();
    expect(net.rn('n1').status().isJoint).toBe(true);
    // C_old = {n1,n2,n3}; C_new = {n1,n4,n5}. Cut n2 and n3: C_old has no majority.
    net.isolate('n2');
    net.isolate('n3');
    const before = net.rn('n1').status().commit;
    net.rn('n1').propose(bytes('joint'));
    net.stabilize();
    expect(net.rn('n1').status().commit).toBe(before);
    net.heal();
    net.tickAll(2);
    expect(net.rn('n1').status().commit).toBeGreaterThan(before);
    // Leaving explicitly.
    expect(net.rn('n1').proposeConfChange({ transition: 'auto', changes: [] }).status).toBe(
      'appended',
    );
    net.stabilize();
    expect(net.rn('n1').status().isJoint).toBe(false);
    expect(net.rn('n1').status().confState.voters).toEqual(['n1', 'n4', 'n5']);
  });
});

describe('strict reconfiguration check (etcd --strict-reconfig-check)', () => {
  /** n1 leads; n3 has been silent for more than an election timeout (10 ticks). */
  function withSilentN3(): TestNet {
    const net = threeNodes();
    net.isolate('n3');
    for (let i = 0; i < 11; i += 1) {
      net.tick('n1');
      net.tick('n2');
      net.stabilize();
    }
    expect(net.leader()).toBe('n1');
    expect(net.rn('n1').status().progress.get('n3')?.reachable).toBe(false);
    expect(net.rn('n1').status().progress.get('n2')?.reachable).toBe(true);
    return net;
  }

  it('refuses a voter that would leave the cluster without a reachable quorum, with the numbers', () => {
    const net = withSilentN3();
    net.addNode('n4', []);
    const result = net.rn('n1').proposeConfChange({ transition: 'auto', changes: [add('n4')] });
    expect(result).toMatchObject({
      status: 'refused',
      refusal: { reason: 'reconfiguration-unsafe', voters: 4, quorum: 3, reachable: 2 },
    });
    const detail = (result as { refusal: { detail: string } }).refusal.detail;
    expect(detail).toContain('4 voters, which need 3 for a quorum, but only 2 are reachable');
    expect(detail).toContain('n3, n4');
    expect(net.rn('n1').status().lastIndex).toBe(net.rn('n1').status().commit);
  });

  it('still adds a learner: the voters, and so the quorum, do not change', () => {
    const net = withSilentN3();
    net.addNode('n4', []);
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [learner('n4')] }).status,
    ).toBe('appended');
  });

  it('refuses to remove a healthy voter while another voter is unreachable', () => {
    const net = withSilentN3();
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [remove('n2')] }),
    ).toMatchObject({
      status: 'refused',
      refusal: { reason: 'reconfiguration-unsafe', voters: 2, quorum: 2, reachable: 1 },
    });
    // Removing the unreachable voter itself leaves {n1, n2}, both reachable.
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [remove('n3')] }).status,
    ).toBe('appended');
  });

  it('accepts a new voter when the rest still make a reachable quorum', () => {
    const net = threeNodes();
    net.addNode('n4', []);
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [add('n4')] }).status,
    ).toBe('appended');
  });

  it('a second voter for a single-node cluster must answer first (or be forced)', () => {
    const net = new TestNet(['n1'], {}, ['n1']);
    net.elect('n1');
    net.addNode('n2', []);
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [add('n2')] }),
    ).toMatchObject({ refusal: { reason: 'reconfiguration-unsafe', voters: 2, reachable: 1 } });
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [add('n2')] }, { force: true })
        .status,
    ).toBe('appended');
  });

  it('a voter is reachable again as soon as it answers', () => {
    const net = withSilentN3();
    net.heal();
    net.tickAll(2);
    expect(net.rn('n1').status().progress.get('n3')?.reachable).toBe(true);
    net.addNode('n4', []);
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [add('n4')] }).status,
    ).toBe('appended');
  });

  it('is off with strictReconfigCheck: false', () => {
    const net = new TestNet(['n1'], { strictReconfigCheck: false }, ['n1']);
    net.elect('n1');
    expect(
      net.rn('n1').proposeConfChange({ transition: 'auto', changes: [add('n2')] }).status,
    ).toBe('appended');
  });
});

describe('snapshots and log compaction (Raft §7)', () => {
  function compactLeader(net: TestNet): number {
    const leader = net.node('n1');
    const applied = leader.rn.status().applied;
    leader.storage.createSnapshot(
      applied,
      leader.rn.status().confState,
      bytes(`state-at-${applied}`.padEnd(100, '.')),
    );
    leader.storage.compact(applied);
    return applied;
  }

  it('sends a lagging follower an InstallSnapshot, in chunks, then resumes appends', () => {
    const net = threeNodes({ snapshotChunkBytes: 16 });
    net.isolate('n3');
    for (let i = 0; i < 20; i += 1) net.rn('n1').propose(bytes(`e${i}`));
    net.stabilize();
    const snapIndex = compactLeader(net);
    net.rn('n1').propose(bytes('after-snapshot'));
    net.stabilize();
    net.heal();
    net.delivered = [];
    net.tickAll(4);
    const chunks = net.delivered.filter((m) => m.type === MessageType.Snap && m.to === 'n3');
    expect(chunks.length).toBe(Math.ceil(100 / 16));
    expect(net.node('n3').restored?.meta.index).toBe(snapIndex);
    expect(new TextDecoder().decode(net.node('n3').restored!.data)).toContain(
      `state-at-${snapIndex}`,
    );
    expect(net.appliedData('n3')).toEqual(['after-snapshot']);
    expect(net.rn('n1').status().progress.get('n3')?.state).toBe(ProgressState.Replicate);
  });

  it('resumes a snapshot transfer from the acknowledged offset after a lost chunk', () => {
    const net = threeNodes({ snapshotChunkBytes: 16 });
    net.isolate('n3');
    for (let i = 0; i < 20; i += 1) net.rn('n1').propose(bytes(`e${i}`));
    net.stabilize();
    const snapIndex = compactLeader(net);
    net.heal();
    let dropped = false;
    net.filter = (m) => {
      if (!dropped && m.type === MessageType.Snap && m.snapshotChunk!.offset === 48) {
        dropped = true;
        return false;
      }
      return true;
    };
    net.delivered = [];
    for (let i = 0; i < 12; i += 1) net.tickAll();
    const offsets = net.delivered
      .filter((m) => m.type === MessageType.Snap)
      .map((m) => m.snapshotChunk!.offset);
    expect(dropped).toBe(true);
    // After the loss the leader resends from 48, not from 0.
    expect(offsets.filter((o) => o === 0)).toHaveLength(1);
    expect(offsets.filter((o) => o === 48)).toHaveLength(1);
    expect(net.node('n3').restored?.meta.index).toBe(snapIndex);
  });

  it('a follower ignores a snapshot older than its commit index', () => {
    const net = threeNodes();
    for (let i = 0; i < 5; i += 1) net.rn('n1').propose(bytes(`e${i}`));
    net.stabilize();
    const stale = net.node('n1').storage.snapshot();
    net.rn('n2').step({
      ...net.delivered[0],
      type: MessageType.Snap,
      from: 'n1',
      to: 'n2',
      term: net.rn('n2').status().term,
      snapshotChunk: { meta: stale.meta, offset: 0, data: new Uint8Array(0), totalBytes: 0 },
    });
    net.stabilize();
    expect(net.node('n2').restored).toBeUndefined();
  });
});
