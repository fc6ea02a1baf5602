import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaMirror, KafkaMirrorOptions } from '../../apps/command-log/src/mirror/kafka-mirror';
import { AppliedRecord } from '../../apps/command-log/src/mirror/mirror-record';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

/** One mirror as a replica runs it; what it proposed and what it complained about, recorded. */
function mirrorOf(
  nodeId: string,
  shared: Pick<KafkaMirrorOptions, 'clusterId' | 'rawLogTopic' | 'decisionsTopic'>,
  sizes: Pick<KafkaMirrorOptions, 'batchRecordsMax' | 'bufferedRecordsMax' | 'lingerMs'> = {
    batchRecordsMax: 10,
    lingerMs: 10,
    bufferedRecordsMax: 100,
  },
  leads?: () => boolean,
) {
  const seen = { leader: true, proposed: [] as number[], warnings: [] as string[] };
  const mirror = new KafkaMirror({
    ...shared,
    brokers,
    nodeId,
    ...sizes,
    decisionsPartitions: 1,
    replicationFactor: 1,
    isLeader: leads ?? (() => seen.leader),
    replicatedCursor: () => 0,
    proposeCursor: (index) => seen.proposed.push(index),
    logger: {
      log: () => undefined,
      // A mirror whose publish failed steps down here, as a deposed leader would: otherwise
      // its next pump would take the transactional id back from the new leader.
      warn: (m) => {
        seen.warnings.push(m);
        seen.leader = false;
      },
      error: (m) => seen.warnings.push(m),
    },
  });
  return { mirror, seen };
}

function put(index: number, value: string): AppliedRecord {
  return {
    index,
    term: 1,
    command: { type: 'kv.put', requestId: `r-${index}`, ts: index, key: 'k', value },
    result: { key: 'k', value, version: index },
    replayed: false,
    events: [],
  };
}

/**
 * A new leader's mirror must fence the old leader's producer before it reads raft-log's tail:
 * otherwise the old leader (partitioned, still believing it leads) commits an index after the
 * new leader decided where to resume, and that index appears twice or out of order. kafkajs's
 * `connect()` does not claim a transactional id; only InitProducerId (the first transaction)
 * does, so the mirror starts and aborts an empty transaction when it connects.
 */
describe('Kafka mirror: a new leader fences the old leader before reading the tail', () => {
  const mirrors: KafkaMirror[] = [];
  const topics: string[] = [];
  afterAll(async () => {
    for (const mirror of mirrors) await mirror.stop();
    // The broker is shared: leave no test topic behind.
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });

  /** A cluster id and topics of the test's own on the shared broker, deleted after all. */
  function ownTopics(name: string) {
    const suffix = randomUUID().slice(0, 8);
    const shared = {
      clusterId: `${name}-${suffix}`,
      rawLogTopic: `raft-log-${name}-${suffix}`,
      decisionsTopic: `decisions-${name}-${suffix}`,
    };
    topics.push(shared.rawLogTopic, shared.decisionsTopic);
    return { suffix, shared };
  }

  it("rejects the old leader's transactional commit once the new leader has connected", async () => {
    const { suffix, shared } = ownTopics('fence');
    const old = mirrorOf('n1', shared);
    mirrors.push(old.mirror);
    old.mirror.record(put(1, 'a'));
    old.mirror.start(20);
    await waitFor('the old leader publishes index 1', () =>
      old.seen.proposed.includes(1) ? true : undefined,
    );

    // The new leader connects and resolves where to resume: it has nothing of its own to send.
    const next = mirrorOf('n2', shared);
    mirrors.push(next.mirror);
    next.mirror.start(20);
    await waitFor('the new leader resumes after index 1', () =>
      next.seen.proposed.includes(1) ? true : undefined,
    );

    // The old leader has not heard of the new term yet and tries to publish index 2.
    old.mirror.record(put(2, 'b'));
    const attempt = await waitFor(
      "the old leader's attempt at index 2",
      () => old.seen.warnings[0] ?? (old.seen.proposed.includes(2) ? 'committed' : undefined),
      { timeoutMs: 30_000 },
    );
    expect(old.seen.proposed).not.toContain(2);
    expect(attempt).toMatch(/fenced|epoch/i);

    // The new leader publishes index 2 itself. Read back in offset order up to its record:
    // index 1 once, index 2 once (a commit by the old leader would sit before it).
    next.mirror.record(put(2, 'b'));
    await waitFor('the new leader publishes index 2', () =>
      next.seen.proposed.includes(2) ? true : undefined,
    );
    const kafka = new Kafka({ clientId: 'fence-check', brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `fence-check-${suffix}`, readUncommitted: false });
    const indexes: number[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: shared.rawLogTopic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          indexes.push((JSON.parse(message.value!.toString()) as { index: number }).index);
        },
      });
      await waitFor('index 2 read back', () => (indexes.includes(2) ? true : undefined));
      expect(indexes).toEqual([1, 2]);
    } finally {
      await consumer.disconnect();
    }
  });

  it('publishes a transaction larger than a broker takes in one produce request', async () => {
    const { shared } = ownTopics('large');
    // 3,000 entries of ~1 KB: ~3 MB to each topic in one transaction (the broker's default
    // message.max.bytes is 1 MB per record batch).
    const { mirror, seen } = mirrorOf('n1', shared, {
      batchRecordsMax: 5_000,
      lingerMs: 10,
      bufferedRecordsMax: 10_000,
    });
    mirrors.push(mirror);
    for (let index = 1; index <= 3_000; index += 1) mirror.record(put(index, 'x'.repeat(1_000)));
    mirror.start(20);
    await waitFor(
      'every entry published',
      () => (seen.proposed.includes(3_000) ? true : undefined),
      { timeoutMs: 60_000 },
    );
    expect(seen.warnings).toEqual([]);
  });

  it('stops reading the tail of raft-log once it no longer leads', async () => {
    const { suffix, shared } = ownTopics('scan');
    // Another cluster's 2,000 records: a new leader of this cluster reads back through all of
    // them in windows of 22 (2 * batchRecordsMax + 2) looking for one of its own.
    const kafka = new Kafka({ clientId: 'scan-fill', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: shared.rawLogTopic,
          numPartitions: 1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: shared.rawLogTopic,
      messages: Array.from({ length: 2_000 }, (_, i) => ({
        key: `other/${i}`,
        value: JSON.stringify({ cluster: `other-${suffix}`, index: i + 1, term: 1, command: {} }),
      })),
    });
    await producer.disconnect();

    // Leads for its first three questions (the pump's, then the first two windows'), then not.
    let asked = 0;
    const { mirror, seen } = mirrorOf('n1', shared, undefined, () => (asked += 1) <= 3);
    mirrors.push(mirror);
    mirror.record(put(1, 'a'));
    mirror.start(20);
    const warning = await waitFor('the scan to give up', () => seen.warnings[0], {
      timeoutMs: 30_000,
    });
    // Before its third window (reading all ~91 would have ended in a publish, not a warning),
    // and nothing was published by a replica that does not lead.
    expect(warning).toMatch(/leadership moved during the raft-log tail scan/);
    expect(seen.proposed).toEqual([]);
  });
});
