import { randomUUID } from 'node:crypto';
import { Admin, ConfigResourceTypes, Consumer, Kafka, logLevel, Producer } from 'kafkajs';

/** The real Kafka broker (KRaft) answers the product's client library: kafkajs. */
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

describe('Kafka broker (real, KRaft)', () => {
  jest.setTimeout(90_000);
  const kafka = new Kafka({ clientId: 'parley-smoke', brokers, logLevel: logLevel.NOTHING });
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    admin = kafka.admin();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await admin.connect();
    await producer.connect();
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  });

  it('creates a compacted topic and reports its cleanup policy', async () => {
    const topic = `smoke-compact-${randomUUID()}`;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
    });
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] },
      ],
    });
    expect(
      described.resources[0].configEntries.find((e) => e.configName === 'cleanup.policy')
        ?.configValue,
    ).toBe('compact');
  });

  it('produces a keyed record and consumes it in a consumer group', async () => {
    const topic = `smoke-roundtrip-${randomUUID()}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    await producer.send({
      topic,
      messages: [{ key: 'sku-42', value: JSON.stringify({ reserved: 3 }) }],
    });
    consumer = kafka.consumer({ groupId: `smoke-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: string }>((resolve) => {
      void consumer!.run({
        eachMessage: async ({ message }) =>
          resolve({ key: message.key!.toString(), value: message.value!.toString() }),
      });
    });
    expect(received).toEqual({ key: 'sku-42', value: '{"reserved":3}' });
  });
});
