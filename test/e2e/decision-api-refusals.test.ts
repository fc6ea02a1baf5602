import { AppProcess } from '../support/app-process';
import { TEST_API_KEYS, TEST_KEYS } from '../support/api-keys';
import { CommandLogCluster } from '../support/command-log-cluster';
import { freePort } from '../support/ports';
import { callRest } from '../support/rest';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

/** An agent key bound to agent `a1`: it may vote only as a1, and never names a weight. */
const A1_KEY = 'agent-a1-key-0123456789abcdef';

/**
 * decision-api's answers to refusals, on a real three-replica cluster: temporary ones (a
 * leadership transfer) are 503 with Retry-After, an unsafe membership change is a 409 naming
 * the numbers, a paused replica is listed as unreachable, and a key bound to an agent votes only
 * as that agent with the weight the proposal's policy gives it. The election timeout is 3 s
 * (300 ticks of 10 ms), so a transfer to a paused follower stays under way long enough to see.
 */
describe('decision-api: refusals, reachability and bound agent keys', () => {
  let commandLog: CommandLogCluster;
  let api: AppProcess;
  let baseUrl: string;

  beforeAll(async () => {
    commandLog = await CommandLogCluster.create(3, { PARLEY_ELECTION_TICKS: '300' });
    await commandLog.waitForLeader(60_000);
    ({ api, baseUrl } = await commandLog.startDecisionApi({
      PARLEY_API_KEYS: `${TEST_API_KEYS},agent@a1:${A1_KEY}`,
    }));
  });

  afterAll(async () => {
    await api?.stop();
    await commandLog?.stop();
  });

  const call = (method: string, path: string, options: { key?: string; body?: unknown } = {}) =>
    callRest(baseUrl, method, path, {
      ...options,
      key: options.key ?? TEST_KEYS.agent,
    });

  const operator = { key: TEST_KEYS.operator };

  /** Runs `body` with follower `id` stopped (SIGSTOP), and always lets it go on (SIGCONT). */
  async function whilePaused<T>(id: string, body: () => Promise<T>): Promise<T> {
    const child = commandLog.replica(id).process!.child;
    child.kill('SIGSTOP');
    try {
      return await body();
    } finally {
      child.kill('SIGCONT');
    }
  }

  /** The leader's own view (command-log's HTTP status) of which members answered lately. */
  async function leaderSeesUnreachable(leader: string, id: string): Promise<true | undefined> {
    const { httpPort } = commandLog.replica(leader);
    const response = await fetch(`http://127.0.0.1:${httpPort}/v1/status`, {
      signal: AbortSignal.timeout(2_000),
    });
    const status = (await response.json()) as { reachable: Record<string, boolean> };
    return status.reachable[id] === false ? true : undefined;
  }

  async function leaderAndFollowers(): Promise<[string, string, string]> {
    const leader = await commandLog.waitForLeader(60_000);
    const followers = ['n1', 'n2', 'n3'].filter((id) => id !== leader);
    return [leader, followers[0], followers[1]];
  }

  it('a bound key votes only as its agent (403 otherwise); weights come from the policy', async () => {
    const created = await call('POST', '/v1/proposals', {
      body: {
        requestId: 'weighted-1',
        proposalId: 'weighted-1',
        options: ['yes', 'no'],
        policy: {
          kind: 'weighted',
          weights: { a1: 5, a2: 1, a3: 1 },
          threshold: 5,
          deadlineMs: 600_000,
          onDeadline: 'reject',
        },
      },
    });
    expect(created.status).toBe(201);

    const asOther = await call('POST', '/v1/proposals/weighted-1/votes', {
      key: A1_KEY,
      body: { requestId: 'v-a1-as-a2', agentId: 'a2', option: 'yes' },
    });
    expect(asOther.status).toBe(403);
    expect(asOther.headers.get('content-type')).toContain('application/problem+json');
    expect(asOther.json).toMatchObject({ type: 'agent-binding-mismatch' });
    expect(asOther.json.detail).toContain('bound to agent a1 and may not vote as a2');
    const namesWeight = await call('POST', '/v1/proposals/weighted-1/votes', {
      key: A1_KEY,
      body: { requestId: 'v-a1-weight', agentId: 'a1', option: 'yes', weight: 5 },
    });
    expect(namesWeight.status).toBe(403);

    // An unbound agent key still votes as anyone, but cannot outweigh the policy.
    const claimsWeight = await call('POST', '/v1/proposals/weighted-1/votes', {
      body: { requestId: 'v-a2-heavy', agentId: 'a2', option: 'no', weight: 1000 },
    });
    expect(claimsWeight.json).toMatchObject({ counted: false, reason: 'weight-set-by-policy' });
    const a2 = await call('POST', '/v1/proposals/weighted-1/votes', {
      body: { requestId: 'v-a2', agentId: 'a2', option: 'no' },
    });
    expect(a2.json).toMatchObject({ counted: true, status: 'open' });

    // a1 weighs 5 by the policy: its vote alone reaches the threshold.
    const asItself = await call('POST', '/v1/proposals/weighted-1/votes', {
      key: A1_KEY,
      body: { requestId: 'v-a1', agentId: 'a1', option: 'yes' },
    });
    expect(asItself.status).toBe(200);
    expect(asItself.json).toMatchObject({ counted: true, status: 'decided', outcome: 'yes' });
    const proposal = await call('GET', '/v1/proposals/weighted-1', { key: TEST_KEYS.reader });
    expect(proposal.json).toMatchObject({ tally: { yes: 5, no: 1 } });
  });

  it('GET /v1/cluster lists a paused replica as unreachable, one lastContactMs number per node', async () => {
    const [leader, paused] = await leaderAndFollowers();
    await whilePaused(paused, async () => {
      const cluster = await call('GET', '/v1/cluster', operator);
      expect(cluster.status).toBe(200);
      const nodes = cluster.json.nodes as {
        id: string;
        role: string;
        address: string;
        lastContactMs: unknown;
      }[];
      expect(nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
      expect(nodes.find((n) => n.id === paused)).toMatchObject({
        role: 'unreachable',
        address: `127.0.0.1:${commandLog.replica(paused).peerPort}`,
      });
      expect(nodes.find((n) => n.id === leader)).toMatchObject({
        role: 'leader',
        lastContactMs: 0,
      });
      for (const node of nodes) expect(typeof node.lastContactMs).toBe('number');
    });
  });

  it('refuses an unsafe membership change with 409 naming the numbers; a learner is still added', async () => {
    const [leader, paused, healthy] = await leaderAndFollowers();
    const deadPort = await freePort();
    await whilePaused(paused, async () => {
      await waitFor(`${leader} to see ${paused} as unreachable`, () =>
        leaderSeesUnreachable(leader, paused),
      );
      // 4 voters need 3; only the leader and one follower answer.
      const voter = await call('POST', '/v1/cluster/members', {
        ...operator,
        body: { id: 'n9', address: `127.0.0.1:${deadPort}` },
      });
      expect(voter.status).toBe(409);
      expect(voter.headers.get('content-type')).toContain('application/problem+json');
      expect(voter.json).toMatchObject({ type: 'reconfiguration-unsafe', status: 409 });
      expect(voter.json.detail).toContain(
        'the change would leave 4 voters, which need 3 for a quorum, but only 2 are reachable',
      );
      expect(voter.json.detail).toContain(`${paused}, n9`);
      // Removing a healthy voter would leave {leader, paused}: 2 needed, 1 reachable.
      const removal = await call('DELETE', `/v1/cluster/members/${healthy}`, operator);
      expect(removal.status).toBe(409);
      expect(removal.json.detail).toContain('2 voters, which need 2 for a quorum');

      const learner = await call('POST', '/v1/cluster/members', {
        ...operator,
        body: { id: 'n9', address: `127.0.0.1:${deadPort}`, learner: true },
      });
      expect(learner.status).toBe(202);
      const cluster = await call('GET', '/v1/cluster', operator);
      expect(cluster.json.members).toMatchObject({ learners: ['n9'] });
      expect((await call('DELETE', '/v1/cluster/members/n9', operator)).status).toBe(202);
    });
  });

  it('a write during a leadership transfer is 503 with Retry-After, not a 400', async () => {
    const [, target] = await leaderAndFollowers();
    // decision-api learns the ids and the leader first, so that nothing it sends during the
    // transfer waits on the paused replica.
    expect((await call('GET', '/v1/cluster', operator)).status).toBe(200);
    const warmUp = await call('PUT', '/v1/kv/before-transfer', {
      body: { requestId: 'before-transfer', value: 'v' },
    });
    expect(warmUp.status).toBe(200);
    await whilePaused(target, async () => {
      // The transfer to a paused follower cannot finish: it stays under way for an election
      // timeout (3 s), and the leader refuses proposals meanwhile.
      const transfer = await call('POST', '/v1/cluster/transfer-leadership', {
        ...operator,
        body: { to: target },
      });
      expect(transfer.status).toBe(202);
      const put = await call('PUT', '/v1/kv/during-transfer', {
        body: { requestId: 'during-transfer', value: 'v' },
      });
      expect(put.status).toBe(503);
      expect(put.headers.get('retry-after')).toBe('1');
      expect(put.json).toMatchObject({ type: 'transferring-leadership', status: 503 });
    });
    // The same requestId is safe to retry, and passes once the transfer is over.
    const retried = await waitFor('the write to pass after the transfer', async () => {
      const put = await call('PUT', '/v1/kv/during-transfer', {
        body: { requestId: 'during-transfer', value: 'v' },
      });
      return put.status === 200 ? put : undefined;
    });
    expect(retried.json).toMatchObject({ key: 'during-transfer', version: 1 });
  });
});
