import { randomBytes } from 'node:crypto';
import { ANY_REPLICA, RPC, commandLogSubject } from '@parley/command-log-api';
import type { NodeStatus, ProposeResponse, ReadResponse } from '@parley/command-log-api';
import { CommandLogCluster } from '../support/command-log-cluster';
import { freePort } from '../support/ports';

jest.setTimeout(120_000);

const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * The command-log microservice API over NATS request/reply against the real nats-server:
 * subjects namespaced by cluster and node, any-replica discovery with a leader hint, signed
 * requests only.
 */
describe('command-log over NATS request/reply (real nats-server)', () => {
  let cluster: CommandLogCluster;
  const clusterId = `nats-${randomBytes(4).toString('hex')}`;
  afterAll(async () => cluster?.stop());

  beforeAll(async () => {
    cluster = await CommandLogCluster.create(3, {
      PARLEY_NATS_URL: natsUrl,
      PARLEY_CLUSTER_ID: clusterId,
    });
  });

  const subject = (node: string, pattern: string) => commandLogSubject(clusterId, node, pattern);

  it('finds the leader through any replica, writes to it and reads linearizably', async () => {
    const leader = await cluster.waitForLeader();
    // Any one replica answers the discovery subject (queue group) with who leads.
    const discovered = await cluster.natsRpc<NodeStatus>(
      natsUrl,
      subject(ANY_REPLICA, RPC.status),
      RPC.status,
      {},
    );
    expect(discovered.leader).toBe(leader);

    const written = await cluster.natsRpc<ProposeResponse>(
      natsUrl,
      subject(leader, RPC.propose),
      RPC.propose,
      { command: { type: 'kv.put', requestId: 'nats-1', key: 'via', value: 'nats' } },
    );
    expect(written).toMatchObject({ status: 'applied', result: { replayed: false } });

    const read = await cluster.natsRpc<ReadResponse>(natsUrl, subject(leader, RPC.read), RPC.read, {
      query: { type: 'kv.get', key: 'via' },
      consistency: 'linearizable',
    });
    expect(read).toMatchObject({ status: 'ok', result: { found: true, value: { value: 'nats' } } });

    // The same write seen over TCP: both transports reach one state machine.
    expect(await cluster.query({ type: 'kv.get', key: 'via' })).toMatchObject({ found: true });
  });

  it('a follower answers with a leader hint; a forged request is refused', async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.replicas.find((r) => r.id !== leader)!.id;
    const answer = await cluster.natsRpc<ProposeResponse>(
      natsUrl,
      subject(follower, RPC.propose),
      RPC.propose,
      { command: { type: 'kv.put', requestId: 'nats-2', key: 'k', value: 'v' } },
    );
    expect(answer).toEqual({ status: 'not-leader', leaderId: leader });

    // Signed for a read, sent as a propose: the mac covers the pattern, so it is refused.
    await expect(
      cluster.natsRpc(natsUrl, subject(leader, RPC.propose), RPC.read, {
        command: { type: 'kv.put', requestId: 'nats-3', key: 'k', value: 'v' },
      }),
    ).rejects.toMatchObject({ status: 'unauthorized', reason: 'bad mac' });
  });

  it('another cluster id on the same NATS server reaches nobody', async () => {
    await expect(
      cluster.natsRpc(
        natsUrl,
        commandLogSubject(`${clusterId}-other`, ANY_REPLICA, RPC.status),
        RPC.status,
        {},
        2_000,
      ),
    ).rejects.toThrow(/no subscribers/);
  });

  it('a replica whose NATS server is unreachable still starts and decides over TCP', async () => {
    const deadNats = `nats://127.0.0.1:${await freePort()}`;
    const lonely = await CommandLogCluster.create(1, { PARLEY_NATS_URL: deadNats });
    try {
      await lonely.waitForLeader();
      const written = await lonely.propose({
        type: 'kv.put',
        requestId: 'no-nats',
        key: 'k',
        value: 'v',
      });
      expect(written.result.replayed).toBe(false);
    } finally {
      await lonely.stop();
    }
  });
});
