import { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { NamespacedNatsServer } from '../../apps/command-log/src/api/nats-rpc-server';
import { CommandLogClient } from '../../apps/decision-api/src/cluster-client/command-log-client';
import {
  OLDER_REPLICA_ID,
  OLDER_REPLICA_SECRET,
  OlderReplicaController,
  OlderReplicaModule,
} from '../support/older-replica';

jest.setTimeout(60_000);

const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/**
 * A rolling upgrade over NATS (the real nats-server): a replica from before propose-batch and
 * read-batch has no subscription for them, so the batch finds nobody; decision-api's client
 * must tell that from a replica that is gone (it asks the replica's status) and go one by one.
 */
describe('CommandLogClient over NATS against a replica that predates batches', () => {
  let replica: INestMicroservice;
  let client: CommandLogClient;
  let older: OlderReplicaController;

  beforeAll(async () => {
    const clusterId = `upgrade-${randomBytes(3).toString('hex')}`;
    replica = await NestFactory.createMicroservice(OlderReplicaModule, {
      strategy: new NamespacedNatsServer({ servers: [natsUrl] }, clusterId, OLDER_REPLICA_ID),
      logger: false,
    });
    await replica.listen();
    older = replica.get(OlderReplicaController);
    // A commit timeout longer than this test's: timing out and retrying is not a way to pass.
    client = new CommandLogClient([], OLDER_REPLICA_SECRET, 120_000, { url: natsUrl, clusterId });
  });

  afterAll(async () => {
    await client?.onApplicationShutdown();
    await replica?.close();
  });

  it('answers proposals and reads, one by one', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const applied = await Promise.all(
      keys.map((key) => client.propose({ type: 'kv.put', key, value: 'v', requestId: key })),
    );
    expect(applied.map((a) => a.result.key)).toEqual(keys);
    expect([...older.proposals].sort()).toEqual([...keys].sort());
    const read = await client.read({ type: 'kv.get', key: 'n1' }, 'linearizable');
    expect(read).toMatchObject({ result: { found: true, value: 'n1' } });
  });
});
