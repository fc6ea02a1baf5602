import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { CommandLogCluster } from '../support/command-log-cluster';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

interface RaftLogRecord {
  key: string;
  offset: number;
  value: {
    cluster: string;
    index: number;
    term: number;
    command: { type: string; requestId: string; key?: string; value?: string };
  };
}

/**
 * The `raft-log` topic as a reader sees it (SPEC §4: "committed commands with {index, term},
 * keyed by entity", `cleanup.policy=compact`). Compaction keeps the newest record per key, so
 * the mirror is only right if, per key, the newest offset holds the newest index: the test
 * checks that ordering and the topic's policy rather than waiting for the broker's cleaner.
 */
describe('command-log: the raft-log topic on the real broker', () => {
  let cluster: CommandLogCluster;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('holds every committed command once, keyed by entity, with index and term, compacted', async () => {
    const clusterId = `rlt-${randomUUID().slice(0, 8)}`;
    cluster = await CommandLogCluster.create(3, {
      PARLEY_KAFKA_BROKERS: brokers.join(','),
      PARLEY_CLUSTER_ID: clusterId,
    });
    // Several writes to the same entities, interleaved across entities, one at a time so the
    // last write to each key is known.
    const commands: Record<string, unknown>[] = [];
    for (let round = 0; round < 4; round += 1) {
      for (const key of ['alpha', 'beta', 'gamma'])
        commands.push({
          type: 'kv.put',
          requestId: `${clusterId}-${key}-${round}`,
          key,
          value: `${key}-${round}`,
        });
      commands.push({
        type: 'inventory.restock',
        requestId: `${clusterId}-gpu-${round}`,
        sku: 'gpu',
        quantity: 1,
      });
    }
    for (const command of commands) await cluster.propose(command);

    const kafka = new Kafka({ clientId: 'raft-log-check', brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({
      groupId: `raft-log-check-${clusterId}`,
      readUncommitted: false,
    });
    const records: RaftLogRecord[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'raft-log', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const value = JSON.parse(message.value!.toString()) as RaftLogRecord['value'];
          // The topic is shared by every cluster on the broker: only ours.
          if (value.cluster === clusterId)
            records.push({ key: message.key!.toString(), offset: Number(message.offset), value });
        },
      });
      await waitFor(
        'every command in raft-log',
        () => (records.length >= commands.length ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    } finally {
      await consumer.disconnect();
    }

    // Every command once, with its entity as the key, and a real index and term.
    expect(records.map((r) => r.value.command.requestId).sort()).toEqual(
      commands.map((c) => c.requestId as string).sort(),
    );
    for (const record of records) {
      const command = record.value.command;
      // Keyed per cluster: clusters sharing the topic never compact each other's records.
      const entity = command.type === 'kv.put' ? `kv:${command.key}` : 'inventory:gpu';
      expect(record.key).toBe(`${clusterId}/${entity}`);
      expect(Number.isSafeInteger(record.value.index) && record.value.index > 0).toBe(true);
      expect(Number.isSafeInteger(record.value.term) && record.value.term > 0).toBe(true);
    }
    // Offset order is index order, so the record compaction keeps per key (the newest offset) is
    // the one with the newest index: here the last write to each key.
    const indexes = records.map((r) => r.value.index);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(new Set(indexes).size).toBe(indexes.length);
    const latest = new Map<string, RaftLogRecord>();
    for (const record of records) latest.set(record.key, record);
    expect(new Map([...latest].map(([key, r]) => [key, r.value.command.requestId]))).toEqual(
      new Map([
        [`${clusterId}/kv:alpha`, `${clusterId}-alpha-3`],
        [`${clusterId}/kv:beta`, `${clusterId}-beta-3`],
        [`${clusterId}/kv:gamma`, `${clusterId}-gamma-3`],
        [`${clusterId}/inventory:gpu`, `${clusterId}-gpu-3`],
      ]),
    );
    for (const [key, record] of latest)
      expect(record.value.index).toBe(
        Math.max(...records.filter((r) => r.key === key).map((r) => r.value.index)),
      );

    const admin = kafka.admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: 'raft-log', configNames: ['cleanup.policy'] },
        ],
      });
      expect(described.resources[0].configEntries).toEqual([
        expect.objectContaining({ configName: 'cleanup.policy', configValue: 'compact' }),
      ]);
    } finally {
      await admin.disconnect();
    }
  });
});
