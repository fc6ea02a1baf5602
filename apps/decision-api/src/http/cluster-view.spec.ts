import type { NodeStatus } from '@parley/command-log-api';
import { clusterView } from './cluster-view';

function status(id: string, role: string, lastContactMs: Record<string, number>): NodeStatus {
  return {
    id,
    address: `127.0.0.1:70${id.slice(1)}`,
    role,
    term: 3,
    leader: 'n1',
    commitIndex: 10,
    appliedIndex: 9,
    lastContactMs,
    members: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] },
    peers: { n1: '127.0.0.1:701', n2: '127.0.0.1:702', n3: '127.0.0.1:703', n4: '127.0.0.1:704' },
    snapshotIndex: 0,
    snapshotPendingUpload: null,
  };
}

describe('GET /v1/cluster view', () => {
  it('lists a member that did not answer as unreachable, with the address its peers know', () => {
    const view = clusterView([
      status('n1', 'leader', { n2: 4, n3: 2500, n4: 7 }),
      status('n2', 'follower', { n1: 3 }),
    ]);
    expect(view.leader).toBe('n1');
    expect(view.nodes.map((n) => [n.id, n.role])).toEqual([
      ['n1', 'leader'],
      ['n2', 'follower'],
      ['n3', 'unreachable'],
      ['n4', 'unreachable'],
    ]);
    expect(view.nodes[2]).toMatchObject({
      address: '127.0.0.1:703',
      commitIndex: null,
      appliedIndex: null,
    });
  });

  it("gives one number per node: the leader's view, 0 for the leader itself", () => {
    const view = clusterView([
      status('n1', 'leader', { n2: 4, n3: 2500, n4: 7 }),
      status('n2', 'follower', { n1: 3, n3: 1 }),
    ]);
    expect(view.nodes.map((n) => n.lastContactMs)).toEqual([0, 4, 2500, 7]);
  });

  it('without an answering leader, the freshest view any other replica has', () => {
    const view = clusterView([
      status('n2', 'follower', { n1: 900, n3: 40 }),
      status('n3', 'follower', { n1: 1200, n2: 30 }),
    ]);
    expect(view.nodes.map((n) => [n.id, n.role, n.lastContactMs])).toEqual([
      ['n1', 'unreachable', 900],
      ['n2', 'follower', 30],
      ['n3', 'follower', 40],
      ['n4', 'unreachable', null],
    ]);
  });
});
