import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { DECISION_EVENT, DecisionEventData } from '@parley/decision-api-contract';
import { CommandLogCluster } from '../support/command-log-cluster';
import { KafkaProcess } from '../support/kafka-process';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

jest.setTimeout(300_000);

interface RaftLogRecord {
  index: number;
  term: number;
  command: { type: string; requestId?: string };
}

describe('command-log mirror to a real Kafka broker', () => {
  let kafka: KafkaProcess;
  let cluster: CommandLogCluster;
  let dir: string;

  afterEach(async () => {
    await cluster?.stop();
    await kafka?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes every committed command exactly once, in order, across a leader kill and a broker restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-kafka-'));
    kafka = new KafkaProcess(await freePort(), await freePort(), dir);
    await kafka.start();
    cluster = await CommandLogCluster.create(3, {
      PARLEY_KAFKA_BROKERS: kafka.brokers,
      PARLEY_LOG_LEVEL: 'log',
      PARLEY_CLUSTER_ID: `it-${randomUUID().slice(0, 8)}`,
    });
    // Decided by the log's clock at its deadline: its outcome must reach `decisions` too.
    await cluster.propose({
      type: 'proposal.create',
      requestId: 'deadline-proposal',
      proposalId: 'p-deadline',
      options: ['yes', 'no'],
      policy: { kind: 'majority', quorum: 2, deadlineMs: 300, onDeadline: 'reject' },
    });
    const written: string[] = [];
    const write = async (from: number, count: number) => {
      for (let start = from; start < from + count; start += 25) {
        const wave = Array.from(
          { length: Math.min(25, from + count - start) },
          (_, i) => `req-${start + i}`,
        );
        await Promise.all(
          wave.map((requestId, i) =>
            cluster.propose({
              type: 'kv.put',
              requestId,
              key: `k${(start + i) % 40}`,
              value: requestId,
            }),
          ),
        );
        written.push(...wave);
      }
    };
    await write(0, 150);
    const firstLeader = await cluster.waitForLeader();
    await cluster.kill(firstLeader);
    await write(150, 100);
    await kafka.stop(); // the broker goes away: the cluster keeps deciding
    await write(250, 50);
    await kafka.start();
    cluster.start(firstLeader);

    const records: RaftLogRecord[] = [];
    const decisions: DecisionEventData[] = [];
    const client = new Kafka({
      clientId: 'mirror-check',
      brokers: [kafka.brokers],
      logLevel: logLevel.NOTHING,
    });
    const consumer = client.consumer({ groupId: `check-${randomUUID()}`, readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topics: ['raft-log', 'decisions'], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const value = JSON.parse(message.value!.toString());
        if (topic === 'raft-log') records.push(value as RaftLogRecord);
        else decisions.push(DECISION_EVENT.parse(value));
      },
    });
    try {
      await waitFor(
        'every written command in raft-log',
        () => {
          const seen = new Set(records.map((r) => r.command.requestId));
          return written.every((id) => seen.has(id)) ? true : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      const indexes = records.map((r) => r.index);
      // In order, and no index twice.
      expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
      expect(new Set(indexes).size).toBe(indexes.length);
      const requestIds = records
        .filter((r) => r.command.type === 'kv.put')
        .map((r) => r.command.requestId);
      expect(new Set(requestIds).size).toBe(requestIds.length);
      // Every acknowledged write has its outcome in `decisions`, once.
      await waitFor(
        'every outcome in decisions',
        () => {
          const seen = new Set(decisions.map((d) => d.requestId));
          return written.every((id) => seen.has(id)) ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const outcomeIds = decisions.map((d) => d.requestId).filter((id) => id !== undefined);
      expect(new Set(outcomeIds).size).toBe(outcomeIds.length);
      // The outcome is the REST body of the route, and the deadline decision is there, once.
      expect(decisions.find((d) => d.requestId === 'req-0')).toMatchObject({
        type: 'kv.put',
        entity: 'kv/k0',
        result: { key: 'k0', value: 'req-0', version: expect.any(Number) },
        decidedBy: 'command',
      });
      expect(decisions.filter((d) => d.decidedBy === 'deadline')).toEqual([
        expect.objectContaining({
          type: 'proposal.decided',
          entity: 'proposals/p-deadline',
          result: expect.objectContaining({ status: 'expired', outcome: null }),
        }),
      ]);
    } catch (error) {
      // What the replicas said about the mirror, so a failure explains itself.
      for (const replica of cluster.replicas) {
        const lines = (replica.process?.stdout ?? '').split('\n').filter((l) => /mirror/i.test(l));
        process.stderr.write(`--- ${replica.id}\n${lines.slice(-20).join('\n')}\n`);
      }
      process.stderr.write(
        `records=${records.length} decisions=${decisions.length} written=${written.length}\n`,
      );
      throw error;
    } finally {
      await consumer.disconnect();
    }
  });
});
