import { RPC } from '@parley/command-log-api';
import type { ProposeResponse, ReadResponse } from '@parley/command-log-api';
import { CommandLogCluster } from '../support/command-log-cluster';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

/**
 * Membership changes through the microservice API on real processes: a new replica joins as a
 * learner, catches up, is promoted to voter; a member is removed and the cluster keeps
 * committing with the rest; the leader itself can be removed and a new one takes over.
 */
describe('command-log: membership changes on real processes', () => {
  let cluster: CommandLogCluster;
  afterEach(async () => cluster?.stop());

  const put = (key: string, value: string) =>
    cluster.propose({ type: 'kv.put', requestId: `put-${key}`, key, value });

  const staleGet = (id: string, key: string) =>
    cluster.rpc<ReadResponse>(id, RPC.read, {
      query: { type: 'kv.get', key },
      consistency: 'stale',
    });

  async function membershipChange(
    pattern: string,
    body: Record<string, unknown>,
  ): Promise<ProposeResponse> {
    const leader = await cluster.waitForLeader();
    return cluster.rpc<ProposeResponse>(leader, pattern, body);
  }

  it('adds a learner that catches up, promotes it, then removes a follower and the leader', async () => {
    cluster = await CommandLogCluster.create(3);
    for (let i = 0; i < 20; i += 1) await put(`before-${i}`, `v${i}`);

    const joiner = await cluster.addReplica('n4');
    const added = await membershipChange(RPC.addMember, {
      id: 'n4',
      address: `127.0.0.1:${joiner.peerPort}`,
      learner: true,
    });
    expect(added.status).toBe('applied');

    // The learner receives the log (it never bootstrapped) and serves stale reads of it.
    const learnerView = await waitFor('n4 to apply the log as a learner', async () => {
      const status = await cluster.status('n4');
      return status &&
        status.learners.includes('n4') &&
        status.appliedIndex >= (added as { index: number }).index
        ? status
        : undefined;
    });
    expect(learnerView.voters).not.toContain('n4');
    await waitFor('n4 to hold the writes made before it joined', async () => {
      const read = await staleGet('n4', 'before-19');
      return read.status === 'ok' && (read.result as { found: boolean }).found ? read : undefined;
    });
    // A learner never campaigns and never counts: the leader is one of the original three.
    expect(['n1', 'n2', 'n3']).toContain(await cluster.waitForLeader());

    const promoted = await membershipChange(RPC.addMember, {
      id: 'n4',
      address: `127.0.0.1:${joiner.peerPort}`,
    });
    expect(promoted.status).toBe('applied');
    await waitFor('n4 to be a voter on every replica', async () => {
      const statuses = await Promise.all(cluster.replicas.map((r) => cluster.status(r.id)));
      return statuses.every((s) => s?.voters.includes('n4') && !s.learners.includes('n4'))
        ? true
        : undefined;
    });

    // Remove a follower: the remaining three voters keep committing without it.
    const leader = await cluster.waitForLeader();
    const follower = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    expect((await membershipChange(RPC.removeMember, { id: follower })).status).toBe('applied');
    await cluster.kill(follower);
    await put('after-remove', 'x');
    const leaderStatus = await cluster.status(await cluster.waitForLeader());
    expect(leaderStatus?.voters.sort()).toEqual(
      ['n1', 'n2', 'n3', 'n4'].filter((id) => id !== follower).sort(),
    );

    // Remove the leader itself: it steps down once the change commits, another takes over.
    const oldLeader = await cluster.waitForLeader();
    expect((await membershipChange(RPC.removeMember, { id: oldLeader })).status).toBe('applied');
    const newLeader = await waitFor('a new leader among the remaining voters', async () => {
      const id = await cluster.waitForLeader(5_000).catch(() => undefined);
      return id && id !== oldLeader ? id : undefined;
    });
    await cluster.kill(oldLeader);
    await put('after-leader-removed', 'y');
    const finalStatus = await cluster.status(newLeader);
    expect(finalStatus?.voters).toHaveLength(2);
    expect(finalStatus?.voters).not.toContain(oldLeader);
    const read = await cluster.query({ type: 'kv.get', key: 'before-0' });
    expect(read).toMatchObject({ found: true, value: { value: 'v0' } });
  });

  it('refuses unsigned and forged microservice requests', async () => {
    cluster = await CommandLogCluster.create(1);
    const leader = await cluster.waitForLeader();
    const body = { command: { type: 'kv.put', requestId: 'forged', key: 'k', value: 'v' } };
    await expect(cluster.rpcUnsigned(leader, RPC.propose, body)).rejects.toMatchObject({
      status: 'unauthorized',
      reason: 'missing auth',
    });
    const forged = {
      ...body,
      auth: { ts: Date.now(), nonce: 'a'.repeat(32), mac: 'b'.repeat(64) },
    };
    await expect(cluster.rpcUnsigned(leader, RPC.propose, forged)).rejects.toMatchObject({
      status: 'unauthorized',
      reason: 'bad mac',
    });
    const read = await cluster.query({ type: 'kv.get', key: 'k' });
    expect(read).toMatchObject({ found: false });
  });
});
