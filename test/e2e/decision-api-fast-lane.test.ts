import { AppProcess, waitForHttp } from '../support/app-process';
import { TEST_API_KEYS, TEST_KEYS } from '../support/api-keys';
import { CLUSTER_SECRET, CommandLogCluster } from '../support/command-log-cluster';
import { CrdtCluster } from '../support/crdt-cluster';
import { freePort } from '../support/ports';

jest.setTimeout(180_000);

const KEYS = TEST_KEYS;
const API_KEYS = TEST_API_KEYS;

/** One request of the script; `{ns}` becomes each process's own namespace. */
interface Step {
  method: string;
  path: string;
  role?: keyof typeof KEYS | null;
  body?: string;
  headers?: Record<string, string>;
}

const json = (value: unknown) => JSON.stringify(value);

/**
 * The same script of requests, successes and every kind of refusal, to three decision-api
 * processes in front of one cluster: one with the fast lane (the default), one with
 * PARLEY_HTTP_FAST_LANE=false, where Express and Nest serve everything, and one with
 * PARLEY_HTTP_PLATFORM=fastify. Their answers must be the same: status, headers, body, and the
 * metrics they record. Values that differ by nature
 * (Raft indexes, request ids, dates, the namespace) are normalised first.
 */
const SCRIPT: Step[] = [
  { method: 'PUT', path: '/v1/kv/{ns}-a', body: json({ requestId: '{ns}-1', value: 'blue' }) },
  { method: 'PUT', path: '/v1/kv/{ns}-a', body: json({ requestId: '{ns}-1', value: 'blue' }) },
  {
    method: 'PUT',
    path: '/v1/kv/{ns}-a',
    body: json({ value: 'green', ifVersion: 1 }),
    headers: { 'idempotency-key': '{ns}-2' },
  },
  {
    method: 'PUT',
    path: '/v1/kv/{ns}-a',
    body: json({ requestId: '{ns}-3', value: 'red', ifVersion: 1 }),
  },
  { method: 'GET', path: '/v1/kv/{ns}-a', role: 'reader' },
  { method: 'GET', path: '/v1/kv/{ns}-a?consistency=stale', role: 'reader' },
  { method: 'GET', path: '/v1/kv/{ns}-a?consistency=lease&minIndex=1' },
  { method: 'GET', path: '/v1/kv/{ns}-a?consistency=sometimes&other=1' },
  { method: 'GET', path: '/v1/kv/{ns}-missing' },
  { method: 'GET', path: '/v1/kv/{ns}-a', role: null },
  { method: 'PUT', path: '/v1/kv/{ns}-a', role: 'reader', body: json({ value: 'x' }) },
  { method: 'PUT', path: '/v1/kv/{ns}-b', body: '{"requestId": "{ns}-4", "value": ' },
  { method: 'PUT', path: '/v1/kv/{ns}-b', body: '"just a string"' },
  { method: 'PUT', path: '/v1/kv/{ns}-b', body: json({ requestId: '{ns}-5', colour: 'x' }) },
  {
    method: 'PUT',
    path: '/v1/kv/{ns}-b',
    body: json({ requestId: '{ns}-6', value: 'y'.repeat(3000) }),
  },
  {
    method: 'PUT',
    path: '/v1/kv/{ns}-b',
    body: 'value=z',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  },
  { method: 'PUT', path: '/v1/kv/{ns}-b', body: json([1, 2]) },
  { method: 'PUT', path: '/v1/kv/{ns}-%E2%9C%93', body: json({ requestId: '{ns}-7', value: '✓' }) },
  { method: 'GET', path: '/v1/kv/{ns}-%E2%9C%93' },
  { method: 'GET', path: '/v1/kv/{ns}-%E2%9C' },
  { method: 'DELETE', path: '/v1/kv/{ns}-a?ifVersion=1', headers: { 'idempotency-key': '{ns}-8' } },
  { method: 'DELETE', path: '/v1/kv/{ns}-a', headers: { 'idempotency-key': '{ns}-9' } },
  {
    method: 'POST',
    path: '/v1/inventory/{ns}-sku/restock',
    body: json({ requestId: '{ns}-10', quantity: 2 }),
  },
  {
    method: 'POST',
    path: '/v1/inventory/{ns}-sku/reservations',
    body: json({ requestId: '{ns}-11', orderId: 'o1', quantity: 2 }),
  },
  {
    method: 'POST',
    path: '/v1/inventory/{ns}-sku/reservations',
    body: json({ requestId: '{ns}-12', orderId: 'o2', quantity: 1 }),
  },
  { method: 'GET', path: '/v1/inventory/{ns}-sku' },
  { method: 'POST', path: '/v1/counters/{ns}-c/increment', body: json({ delta: 3 }) },
  { method: 'POST', path: '/v1/counters/{ns}-c/increment', body: json({ delta: 'many' }) },
  { method: 'POST', path: '/v1/counters/{ns}-c/increment', body: json({ delta: 1, extra: 1 }) },
  { method: 'PUT', path: '/v1/flags/{ns}-f', body: json({ enabled: true }) },
  { method: 'HEAD', path: '/v1/kv/{ns}-b' },
  { method: 'GET', path: '/V1/KV/{ns}-a' },
  { method: 'GET', path: '/v1/kv/{ns}-a/' },
];

