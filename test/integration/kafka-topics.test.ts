import { randomUUID } from 'node:crypto';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { TopicMismatchError, ensureTopics } from '@parley/app-kit';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

/** The topics Parley uses, created as configured or checked against it, on the real broker. */
describe('Kafka topics from configuration (real broker)', () => {
  jest.setTimeout(90_000);
  const kafka = new Kafka({ clientId: 'parley-topics', brokers, logLevel: logLevel.NOTHING });
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(() => admin.disconnect());

  it('creates a missing topic as configured, then finds it agrees', async () => {
    const topic = `topics-create-${randomUUID()}`;
    const spec = {
      topic,
      numPartitions: 2,
      replicationFactor: 1,
      cleanupPolicy: 'compact' as const,
    };
    await ensureTopics(admin, [spec]);
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(topics[0].partitions).toHaveLength(2);
    await expect(ensureTopics(admin, [spec])).resolves.toBeUndefined();
  });

  it('names every way an existing topic disagrees, and changes nothing', async () => {
    const topic = `topics-mismatch-${randomUUID()}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }] });
    const attempt = ensureTopics(admin, [
      { topic, numPartitions: 1, replicationFactor: 1, cleanupPolicy: 'compact' },
    ]);
    await expect(attempt).rejects.toThrow(TopicMismatchError);
    await expect(attempt).rejects.toThrow(
      `topic ${topic}: 3 partitions where 1 are configured; ` +
        `topic ${topic}: cleanup.policy delete where compact is needed. ` +
        'Change the configuration to match, or recreate the topic.',
    );
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(topics[0].partitions).toHaveLength(3);
  });
});
