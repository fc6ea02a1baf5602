import { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { breakerStates } from '@parley/resilience';
import {
  OLDER_REPLICA_SECRET,
  OlderReplicaController,
  OlderReplicaModule,
} from '../../../../test/support/older-replica';
import { freePort } from '../../../../test/support/ports';
import { CommandLogClient } from './command-log-client';

describe('CommandLogClient against a replica that predates batches (rolling upgrade)', () => {
  let replica: INestMicroservice;
  let client: CommandLogClient;
  let address: string;
  let older: OlderReplicaController;

  beforeAll(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    replica = await NestFactory.createMicroservice(OlderReplicaModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await replica.listen();
    older = replica.get(OlderReplicaController);
    client = new CommandLogClient([address], OLDER_REPLICA_SECRET, 2_000);
  });

  afterAll(async () => {
    await client.onApplicationShutdown();
    await replica.close();
  });

  it('sends proposals one by one when the batch pattern is unknown, and every one is answered', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const applied = await Promise.all(
      keys.map((key) => client.propose({ type: 'kv.put', key, value: 'v', requestId: key })),
    );
    expect(applied.map((a) => a.result.key)).toEqual(keys);
    // Each proposal reached the replica exactly once: the refused batch did nothing there.
    expect([...older.proposals].sort()).toEqual([...keys].sort());
  });

  it('reads one by one too, linearizable through the leader and stale from any replica', async () => {
    const linearizable = await client.read({ type: 'kv.get', key: 'a' }, 'linearizable');
    const stale = await client.read({ type: 'kv.get', key: 'b' }, 'stale');
    expect(linearizable).toMatchObject({ index: 7, result: { found: true, value: 'a' } });
    expect(stale).toMatchObject({ index: 7, result: { found: true, value: 'b' } });
    expect(older.reads).toEqual(['linearizable:a', 'stale:b']);
  });

  it('does not count an unknown pattern against the replica: its breaker stays closed', () => {
    expect(breakerStates()[`command-log-${address}`]).toBe('closed');
  });
});
