import { AppProcess } from '../support/app-process';
import { TEST_KEYS } from '../support/api-keys';
import { CommandLogCluster } from '../support/command-log-cluster';
import { RestAnswer as Answer, callRest } from '../support/rest';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

/** Short enough to watch an id leave it, long enough for two back-to-back requests. */
const WINDOW_MS = 4_000;

/**
 * The idempotency contract of SPEC §2 over REST, against a real three-replica cluster with a
 * short idempotency window: a request id reused with a different body is refused the same way
 * on every mutating strong route (422 idempotency-key-reuse), and a retry whose id has left the
 * window is refused (409 idempotency-window-passed), never applied a second time.
 */
describe('idempotency over REST', () => {
  let commandLog: CommandLogCluster;
  let api: AppProcess;
  let baseUrl: string;

  beforeAll(async () => {
    commandLog = await CommandLogCluster.create(3, {
      PARLEY_IDEMPOTENCY_WINDOW_MS: String(WINDOW_MS),
      PARLEY_CLOCK_INTERVAL_MS: '100',
    });
    await commandLog.waitForLeader();
    ({ api, baseUrl } = await commandLog.startDecisionApi());
  });

  afterAll(async () => {
    await api?.stop();
    await commandLog?.stop();
  });

  const call = (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> => callRest(baseUrl, method, path, { key: TEST_KEYS.agent, body, headers });

  function expectKeyReuse(answer: Answer, requestId: string): void {
    expect(answer.status).toBe(422);
    expect(answer.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(answer.json).toMatchObject({
      type: 'idempotency-key-reuse',
      title: 'Unprocessable Content',
      status: 422,
    });
    expect(String(answer.json.detail)).toContain(requestId);
  }

  const policy = {
    kind: 'majority',
    voters: ['a1', 'a2'],
    deadlineMs: 600_000,
    onDeadline: 'reject',
  };

  /** Each mutating strong route: a first request, then the same id with another body. */
  const routes: [
    string,
    string,
    (id: string) => [string, string, unknown?, Record<string, string>?][],
  ][] = [
    [
      'PUT /v1/kv/{key}',
      'kv-put',
      (id) => [
        ['PUT', '/v1/kv/reuse', { requestId: id, value: 'one' }],
        ['PUT', '/v1/kv/reuse', { requestId: id, value: 'two' }],
      ],
    ],
    [
      'DELETE /v1/kv/{key}',
      'kv-delete',
      (id) => [
        ['DELETE', '/v1/kv/reuse', undefined, { 'idempotency-key': id }],
        ['DELETE', '/v1/kv/reuse?ifVersion=7', undefined, { 'idempotency-key': id }],
      ],
    ],
    [
      'POST /v1/inventory/{sku}/restock',
      'restock',
      (id) => [
        ['POST', '/v1/inventory/reuse/restock', { requestId: id, quantity: 5 }],
        ['POST', '/v1/inventory/reuse/restock', { requestId: id, quantity: 6 }],
      ],
    ],
    [
      'POST /v1/inventory/{sku}/reservations',
      'reserve',
      (id) => [
        ['POST', '/v1/inventory/reuse/reservations', { requestId: id, orderId: 'o1', quantity: 1 }],
        ['POST', '/v1/inventory/reuse/reservations', { requestId: id, orderId: 'o2', quantity: 1 }],
      ],
    ],
    [
      'DELETE /v1/inventory/{sku}/reservations/{orderId}',
      'release',
      (id) => [
        ['DELETE', '/v1/inventory/reuse/reservations/o1', undefined, { 'idempotency-key': id }],
        ['DELETE', '/v1/inventory/reuse/reservations/o9', undefined, { 'idempotency-key': id }],
      ],
    ],
    [
      'PUT /v1/budgets/{campaign}',
      'budget',
      (id) => [
        ['PUT', '/v1/budgets/reuse', { requestId: id, limit: 100 }],
        ['PUT', '/v1/budgets/reuse', { requestId: id, limit: 200 }],
      ],
    ],
    [
      'POST /v1/budgets/{campaign}/spend',
      'spend',
      (id) => [
        ['POST', '/v1/budgets/reuse/spend', { requestId: id, bidId: 'b1', amount: 10 }],
        ['POST', '/v1/budgets/reuse/spend', { requestId: id, bidId: 'b1', amount: 90 }],
      ],
    ],
    [
      'POST /v1/proposals',
      'propose',
      (id) => [
        [
          'POST',
          '/v1/proposals',
          { requestId: id, proposalId: 'reuse', options: ['x', 'y'], policy },
        ],
        [
          'POST',
          '/v1/proposals',
          { requestId: id, proposalId: 'reuse', options: ['x', 'z'], policy },
        ],
      ],
    ],
    [
      'POST /v1/proposals/{id}/votes',
      'vote',
      (id) => [
        ['POST', '/v1/proposals/reuse/votes', { requestId: id, agentId: 'a1', option: 'x' }],
        ['POST', '/v1/proposals/reuse/votes', { requestId: id, agentId: 'a1', option: 'y' }],
      ],
    ],
  ];

  // In this order: restock before reserving, the budget before spending, the proposal before
  // its vote. Each first request is answered as the route answers it; the reuse never is.
  it.each(routes)(
    '%s: the same requestId with a different body is 422 idempotency-key-reuse',
    async (_route, tag, requests) => {
      const id = `reuse-${tag}`;
      const [[method, path, body, headers], [reMethod, rePath, reBody, reHeaders]] = requests(id);
      const first = await call(method, path, body, headers);
      expect([200, 201, 404]).toContain(first.status);
      expectKeyReuse(await call(reMethod, rePath, reBody, reHeaders), id);
      // The first request is still the one remembered: its retry replays its answer.
      const retry = await call(method, path, body, headers);
      expect(retry.status).toBe(first.status);
      expect(retry.json).toEqual(first.json);
      expect(retry.headers.get('idempotent-replay')).toBe('true');
    },
  );

  it('a retry whose id has left the window is 409 idempotency-window-passed, not applied again', async () => {
    expect(
      (await call('PUT', '/v1/budgets/late', { requestId: 'late-limit', limit: 100 })).status,
    ).toBe(200);
    const spend = { requestId: 'late-spend', bidId: 'bid-1', amount: 30 };
    const first = await call('POST', '/v1/budgets/late/spend', spend);
    expect(first.json).toMatchObject({ status: 'accepted', remaining: 70 });
    // The leader's clock entries move log time on; until the window passes a retry replays.
    const refused = await waitFor(
      'the retry to fall out of the idempotency window',
      async () => {
        const retry = await call('POST', '/v1/budgets/late/spend', spend);
        if (retry.status === 200) {
          expect(retry.headers.get('idempotent-replay')).toBe('true');
          return undefined;
        }
        return retry;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(refused.json).toMatchObject({
      type: 'idempotency-window-passed',
      title: 'Conflict',
      status: 409,
    });
    expect(String(refused.json.detail)).toContain('late-spend');
    const budget = await callRest(baseUrl, 'GET', '/v1/budgets/late', { key: TEST_KEYS.reader });
    expect(budget.json).toMatchObject({ spent: 30, remaining: 70 });
  });
});
