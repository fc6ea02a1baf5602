import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { AppProcess, waitForHttp } from '../support/app-process';
import { CLUSTER_SECRET, CommandLogCluster } from '../support/command-log-cluster';
import { CrdtCluster } from '../support/crdt-cluster';
import { KafkaProcess } from '../support/kafka-process';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

jest.setTimeout(300_000);

const READER = 'reader-key-0123456789abcdef';

/**
 * The agent-events consumer against its own real broker: records become commands, a
 * duplicate delivery is applied once, poison and invalid records go to the DLQ with their
 * reason without stopping the consumer, and a broker restart mid-stream loses nothing.
 */
describe('decision-api: agent-events from a real Kafka broker', () => {
  let kafka: KafkaProcess;
  let cluster: CommandLogCluster;
  let crdt: CrdtCluster;
  let api: AppProcess;
  let dir: string;

  afterAll(async () => {
    await api?.stop();
    await cluster?.stop();
    await crdt?.stop();
    await kafka?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies each record once, dead-letters poison, and survives a broker restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-kafka-events-'));
    kafka = new KafkaProcess(await freePort(), await freePort(), dir);
    await kafka.start();
    const client = new Kafka({
      brokers: [kafka.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 20 },
    });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'agent-events', numPartitions: 3 },
        { topic: 'agent-events.dlq', numPartitions: 1 },
      ],
    });
    await admin.disconnect();

    // command-log mirrors every strong outcome to `decisions` (SPEC §4).
    cluster = await CommandLogCluster.create(3, {
      PARLEY_KAFKA_BROKERS: kafka.brokers,
      PARLEY_CLUSTER_ID: `events-${Date.now()}`,
    });
    crdt = await CrdtCluster.create(1, () => ({}));
    await cluster.waitForLeader();
    const port = await freePort();
    api = AppProcess.start('decision-api', {
      PARLEY_HTTP_PORT: String(port),
      PARLEY_API_KEYS: `reader:${READER}`,
      PARLEY_RPC_SECRET: CLUSTER_SECRET,
      PARLEY_COMMAND_LOG_NODES: cluster.replicas.map((r) => `127.0.0.1:${r.rpcPort}`).join(','),
      PARLEY_CRDT_NODES: `127.0.0.1:${crdt.replica('c1').httpPort}`,
      PARLEY_KAFKA_BROKERS: kafka.brokers,
      PARLEY_LOG_LEVEL: 'warn',
    });
    await waitForHttp(`http://127.0.0.1:${port}/health/live`);

    const produce = async (records: (object | string)[]) => {
      const producer = client.producer({ idempotent: true });
      await producer.connect();
      await producer.send({
        topic: 'agent-events',
        messages: records.map((r) => ({
          key:
            typeof r === 'string'
              ? 'poison'
              : String((r as { sku?: string; name?: string }).sku ?? (r as { name?: string }).name),
          value: typeof r === 'string' ? r : JSON.stringify(r),
        })),
      });
      await producer.disconnect();
    };
    const reserve = (i: number) => ({
      type: 'reserve',
      requestId: `ev-res-${i}`,
      sku: 'widget',
      orderId: `o${i}`,
      quantity: 1,
    });
    const inventory = async () =>
      (
        (await cluster.query({ type: 'inventory.get', sku: 'widget' })) as {
          found: boolean;
          value?: { reserved: number };
        }
      ).value?.reserved;
    const counter = async () =>
      ((await crdt.call('c1', 'GET', '/v1/counters/events')).json as { value: number }).value;

    await produce([{ type: 'restock', requestId: 'ev-restock', sku: 'widget', quantity: 100 }]);
    await waitFor(
      'the restock to apply',
      async () => ((await inventory()) === 0 ? true : undefined),
      { timeoutMs: 60_000 },
    );
    await produce([
      ...Array.from({ length: 20 }, (_, i) => reserve(i)),
      reserve(3), // a duplicate delivery of the same command
      { ...reserve(5), orderId: 'o-other' }, // its requestId reused with another body
      '{this is not json',
      { type: 'reserve', requestId: 'ev-bad', sku: 'widget', orderId: 'bad', quantity: -1 },
      ...Array.from({ length: 5 }, (_, i) => ({
        type: 'increment',
        requestId: `ev-inc-${i}`,
        name: 'events',
        delta: 1,
      })),
      { type: 'increment', requestId: 'ev-inc-0', name: 'events', delta: 1 }, // duplicate
    ]);
    await waitFor(
      'the first wave to apply',
      async () => ((await inventory()) === 20 ? true : undefined),
      { timeoutMs: 60_000 },
    );

    // The broker goes away mid-stream and comes back; then more records.
    await kafka.stop();
    await kafka.start();
    await produce(Array.from({ length: 20 }, (_, i) => reserve(20 + i)));

    await waitFor(
      'every reservation once',
      async () => ((await inventory()) === 40 ? true : undefined),
      { timeoutMs: 120_000 },
    );
    await waitFor(
      'every increment once',
      async () => ((await counter()) === 5 ? true : undefined),
      { timeoutMs: 60_000 },
    );

    // Three records in the dead-letter topic, each with its reason.
    const consumer = client.consumer({ groupId: `dlq-reader-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'agent-events.dlq', fromBeginning: true });
    // Dead-lettering is at-least-once like the rest of the pipeline: a record dead-lettered
    // just before the broker restart, whose offset commit was lost, is dead-lettered again on
    // redelivery. So the check is per source record (partition and offset).
    const dead = new Map<string, string>();
    await consumer.run({
      eachMessage: async ({ message }) => {
        const letter = JSON.parse(message.value!.toString()) as {
          reason: string;
          partition: number;
          offset: string;
        };
        dead.set(`${letter.partition}@${letter.offset}`, letter.reason);
      },
    });
    await waitFor('the dead letters', () => (dead.size >= 3 ? true : undefined), {
      timeoutMs: 60_000,
    });
    await consumer.disconnect();
    expect([...dead.values()].sort()).toEqual([
      'not JSON',
      'quantity must be an integer from 1 to 1000000000',
      'refused: 422 idempotency-key-reuse: requestId ev-res-5 was already used for a request with a different body; use a new requestId for a new request',
    ]);

    // Offsets were committed after the effects: nothing left to consume for the group.
    const offsetsAdmin = client.admin();
    await offsetsAdmin.connect();
    const ends = await offsetsAdmin.fetchTopicOffsets('agent-events');
    await waitFor('the group to commit every offset', async () => {
      const [committed] = await offsetsAdmin.fetchOffsets({
        groupId: 'parley-decision-api',
        topics: ['agent-events'],
      });
      const lag = ends.reduce((sum, end) => {
        const at = committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '0';
        return sum + (Number(end.offset) - Math.max(0, Number(at)));
      }, 0);
      return lag === 0 ? true : undefined;
    });
    await offsetsAdmin.disconnect();
    expect(await inventory()).toBe(40);

    // Every reservation's outcome was published to `decisions` once, the duplicate included.
    const decisionsReader = client.consumer({ groupId: `decisions-reader-${Date.now()}` });
    await decisionsReader.connect();
    await decisionsReader.subscribe({ topic: 'decisions', fromBeginning: true });
    const outcomes = new Map<string, number>();
    await decisionsReader.run({
      eachMessage: async ({ message }) => {
        const { requestId } = JSON.parse(message.value!.toString()) as { requestId: string };
        outcomes.set(requestId, (outcomes.get(requestId) ?? 0) + 1);
      },
    });
    await waitFor(
      '40 reservation outcomes in decisions',
      () =>
        [...outcomes.keys()].filter((id) => id.startsWith('ev-res-')).length === 40
          ? true
          : undefined,
      { timeoutMs: 60_000 },
    );
    await decisionsReader.disconnect();
    expect(outcomes.get('ev-res-3')).toBe(1);
    expect([...outcomes.values()].every((n) => n === 1)).toBe(true);

    // The same seen by decision-api itself: lag 0 in /metrics, the consumer in readiness.
    await waitFor('the lag gauge to reach 0', async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /^parley_kafka_consumer_lag 0$/m.test(metrics) ? true : undefined;
    });
    const ready = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as {
      details: { kafka: { status: string; consuming: boolean } };
    };
    expect(ready.details.kafka).toMatchObject({ status: 'up', consuming: true });
  });
});
