import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertReceiver } from '../support/alert-receiver';
import { TEST_API_KEYS, TEST_KEYS } from '../support/api-keys';
import { FaultProxy } from '../support/chaos/fault-proxy';
import { CommandLogCluster } from '../support/command-log-cluster';
import { DecisionApi, RestAnswer } from '../support/decision-api-stack';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';
import { WatchStream } from '../support/watch-stream';

jest.setTimeout(240_000);

/** A strong write as an agent, with `Prefer: respond-async` unless `prefer` says otherwise. */
async function send(
  api: DecisionApi,
  method: string,
  path: string,
  body: unknown,
  prefer: string | null = 'respond-async',
): Promise<RestAnswer> {
  const response = await fetch(`http://127.0.0.1:${api.port}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TEST_KEYS.agent}`,
      'content-type': 'application/json',
      ...(prefer ? { prefer } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : {} };
}

/** The status as the submitter (the unbound agent test key) reads it. */
const statusOf = (api: DecisionApi, requestId: string) =>
  api.call('GET', `/v1/requests/${requestId}`, 'agent');

/** Polls the request's status until it is decided (not 202); its answer. */
const decided = (api: DecisionApi, requestId: string, timeoutMs = 60_000) =>
  waitFor(
    `request ${requestId} decided`,
    async () => {
      const answer = await statusOf(api, requestId);
      return answer.status === 202 ? undefined : answer;
    },
    { timeoutMs, intervalMs: 100 },
  );

async function metric(api: DecisionApi, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${api.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

function expectAccepted(answer: RestAnswer, requestId: string): void {
  expect(answer.status).toBe(202);
  expect(answer.headers.get('location')).toBe(`/v1/requests/${requestId}`);
  expect(answer.headers.get('preference-applied')).toBe('respond-async');
  expect(answer.json).toEqual({ requestId, state: 'pending' });
}

describe('accept now, decide later: an outbox with no cluster to drain to', () => {
  let dir: string;
  let api: DecisionApi;
  let receiver: AlertReceiver;
  const env = () => ({
    PARLEY_ALERT_WEBHOOK_URL: receiver.url,
    PARLEY_ALERT_OUTBOX_DEPTH: '1',
    PARLEY_ALERT_POLL_MS: '100',
    // Nothing listens there: no leader, ever.
    PARLEY_COMMAND_LOG_NODES: `127.0.0.1:${closedPort}`,
    PARLEY_OUTBOX_DIR: dir,
    PARLEY_OUTBOX_ENTRIES_MAX: '2',
    PARLEY_COMMIT_TIMEOUT_MS: '500',
  });
  let closedPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-outbox-'));
    receiver = await AlertReceiver.start('unused-secret-0123456789');
    closedPort = await freePort();
    api = await DecisionApi.start({ replicas: [] } as unknown as CommandLogCluster, env());
  });

  afterAll(async () => {
    await api?.stop();
    await receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queues, buffers, answers 503 when full, refuses a reused id, and survives kill -9', async () => {
    const laneBefore = await metric(api, 'parley_http_fast_lane_requests_total');
    const first = { requestId: 'buf-1', orderId: 'o-1', quantity: 1 };
    expectAccepted(await send(api, 'POST', '/v1/inventory/gpu/reservations', first), 'buf-1');
    // Served by Express (the 202 leaves past the route's own status), not by the fast lane...
    expect(await metric(api, 'parley_http_fast_lane_requests_total')).toBe(laneBefore);
    // ...which still takes the same route without the preference (503: no leader).
    const sync = await send(api, 'PUT', '/v1/kv/k', { requestId: 'sync-1', value: 'v' }, null);
    expect(sync.status).toBe(503);
    // (The lane exists on Express only; the run may put every decision-api on Fastify.)
    const laneOn = (process.env.PARLEY_HTTP_PLATFORM ?? 'express') === 'express';
    expect(await metric(api, 'parley_http_fast_lane_requests_total')).toBe(
      laneBefore + (laneOn ? 1 : 0),
    );

    // A client's retry is the same request; the same id with another body is refused.
    expectAccepted(await send(api, 'POST', '/v1/inventory/gpu/reservations', first), 'buf-1');
    const reused = await send(api, 'POST', '/v1/inventory/gpu/reservations', {
      ...first,
      quantity: 2,
    });
    expect(reused.status).toBe(422);
    expect(reused.json.type).toBe('idempotency-key-reuse');

    expectAccepted(await send(api, 'PUT', '/v1/kv/k', { requestId: 'buf-2', value: 'v' }), 'buf-2');
    const full = await send(api, 'PUT', '/v1/kv/k', { requestId: 'buf-3', value: 'w' });
    expect(full.status).toBe(503);
    expect(full.json.type).toBe('outbox-full');
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);

    // Without a requestId it is the synchronous route's 400, queued or not.
    const noId = await send(api, 'PUT', '/v1/kv/k', { value: 'v' });
    expect(noId.status).toBe(400);

    await waitFor('buf-1 buffered (no leader)', async () => {
      const answer = await statusOf(api, 'buf-1');
      return answer.json.state === 'buffered' ? answer : undefined;
    });
    expect((await statusOf(api, 'buf-1')).status).toBe(202);
    expect((await statusOf(api, 'never-sent')).status).toBe(404);
    expect(await metric(api, 'parley_outbox_depth')).toBe(2);
    // Two waiting, above the threshold of one: an alert, unsigned without a secret.
    await waitFor('outbox-depth at the webhook', () =>
      receiver.kinds().includes('outbox-depth') ? true : undefined,
    );
    expect(receiver.alerts[0].headers['parley-signature']).toBeUndefined();

    await api.process.stop('SIGKILL');
    api = await DecisionApi.start({ replicas: [] } as unknown as CommandLogCluster, env());
    expect((await statusOf(api, 'buf-1')).json).toMatchObject({ requestId: 'buf-1' });
    expect((await statusOf(api, 'buf-2')).status).toBe(202);
    expect(await metric(api, 'parley_outbox_depth')).toBe(2);
  });
});

