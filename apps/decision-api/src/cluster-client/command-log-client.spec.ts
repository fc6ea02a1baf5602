import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { RpcVerifier } from '@parley/app-kit';
import { breakerStates } from '@parley/resilience';
import { freePort } from '../../../../test/support/ports';
import { RPC } from '../../../command-log/src/api/rpc-patterns';
import { CommandLogClient } from './command-log-client';

const SECRET = 'older-replica-secret-0123456789';

/** What an older command-log (before propose-batch and read-batch) answers: single patterns. */
@Controller()
class OlderReplicaController {
  static proposals: string[] = [];
  static reads: string[] = [];
  private readonly verifier = new RpcVerifier(SECRET);

  @MessagePattern(RPC.propose)
  propose(@Payload() payload: unknown) {
    const verdict = this.verifier.verify(RPC.propose, payload);
    if (!verdict.ok) return { status: 'rejected', reason: verdict.reason };
    const { command } = verdict.body as { command: { key: string } };
    OlderReplicaController.proposals.push(command.key);
    return {
      status: 'applied',
      index: OlderReplicaController.proposals.length,
      result: { result: { status: 'ok', key: command.key }, replayed: false },
    };
  }

  @MessagePattern(RPC.read)
  read(@Payload() payload: unknown) {
    const verdict = this.verifier.verify(RPC.read, payload);
    if (!verdict.ok) return { status: 'unavailable', reason: verdict.reason };
    const { query, consistency } = verdict.body as { query: { key: string }; consistency: string };
    OlderReplicaController.reads.push(`${consistency}:${query.key}`);
    return { status: 'ok', index: 7, result: { found: true, value: query.key } };
  }
}

@Module({ controllers: [OlderReplicaController] })
class OlderReplicaModule {}

describe('CommandLogClient against a replica that predates batches (rolling upgrade)', () => {
  let replica: INestMicroservice;
  let client: CommandLogClient;
  let address: string;

  beforeAll(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    replica = await NestFactory.createMicroservice(OlderReplicaModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await replica.listen();
    client = new CommandLogClient([address], SECRET, 2_000);
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
    expect([...OlderReplicaController.proposals].sort()).toEqual([...keys].sort());
  });

  it('reads one by one too, linearizable through the leader and stale from any replica', async () => {
    const linearizable = await client.read({ type: 'kv.get', key: 'a' }, 'linearizable');
    const stale = await client.read({ type: 'kv.get', key: 'b' }, 'stale');
    expect(linearizable).toMatchObject({ index: 7, result: { found: true, value: 'a' } });
    expect(stale).toMatchObject({ index: 7, result: { found: true, value: 'b' } });
    expect(OlderReplicaController.reads).toEqual(['linearizable:a', 'stale:b']);
  });

  it('does not count an unknown pattern against the replica: its breaker stays closed', () => {
    expect(breakerStates()[`command-log-${address}`]).toBe('closed');
  });
});
