import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Producer, logLevel } from 'kafkajs';
import { AppProcess, waitForHttp } from '../support/app-process';
import { CLUSTER_SECRET, CommandLogCluster } from '../support/command-log-cluster';
import { CrdtCluster } from '../support/crdt-cluster';
import { KafkaProcess } from '../support/kafka-process';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

jest.setTimeout(600_000);

const GROUP = 'parley-batches-test';

/**
 * The agent-events consumer in batches, against a broker of its own: poison of each kind is
 * dead-lettered while the records behind it are applied; a consumer killed (SIGKILL) in the
 * middle of the stream and started again applies every event exactly once; and two consumers
 * sharing the partitions through rebalances do too (state, and each outcome once on
 * `decisions`).
 */
describe('decision-api: agent-events in batches, exactly once', () => {
  let kafka: KafkaProcess;
  let cluster: CommandLogCluster;
  let crdt: CrdtCluster;
  let client: Kafka;
  let producer: Producer;
  let dir: string;
  const apis: AppProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-kafka-batches-'));
    kafka = new KafkaProcess(await freePort(), await freePort(), dir);
    await kafka.start();
    client = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: 'agent-events', numPartitions: 3 },
        { topic: 'agent-events.dlq', numPartitions: 1 },
      ],
    });
    await admin.disconnect();
    producer = client.producer({ idempotent: true });
    await producer.connect();
    cluster = await CommandLogCluster.create(3, {
      PARLEY_KAFKA_BROKERS: kafka.brokers,
      PARLEY_CLUSTER_ID: `batches-${Date.now()}`,
    });
    // A body limit below one fetch of a partition (kafkajs reads up to 1 MB a partition), so a
    // batch of large eventual records must be cut to fit it.
    crdt = await CrdtCluster.create(1, () => ({ PARLEY_HTTP_BODY_BYTES_MAX: '400000' }));
    await cluster.waitForLeader();
  });

  afterAll(async () => {
    for (const api of apis) await api.stop('SIGKILL');
    await producer?.disconnect();
    await cluster?.stop();
    await crdt?.stop();
    await kafka?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const startApi = async (batchRecordsMax = 2_000): Promise<AppProcess> => {
    const port = await freePort();
    const api = AppProcess.start('decision-api', {
      PARLEY_HTTP_PORT: String(port),
      PARLEY_NODE_ID: `api-${apis.length + 1}`,
      PARLEY_API_KEYS: 'reader:reader-key-0123456789abcdef',
      PARLEY_RPC_SECRET: CLUSTER_SECRET,
      PARLEY_COMMAND_LOG_NODES: cluster.replicas.map((r) => `127.0.0.1:${r.rpcPort}`).join(','),
      PARLEY_CRDT_NODES: `127.0.0.1:${crdt.replica('c1').httpPort}`,
      PARLEY_KAFKA_BROKERS: kafka.brokers,
      PARLEY_KAFKA_GROUP_ID: GROUP,
      PARLEY_KAFKA_BATCH_RECORDS_MAX: String(batchRecordsMax),
      PARLEY_LOG_LEVEL: 'warn',
    });
    apis.push(api);
    await waitForHttp(`http://127.0.0.1:${port}/health/live`);
    return api;
  };

  const produce = async (records: (object | string)[], partition?: number) => {
    // 400 records a request: within the broker's 1 MB per batch for records of up to ~2 KB.
    for (let i = 0; i < records.length; i += 400)
      await producer.send({
        topic: 'agent-events',
        messages: records.slice(i, i + 400).map((r) => ({
          ...(partition === undefined ? {} : { partition }),
          key: typeof r === 'string' ? 'poison' : String(Object.values(r)[2]),
          value: typeof r === 'string' ? r : JSON.stringify(r),
        })),
      });
  };
  const reserved = async (sku: string) =>
    (
      (await cluster.query({ type: 'inventory.get', sku })) as {
        value?: { reserved: number };
      }
    ).value?.reserved ?? 0;
  const counter = async (name: string) =>
    ((await crdt.call('c1', 'GET', `/v1/counters/${name}`)).json as { value: number }).value;
  const set = async (name: string) =>
    ((await crdt.call('c1', 'GET', `/v1/sets/${name}`)).json as { elements: string[] }).elements;

  /** Every record of a topic (from the beginning), read until `done` holds of them. */
  const readTopic = async <T>(topic: string, done: (values: T[]) => boolean): Promise<T[]> => {
    const values: T[] = [];
    const reader = client.consumer({ groupId: `reader-${topic}-${Date.now()}` });
    await reader.connect();
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        values.push(JSON.parse(message.value!.toString()) as T);
      },
    });
    try {
      await waitFor(`the records of ${topic}`, () => (done(values) ? true : undefined), {
        timeoutMs: 60_000,
      });
    } finally {
      await reader.disconnect();
    }
    return values;
  };

  /** Each reservation's outcome on `decisions`, counted per requestId. */
  const decisionsOf = async (prefix: string, expected: number) => {
    const records = await readTopic<{ requestId?: string }>(
      'decisions',
      (values) => values.filter((v) => v.requestId?.startsWith(prefix)).length >= expected,
    );
    const counts = new Map<string, number>();
    for (const { requestId } of records)
      if (requestId?.startsWith(prefix)) counts.set(requestId, (counts.get(requestId) ?? 0) + 1);
    return counts;
  };

  const restock = (sku: string, quantity: number) => ({
    type: 'restock',
    requestId: `${sku}-restock`,
    sku,
    quantity,
  });
  const reserve = (sku: string, i: number) => ({
    type: 'reserve',
    requestId: `res-${sku}-${i}`,
    sku,
    orderId: `o${i}`,
    quantity: 1,
  });
  const increment = (name: string, i: number) => ({
    type: 'increment',
    requestId: `${name}-${i}`,
    name,
    delta: 1,
  });

  it('dead-letters a poison record of each kind and applies the records behind it', async () => {
    const api = await startApi();
    // One partition, so every poison record sits in front of good ones in the same batch.
    await produce(
      [
        restock('poison-sku', 100),
        reserve('poison-sku', 1),
        { type: 'reserve', requestId: 'bad-q', sku: 'poison-sku', orderId: 'x', quantity: -1 },
        { ...reserve('poison-sku', 1), orderId: 'another-body' }, // requestId reused: refused
        reserve('poison-sku', 2),
        increment('poison-counter', 1),
        { type: 'increment', requestId: 'bad-delta', name: 'poison-counter', delta: 'many' },
        { type: 'flag', requestId: 'big-flag', name: 'f', value: 'x'.repeat(5_000) },
        { type: 'set-add', requestId: 'bad-element', name: 'poison-set', element: '' },
        '{not json',
        increment('poison-counter', 2),
        { type: 'set-add', requestId: 'good-element', name: 'poison-set', element: 'ok' },
        reserve('poison-sku', 3),
      ],
      0,
    );
    await waitFor('the good records behind the poison', async () =>
      (await reserved('poison-sku')) === 3 &&
      (await counter('poison-counter')) === 2 &&
      (await set('poison-set')).join() === 'ok'
        ? true
        : undefined,
    );
    const letters = await readTopic<{ reason: string; record: string }>(
      'agent-events.dlq',
      (values) => new Set(values.map((v) => v.record)).size >= 6,
    );
    const reasons = new Map(letters.map((l) => [l.record, l.reason]));
    expect(new Set(reasons.values())).toEqual(
      new Set([
        'quantity must be an integer from 1 to 1000000000',
        expect.stringMatching(/^refused: 422 idempotency-key-reuse/) as unknown as string,
        'delta must be an integer between -1e12 and 1e12',
        'a flag value must be JSON of at most 4 KiB',
        'element must be a non-empty string of at most 1 KiB',
        'not JSON',
      ]),
    );
    await api.stop();
  });

  it('applies a batch of eventual records larger than the crdt replica takes in one request', async () => {
    const api = await startApi();
    // 2,000 elements of 1,000 characters in one partition: fetched ~1 MB at a time, folded
    // into crdt batches of at most 256 KiB of records, where the replica takes 400 kB a body.
    const elements = Array.from(
      { length: 2_000 },
      (_, i) => `${String(i).padStart(4, '0')}${'e'.repeat(996)}`,
    );
    await produce(
      elements.map((element, i) => ({
        type: 'set-add',
        requestId: `big-${i}`,
        name: 'big-set',
        element,
      })),
      1,
    );
    await waitFor(
      'every element in the set',
      async () => ((await set('big-set')).length === elements.length ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    await api.stop();
  });

  it('applies every event exactly once when the consumer is killed mid-batch and restarted', async () => {
    const events = 6_000;
    // Small batches, so the kill falls between some committed and some not.
    let api = await startApi(100);
    await produce([restock('kill-sku', events)]);
    await waitFor('the restock', async () =>
      (await cluster.query({ type: 'inventory.get', sku: 'kill-sku' })) ? true : undefined,
    );
    const records: object[] = [];
    for (let i = 0; i < events; i += 1)
      records.push(reserve('kill-sku', i), increment('kill-counter', i));
    await produce(records);
    await waitFor(
      'the consumer to be in the middle of the stream',
      async () => {
        const [strong, eventual] = [await reserved('kill-sku'), await counter('kill-counter')];
        return strong > 0 && eventual > 0 && (strong < events || eventual < events)
          ? true
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 10 },
    );
    await api.stop('SIGKILL');
    const atKill = [await reserved('kill-sku'), await counter('kill-counter')];
    expect(atKill[0] < events || atKill[1] < events).toBe(true);

    api = await startApi();
    await waitFor(
      'every event once after the restart',
      async () =>
        (await reserved('kill-sku')) >= events && (await counter('kill-counter')) >= events
          ? true
          : undefined,
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    // Not one more: what was redelivered after the kill was not applied again.
    expect(await reserved('kill-sku')).toBe(events);
    expect(await counter('kill-counter')).toBe(events);

    // The worst redelivery: every offset commit lost. The group starts again from the
    // beginning of every partition; all of it is delivered again and none of it applied again.
    await api.stop(); // a clean stop leaves the group at once, so its offsets may be reset
    const admin = client.admin();
    await admin.connect();
    try {
      await waitFor(
        'the group to be empty',
        async () => {
          await admin.resetOffsets({ groupId: GROUP, topic: 'agent-events', earliest: true });
          return true;
        },
        // A member that went away without leaving counts until its session (30 s) times out.
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      api = await startApi();
      const ends = await admin.fetchTopicOffsets('agent-events');
      await waitFor(
        'the whole topic consumed again',
        async () => {
          const [group] = await admin.fetchOffsets({ groupId: GROUP, topics: ['agent-events'] });
          // An empty partition keeps the reset offset (-2): nothing to consume there.
          const at = (partition: number) =>
            Math.max(0, Number(group.partitions.find((p) => p.partition === partition)?.offset));
          return ends.every((end) => at(end.partition) === Number(end.offset)) ? true : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 200 },
      );
    } finally {
      await admin.disconnect();
    }
    expect(await reserved('kill-sku')).toBe(events);
    expect(await counter('kill-counter')).toBe(events);
    const decisions = await decisionsOf('res-kill-sku-', events);
    expect(decisions.size).toBe(events);
    expect([...decisions.values()].every((n) => n === 1)).toBe(true);
    await api.stop();
  });

  it('applies every event exactly once across rebalances between two consumers', async () => {
    const events = 6_000;
    const first = await startApi(100);
    await produce([restock('rebalance-sku', events)]);
    const records: object[] = [];
    for (let i = 0; i < events; i += 1)
      records.push(reserve('rebalance-sku', i), increment('rebalance-counter', i));
    const halfway = records.length / 2;
    await produce(records.slice(0, halfway));
    // A second consumer joins: the group rebalances while the first is mid-stream.
    const second = await startApi(100);
    await produce(records.slice(halfway));
    await waitFor(
      'some of the second half applied',
      async () => ((await counter('rebalance-counter')) > events / 2 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 20 },
    );
    // The first leaves (a clean stop): its partitions move to the second.
    await first.stop();
    await waitFor(
      'every event once',
      async () =>
        (await reserved('rebalance-sku')) >= events &&
        (await counter('rebalance-counter')) >= events
          ? true
          : undefined,
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    expect(await reserved('rebalance-sku')).toBe(events);
    expect(await counter('rebalance-counter')).toBe(events);
    const decisions = await decisionsOf('res-rebalance-sku-', events);
    expect(decisions.size).toBe(events);
    expect([...decisions.values()].every((n) => n === 1)).toBe(true);
    await second.stop();
  });
});