describe('request status: only whoever may submit, and only their own', () => {
  const BOUND = { a1: 'agent-a1-key-0123456789abcdef', a2: 'agent-a2-key-0123456789abcdef' };
  let dir: string;
  let api: DecisionApi;
  let env: Record<string, string>;
  /** A call with any key (the bound ones are not among the role keys of DecisionApi.call). */
  const as = async (key: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${api.port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        prefer: 'respond-async',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-outbox-'));
    env = {
      PARLEY_API_KEYS: `${TEST_API_KEYS},agent@a1:${BOUND.a1},agent@a2:${BOUND.a2}`,
      // Nothing listens there: every request stays buffered.
      PARLEY_COMMAND_LOG_NODES: `127.0.0.1:${await freePort()}`,
      PARLEY_OUTBOX_DIR: dir,
      PARLEY_COMMIT_TIMEOUT_MS: '500',
    };
    api = await DecisionApi.start({ replicas: [] } as unknown as CommandLogCluster, env);
  });

  afterAll(async () => {
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the submitting binding and operators read a status; other agents get 404, readers 403, across a restart', async () => {
    const bound = await as(BOUND.a1, 'PUT', '/v1/kv/priv', { requestId: 'priv-a1', value: '1' });
    expect(bound.status).toBe(202);
    const unbound = await as(TEST_KEYS.agent, 'PUT', '/v1/kv/priv', {
      requestId: 'priv-any',
      value: '2',
    });
    expect(unbound.status).toBe(202);
    const readable = async () => ({
      a1: (await as(BOUND.a1, 'GET', '/v1/requests/priv-a1')).status,
      a2: (await as(BOUND.a2, 'GET', '/v1/requests/priv-a1')).status,
      unboundAgent: (await as(TEST_KEYS.agent, 'GET', '/v1/requests/priv-a1')).status,
      operator: (await as(TEST_KEYS.operator, 'GET', '/v1/requests/priv-a1')).status,
      reader: (await as(TEST_KEYS.reader, 'GET', '/v1/requests/priv-a1')).status,
      unboundOwn: (await as(TEST_KEYS.agent, 'GET', '/v1/requests/priv-any')).status,
      a1OnUnbound: (await as(BOUND.a1, 'GET', '/v1/requests/priv-any')).status,
    });
    const expected = {
      a1: 202,
      a2: 404,
      unboundAgent: 404,
      operator: 202,
      reader: 403,
      unboundOwn: 202,
      a1OnUnbound: 404,
    };
    expect(await readable()).toEqual(expected);
    // Another agent's request looks exactly like an unknown one.
    const other = await as(BOUND.a2, 'GET', '/v1/requests/priv-a1');
    const unknown = await as(BOUND.a2, 'GET', '/v1/requests/never-sent');
    expect(other.json.detail).toBe(String(unknown.json.detail).replace('never-sent', 'priv-a1'));
    // The binding is in the outbox's journal: the same after kill -9.
    await api.process.stop('SIGKILL');
    api = await DecisionApi.start({ replicas: [] } as unknown as CommandLogCluster, env);
    expect(await readable()).toEqual(expected);
  });
});

