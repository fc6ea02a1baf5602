import { AppProcess, waitForHttp } from '../support/app-process';
import { TEST_API_KEYS, TEST_KEYS } from '../support/api-keys';
import { CLUSTER_SECRET } from '../support/command-log-cluster';
import { CrdtCluster } from '../support/crdt-cluster';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const CLIENTS = 32;

/**
 * The eventual lane's promise under batching: decision-api gathers concurrent writes into one
 * crdt call and the replica group-commits them, yet a 202 still means "on the replica's disk".
 * Concurrent clients increment a counter and add distinct set elements; the crdt replica is
 * killed (-9) while writes are in flight; after its restart every 202'd write is there.
 */
describe('eventual writes: every 202 survives a kill -9 of the crdt replica (real processes)', () => {
  let crdt: CrdtCluster;
  let api: AppProcess;

  afterAll(async () => {
    await api?.stop();
    await crdt?.stop();
  });

  it('keeps every acknowledged increment and element; bad input is still a 400', async () => {
    crdt = await CrdtCluster.create(1, () => ({}));
    const port = await freePort();
    api = AppProcess.start('decision-api', {
      PARLEY_HTTP_PORT: String(port),
      PARLEY_API_KEYS: TEST_API_KEYS,
      PARLEY_RPC_SECRET: CLUSTER_SECRET,
      // The eventual lane needs no command-log: nothing listens there.
      PARLEY_COMMAND_LOG_NODES: `127.0.0.1:${await freePort()}`,
      PARLEY_CRDT_NODES: `127.0.0.1:${crdt.replica('c1').httpPort}`,
      PARLEY_RATE_LIMIT_PER_SECOND: '1000000',
      PARLEY_LOG_LEVEL: 'error',
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/health/live`);
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_KEYS.agent}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };

    // A bad name among concurrent good writes: a 400 of its own, the others accepted.
    const mixed = await Promise.all([
      post('/v1/counters/ok/increment', { delta: 1 }),
      post('/v1/counters/bad%20name/increment', { delta: 1 }),
      post('/v1/sets/ok/elements', { element: 'e' }),
    ]);
    expect(mixed.map((answer) => answer.status)).toEqual([202, 400, 202]);
    expect(mixed[1].json.detail).toMatch(/^name must be 1-128 characters/);

    let acknowledged = 0;
    const elements: string[] = [];
    let killing = false;
    const worker = async (client: number) => {
      // Each client writes until the kill refuses it one (the replica is gone for good then).
      for (let n = 0; ; n += 1) {
        const element = `c${client}-${n}`;
        const [increment, add] = await Promise.all([
          post('/v1/counters/durable/increment', { delta: 1 }),
          post('/v1/sets/durable/elements', { element }),
        ]);
        if (increment.status === 202) acknowledged += 1;
        if (add.status === 202) elements.push(element);
        if (increment.status !== 202 || add.status !== 202) {
          // Only the kill may refuse a write, and then as unavailable.
          expect(killing).toBe(true);
          expect([increment.status, add.status]).toContain(503);
          return;
        }
      }
    };
    const workers = Array.from({ length: CLIENTS }, (_, client) => worker(client));
    await waitFor('300 acknowledged increments', () => (acknowledged >= 300 ? true : undefined));
    killing = true;
    await crdt.kill('c1');
    await Promise.all(workers);
    const sent = { acknowledged, elements: [...elements] };

    await crdt.start('c1');
    const counter = await crdt.call('c1', 'GET', '/v1/counters/durable');
    const set = await crdt.call('c1', 'GET', '/v1/sets/durable');
    const value = (counter.json as { value: number }).value;
    const held = new Set((set.json as { elements: string[] }).elements);
    // Writes in flight at the kill may or may not have reached the disk; acknowledged ones did.
    expect(value).toBeGreaterThanOrEqual(sent.acknowledged);
    expect(sent.elements.filter((element) => !held.has(element))).toEqual([]);
    expect(sent.elements.length).toBeGreaterThanOrEqual(300);
  });
});
