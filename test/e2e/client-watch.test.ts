import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionEvent, ParleyClient, ParleyNotFound } from '@parley/client';
import { AppProcess } from '../support/app-process';
import { TEST_KEYS } from '../support/api-keys';
import { CommandLogCluster } from '../support/command-log-cluster';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

/**
 * watch(), proposals.waitForOutcome() and requests against the real `GET /v1/watch`: a watch
 * whose decision-api is killed with -9 resumes on the other one and sees every write once, in
 * log order; a proposal closed by its deadline is waited for on the stream.
 */
describe('@parley/client watch against real processes', () => {
  let cluster: CommandLogCluster;
  const apis: { api: AppProcess; baseUrl: string }[] = [];
  const clients: ParleyClient[] = [];
  const stop = new AbortController();

  beforeAll(async () => {
    cluster = await CommandLogCluster.create(3, { PARLEY_CLOCK_INTERVAL_MS: '50' });
    await cluster.waitForLeader();
    for (let k = 0; k < 2; k += 1)
      apis.push(
        await cluster.startDecisionApi({
          PARLEY_WATCH_HEARTBEAT_MS: '200',
          // respond-async needs an outbox to queue in.
          PARLEY_OUTBOX_DIR: mkdtempSync(join(tmpdir(), 'parley-api-outbox-')),
        }),
      );
  });
  afterAll(async () => {
    stop.abort();
    for (const client of clients) client.close();
    for (const { api } of apis) await api.stop();
    await cluster?.stop();
  });

  const connect = () => {
    const client = new ParleyClient({
      endpoints: apis.map((a) => a.baseUrl),
      apiKey: TEST_KEYS.agent,
      backoff: { delayMsBase: 20, delayMsMax: 200 },
      watch: { silenceMsMax: 2_000 },
    });
    clients.push(client);
    return client;
  };

  it('resumes after its decision-api is killed with -9: every write once, in log order', async () => {
    const parley = connect();
    const first = await parley.kv.put('cw-0', 'v0');
    const seen: DecisionEvent[] = [];
    const watching = (async () => {
      for await (const event of parley.watch({
        prefix: 'kv/cw-',
        fromIndex: first.index,
        signal: stop.signal,
      }))
        seen.push(event);
    })();
    const written: { key: string; index: number }[] = [];
    for (let i = 1; i <= 30; i += 1) {
      if (i === 11) {
        // The stream has events in hand, then loses its endpoint.
        await waitFor('the first ten events', () => (seen.length >= 10 ? true : undefined));
        await apis[0].api.stop('SIGKILL');
      }
      const answer = await parley.kv.put(`cw-${i}`, `v${i}`);
      written.push({ key: answer.key, index: answer.index });
    }
    await waitFor('all thirty events', () => (seen.length >= 30 ? true : undefined));
    expect(seen.map((e) => [e.entity, e.index])).toEqual(
      written.map((w) => [`kv/${w.key}`, w.index]),
    );
    expect(seen.every((e) => e.type === 'kv.put' && e.decidedBy === 'command')).toBe(true);
    stop.abort();
    await watching;
  });

  it('waits on the stream for a proposal closed by its deadline', async () => {
    const parley = connect();
    await parley.proposals.create({
      proposalId: 'cw-deadline',
      options: ['yes', 'no'],
      policy: {
        kind: 'majority',
        voters: ['a1', 'a2', 'a3'],
        deadlineMs: 800,
        onDeadline: 'plurality',
      },
    });
    await parley.proposals.vote('cw-deadline', { agentId: 'a1', option: 'no' });
    const outcome = await parley.proposals.waitForOutcome('cw-deadline');
    expect(outcome).toMatchObject({ proposalId: 'cw-deadline', status: 'decided', outcome: 'no' });
  });

  it('submits with respond-async and waits for the decision on the watch', async () => {
    const parley = connect();
    await parley.inventory.restock('cw-async', 1);
    const first = await parley.submitAsync(
      'inventory.reserve',
      { sku: 'cw-async' },
      { orderId: 'a1', quantity: 1 },
    );
    const second = await parley.submitAsync(
      'inventory.reserve',
      { sku: 'cw-async' },
      { orderId: 'a2', quantity: 1 },
      { requestId: 'cw-async-2' },
    );
    expect(second).toMatchObject({ requestId: 'cw-async-2', location: '/v1/requests/cw-async-2' });
    expect(['pending', 'decided']).toContain(second.state);
    const [one, two] = await Promise.all([
      parley.requests.waitFor(first.requestId),
      parley.requests.waitFor('cw-async-2'),
    ]);
    expect(one).toMatchObject({ state: 'decided', status: 200, body: { status: 'accepted' } });
    expect(two).toMatchObject({
      state: 'decided',
      status: 200,
      body: { status: 'rejected', reason: 'out-of-stock' },
    });
    await expect(parley.requests.get('cw-never-sent')).rejects.toThrow(ParleyNotFound);
  });
});