describe('accept now, decide later: a real cluster and a real partition', () => {
  const ids = ['n1', 'n2', 'n3'];
  const SECRET = 'webhook-secret-0123456789';
  const peerLinks = new Map<string, FaultProxy>();
  /** decision-api A's links to each replica's microservice port. */
  const rpcLinks = new Map<string, FaultProxy>();
  let cluster: CommandLogCluster;
  let a: DecisionApi;
  let b: DecisionApi;
  let receiver: AlertReceiver;
  let dir: string;
  let aEnv: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-outbox-'));
    receiver = await AlertReceiver.start(SECRET);
    const holder: { cluster?: CommandLogCluster } = {};
    for (const from of ids) {
      rpcLinks.set(from, await FaultProxy.start(() => holder.cluster!.replica(from).rpcPort));
      for (const to of ids.filter((id) => id !== from))
        peerLinks.set(
          `${from}>${to}`,
          await FaultProxy.start(() => holder.cluster!.replica(to).peerPort),
        );
    }
    cluster = await CommandLogCluster.create(
      3,
      {},
      {
        peerAddress: (from, to) =>
          from === to.id
            ? `127.0.0.1:${to.peerPort}`
            : `127.0.0.1:${peerLinks.get(`${from}>${to.id}`)!.port}`,
      },
    );
    holder.cluster = cluster;
    await cluster.waitForLeader();
    aEnv = {
      PARLEY_COMMAND_LOG_NODES: ids.map((id) => `127.0.0.1:${rpcLinks.get(id)!.port}`).join(','),
      PARLEY_OUTBOX_DIR: dir,
      PARLEY_COMMIT_TIMEOUT_MS: '1000',
      PARLEY_OUTBOX_RETRY_MAX_MS: '500',
      PARLEY_ALERT_WEBHOOK_URL: receiver.url,
      PARLEY_ALERT_WEBHOOK_SECRET: SECRET,
      PARLEY_ALERT_POLL_MS: '200',
    };
    a = await DecisionApi.start(cluster, aEnv);
    b = await DecisionApi.start(cluster);
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await cluster?.stop();
    for (const proxy of [...peerLinks.values(), ...rpcLinks.values()]) await proxy.close();
    await receiver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 202, then on /v1/requests exactly what the synchronous call answers', async () => {
    expectAccepted(
      await send(a, 'PUT', '/v1/kv/colour', { requestId: 'c-1', value: 'blue' }),
      'c-1',
    );
    const later = await decided(a, 'c-1');
    // The same request sent synchronously now is a replay: the answer the sync call gave.
    const sync = await b.write('PUT', '/v1/kv/colour', { requestId: 'c-1', value: 'blue' });
    expect(later.status).toBe(200);
    expect(later.json).toEqual(sync.json);
    expect(later.json).toMatchObject({ key: 'colour', value: 'blue', version: 1 });
    // Decided at the index its body names (a replay's X-Raft-Index is the replay's own entry).
    expect(later.headers.get('x-raft-index')).toBe(String(later.json.index));
    // A refusal by the route is its problem answer, decided later the same way.
    expectAccepted(
      await send(a, 'PUT', '/v1/kv/colour', { requestId: 'c-2', value: 'red', ifVersion: 7 }),
      'c-2',
    );
    const conflict = await decided(a, 'c-2');
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(conflict.json).toMatchObject({ status: 409, detail: 'key colour is at version 1' });
    // A process without an outbox ignores the preference: answered at once, nothing applied.
    const ignored = await send(b, 'PUT', '/v1/kv/colour', { requestId: 'c-3', value: 'green' });
    expect(ignored.status).toBe(200);
    expect(ignored.headers.get('preference-applied')).toBeNull();
    expect(ignored.json).toMatchObject({ value: 'green', version: 2 });
    // A proposal's 201 too.
    const propose = {
      requestId: 'p-1',
      proposalId: 'async-p1',
      options: ['yes', 'no'],
      policy: { kind: 'majority', voters: ['a1'], deadlineMs: 60_000, onDeadline: 'reject' },
    };
    expectAccepted(await send(a, 'POST', '/v1/proposals', propose), 'p-1');
    expect(await decided(a, 'p-1')).toMatchObject({
      status: 201,
      json: { proposalId: 'async-p1', status: 'open' },
    });
  });

  it('buffers on the minority side, survives kill -9, drains once after healing, loses the race as a decision', async () => {
    expect(
      (await b.write('POST', '/v1/inventory/gpu/restock', { requestId: 'rs-1', quantity: 1 }))
        .status,
    ).toBe(200);
    await waitFor('quorum reachable seen by A', async () =>
      (await metric(a, 'parley_quorum_reachable')) === 1 ? true : undefined,
    );
    const watch = await WatchStream.open(a.port, '?types=alert');
    // Partition {A, n1} | {n2, n3}: n1 loses its peers, A loses n2 and n3.
    for (const [link, proxy] of peerLinks) if (link.includes('n1')) proxy.setCut(true);
    for (const id of ['n2', 'n3']) rpcLinks.get(id)!.setCut(true);
    await waitFor('quorum-lost at the webhook', () =>
      receiver.kinds().includes('quorum-lost') ? true : undefined,
    );
    // The same alert on the watch stream.
    await waitFor('quorum-lost on the watch', () =>
      watch.events.some((e) => e.event === 'alert' && JSON.parse(e.data).kind === 'quorum-lost')
        ? true
        : undefined,
    );
    watch.close();

    const reserve = { requestId: 'res-a', orderId: 'order-a', quantity: 1 };
    expectAccepted(await send(a, 'POST', '/v1/inventory/gpu/reservations', reserve), 'res-a');
    const put = { requestId: 'kv-a', value: 'from-the-minority' };
    expectAccepted(await send(a, 'PUT', '/v1/kv/minority', put), 'kv-a');
    await waitFor('res-a buffered', async () =>
      (await statusOf(a, 'res-a')).json.state === 'buffered' ? true : undefined,
    );
    expect((await a.call('GET', '/v1/cluster', 'operator')).json.outbox).toMatchObject({
      state: 'buffered',
      depth: 2,
    });
    // The majority side goes on deciding: it takes the last unit first.
    const taken = await b.write('POST', '/v1/inventory/gpu/reservations', {
      requestId: 'res-b',
      orderId: 'order-b',
      quantity: 1,
    });
    expect(taken.json).toMatchObject({ status: 'accepted', available: 0 });

    await a.process.stop('SIGKILL');
    a = await DecisionApi.start(cluster, aEnv);
    expect((await statusOf(a, 'res-a')).status).toBe(202);
    expect((await statusOf(a, 'kv-a')).status).toBe(202);
    // The restarted A has looked at the cluster (no leader) before the partition heals.
    await waitFor('a look at the cluster by the restarted A', async () =>
      (await metric(a, 'parley_alert_checks_total')) >= 1 ? true : undefined,
    );

    for (const proxy of [...peerLinks.values(), ...rpcLinks.values()]) proxy.setCut(false);
    const lost = await decided(a, 'res-a');
    expect(lost.status).toBe(200);
    expect(lost.json).toMatchObject({ status: 'rejected', reason: 'out-of-stock', available: 0 });
    const kv = await decided(a, 'kv-a');
    expect(kv.json).toMatchObject({ key: 'minority', version: 1 });
    // Exactly once: one version, and the same request again is a replay of that one.
    const read = await b.call('GET', '/v1/kv/minority?consistency=linearizable', 'reader');
    expect(read.json).toMatchObject({ value: 'from-the-minority', version: 1 });
    const again = await b.write('PUT', '/v1/kv/minority', put);
    expect(again.headers.get('idempotent-replay')).toBe('true');
    expect(again.json).toEqual(kv.json);
    expect(await metric(a, 'parley_outbox_depth')).toBe(0);
    expect((await a.call('GET', '/v1/cluster', 'operator')).json.outbox).toEqual({
      state: 'idle',
      depth: 0,
      bytes: 0,
    });

    await waitFor('quorum-regained at the webhook', () =>
      receiver.kinds().includes('quorum-regained') ? true : undefined,
    );
    expect(receiver.alerts.every((alert) => alert.validSignature)).toBe(true);
    expect(receiver.alerts.every((alert) => alert.headers['parley-alert-id'])).toBeTruthy();
  });
});