/**
 * Headers whose values differ by nature between two processes or two moments. The rate limit's
 * remaining count and reset follow a 1 s sliding window per process: the same script run
 * request by request against two processes counts different hits once it takes over a second
 * (a loaded machine), so only their presence (in `names`) is compared.
 */
const VARYING = new Set([
  'date',
  'x-request-id',
  'x-raft-index',
  'x-staleness-ms',
  'keep-alive',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
]);

describe('decision-api: the fast lane and Fastify answer exactly as Express and Nest do', () => {
  let commandLog: CommandLogCluster;
  let crdt: CrdtCluster;
  const apis: { ns: string; process: AppProcess; url: string }[] = [];

  beforeAll(async () => {
    commandLog = await CommandLogCluster.create(3, { PARLEY_LOG_LEVEL: 'error' });
    crdt = await CrdtCluster.create(1, () => ({ PARLEY_LOG_LEVEL: 'error' }));
    await commandLog.waitForLeader();
    for (const [ns, lane, platform] of [
      ['lane', 'true', 'express'],
      ['express', 'false', 'express'],
      ['fastify', 'false', 'fastify'],
    ]) {
      const port = await freePort();
      apis.push({
        ns,
        url: `http://127.0.0.1:${port}`,
        process: AppProcess.start('decision-api', {
          PARLEY_HTTP_PORT: String(port),
          PARLEY_API_KEYS: API_KEYS,
          PARLEY_RPC_SECRET: CLUSTER_SECRET,
          PARLEY_COMMAND_LOG_NODES: commandLog.replicas
            .map((r) => `127.0.0.1:${r.rpcPort}`)
            .join(','),
          PARLEY_CRDT_NODES: `127.0.0.1:${crdt.replica('c1').httpPort}`,
          PARLEY_HTTP_BODY_BYTES_MAX: '2048',
          PARLEY_HTTP_FAST_LANE: lane,
          PARLEY_HTTP_PLATFORM: platform,
          PARLEY_LOG_LEVEL: 'error',
        }),
      });
    }
    for (const api of apis) await waitForHttp(`${api.url}/health/ready`, 200, 60_000);
  });

  afterAll(async () => {
    for (const api of apis) await api.process.stop();
    await crdt?.stop();
    await commandLog?.stop();
  });

  async function send(api: (typeof apis)[number], step: Step) {
    const fill = (text: string) => text.replaceAll('{ns}', api.ns);
    const role = step.role === undefined ? 'agent' : step.role;
    const headers: Record<string, string> = {};
    if (step.body !== undefined) headers['content-type'] = 'application/json';
    for (const [name, value] of Object.entries(step.headers ?? {})) headers[name] = fill(value);
    if (role) headers.authorization = `Bearer ${KEYS[role]}`;
    const response = await fetch(`${api.url}${fill(step.path)}`, {
      method: step.method,
      headers,
      body: step.body === undefined ? undefined : fill(step.body),
    });
    const text = await response.text();
    const all: [string, string][] = [];
    response.headers.forEach((value, name) => all.push([name, value]));
    const names = all.map(([name]) => name).sort();
    const values = Object.fromEntries(
      all.filter(([name]) => !VARYING.has(name) && name !== 'content-length'),
    );
    const normalise = (s: string) =>
      s.replaceAll(api.ns, '{ns}').replace(/"index":\d+/g, '"index":"<n>"');
    return {
      status: response.status,
      names,
      values,
      // The length follows the namespace's length; compare it after normalising the body.
      lengthMatches:
        step.method === 'HEAD' ||
        !response.headers.has('content-length') ||
        Number(response.headers.get('content-length')) === Buffer.byteLength(text),
      body: normalise(text),
      xRaftIndex: response.headers.has('x-raft-index'),
    };
  }

  /**
   * Fastify closes the connection after a body it could not parse (the client may still be
   * sending); Express keeps it. Every other header must match.
   */
  function sameConnection<T extends { names: string[]; values: Record<string, string> }>(
    fastify: T,
    express: T,
  ): T {
    if (fastify.values.connection !== 'close') return fastify;
    return {
      ...fastify,
      names: express.names,
      values: { ...fastify.values, connection: express.values.connection },
    };
  }

  /** A path that does not decode is a 400 problem on both, each router wording its own detail. */
  const withoutDetail = <T extends { body: string }>(answer: T): T => ({
    ...answer,
    body: answer.body.replace(/"detail":"[^"]*",/, ''),
  });

  it('gives the same answer to every request of the script', async () => {
    for (const step of SCRIPT) {
      const [lane, express, fastify] = [
        await send(apis[0], step),
        await send(apis[1], step),
        await send(apis[2], step),
      ];
      expect({ step, ...lane }).toEqual({ step, ...express });
      if (step.path.endsWith('%E2%9C'))
        expect({ step, ...withoutDetail(fastify) }).toEqual({ step, ...withoutDetail(express) });
      else expect({ step, ...sameConnection(fastify, express) }).toEqual({ step, ...express });
      expect({ step, lengthMatches: lane.lengthMatches }).toEqual({ step, lengthMatches: true });
    }
  });

  it('records the same request metrics (route pattern, status, consistency)', async () => {
    const requestCounts = async (url: string) =>
      (await (await fetch(`${url}/metrics`)).text())
        .split('\n')
        .filter((line) => line.startsWith('parley_http_request_duration_seconds_count{'))
        .filter((line) => line.includes('route="/v1/'))
        .sort();
    const [lane, express, fastify] = [
      await requestCounts(apis[0].url),
      await requestCounts(apis[1].url),
      await requestCounts(apis[2].url),
    ];
    expect(lane.length).toBeGreaterThan(5);
    expect(lane).toEqual(express);
    // Fastify parses a body after routing, so the two that do not parse (400) and the one too
    // large (413) are counted under their route; Express parses first: route "unknown".
    const put = (status: number) =>
      `parley_http_request_duration_seconds_count{method="PUT",route="/v1/kv/:key",status="${status}",consistency="default"}`;
    const counts = (lines: string[]) =>
      new Map(lines.map((line) => [line.split(' ')[0], Number(line.split(' ')[1])]));
    const expected = counts(express);
    expected.set(put(400), (expected.get(put(400)) ?? 0) + 2);
    expected.set(put(413), (expected.get(put(413)) ?? 0) + 1);
    expect(counts(fastify)).toEqual(expected);
    expect(lane.join('\n')).toContain('route="/v1/kv/:key",status="200",consistency="stale"');
  });

  it('took every canonical request of the script; HEAD, other case, a trailing slash and a bad escape went to Express', async () => {
    const taken = async (url: string) =>
      /^parley_http_fast_lane_requests_total (\d+)$/m.exec(
        await (await fetch(`${url}/metrics`)).text(),
      )?.[1];
    const toExpress = SCRIPT.filter(
      (step) =>
        step.method === 'HEAD' ||
        step.path.startsWith('/V1') ||
        step.path.endsWith('/') ||
        step.path.endsWith('%E2%9C'),
    );
    expect(toExpress).toHaveLength(4);
    expect(await taken(apis[0].url)).toBe(String(SCRIPT.length - toExpress.length));
    expect(await taken(apis[1].url)).toBe('0');
  });
});
