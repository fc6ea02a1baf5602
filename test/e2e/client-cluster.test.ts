import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ParleyBadRequest,
  ParleyClient,
  ParleyConflict,
  ParleyForbidden,
  ParleyIdempotencyKeyReuse,
  ParleyNotFound,
  ParleyUnauthorized,
} from '@parley/client';
import { ANSWERS } from '@parley/decision-api-contract';
import { AppProcess } from '../support/app-process';
import { TEST_KEYS } from '../support/api-keys';
import { CommandLogCluster } from '../support/command-log-cluster';
import { freePort } from '../support/ports';

jest.setTimeout(240_000);

/**
 * @parley/client against real processes: three command-log replicas and two decision-api
 * processes. Every answer is parsed with the contract's strict answer schemas (the client's
 * types come from them), refusals arrive as typed errors, a decision-api killed with -9 is
 * failed over, and a Raft leader killed mid-stream leaves every logical write applied once.
 */
describe('@parley/client against a real cluster', () => {
  let cluster: CommandLogCluster;
  const apis: { api: AppProcess; baseUrl: string }[] = [];
  const clients: ParleyClient[] = [];
  const connect = (key: keyof typeof TEST_KEYS = 'agent', options = {}) => {
    const client = new ParleyClient({
      endpoints: apis.map((a) => a.baseUrl),
      apiKey: TEST_KEYS[key],
      ...options,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    cluster = await CommandLogCluster.create(3);
    await cluster.waitForLeader();
    for (let k = 0; k < 2; k += 1)
      apis.push(await cluster.startDecisionApi({ PARLEY_COMMIT_TIMEOUT_MS: '2000' }));
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    for (const { api } of apis) await api.stop();
    await cluster?.stop();
  });

  it('answers in the shapes of the contract, domain refusals included', async () => {
    const parley = connect();
    ANSWERS.stock.parse(await parley.inventory.restock('pear', 1));
    const accepted = ANSWERS.reservation.parse(
      await parley.inventory.reserve('pear', { orderId: 'o1', quantity: 1 }),
    );
    expect(accepted.status).toBe('accepted');
    // Out of stock is a decision, answered, not an error.
    const refused = ANSWERS.reservation.parse(
      await parley.inventory.reserve('pear', { orderId: 'o2', quantity: 1 }),
    );
    expect(refused).toMatchObject({ status: 'rejected', reason: 'out-of-stock' });
    ANSWERS.release.parse(await parley.inventory.release('pear', 'o1'));
    ANSWERS.inventory.parse(await parley.inventory.get('pear'));
    const put = ANSWERS.kvEntry.parse(await parley.kv.put('colour', 'blue'));
    ANSWERS.kvEntry.parse(await parley.kv.get('colour', { minIndex: put.index }));
    ANSWERS.kvDeleted.parse(await parley.kv.delete('colour', { ifVersion: put.version }));
    ANSWERS.budget.parse(await parley.budgets.set('spring', 100));
    ANSWERS.spend.parse(await parley.budgets.spend('spring', { bidId: 'b1', amount: 30 }));
    expect(ANSWERS.budget.parse(await parley.budgets.get('spring')).remaining).toBe(70);
    ANSWERS.proposalCreated.parse(
      await parley.proposals.create({
        proposalId: 'lunch',
        options: ['pizza', 'salad'],
        policy: {
          kind: 'majority',
          voters: ['a1', 'a2'],
          deadlineMs: 60_000,
          onDeadline: 'reject',
        },
      }),
    );
    ANSWERS.vote.parse(await parley.proposals.vote('lunch', { agentId: 'a1', option: 'pizza' }));
    ANSWERS.vote.parse(await parley.proposals.vote('lunch', { agentId: 'a2', option: 'pizza' }));
    const decided = ANSWERS.proposal.parse(await parley.proposals.get('lunch'));
    expect(decided).toMatchObject({ status: 'decided', outcome: 'pizza' });
    // Already decided: waitForOutcome answers at once.
    expect(await parley.proposals.waitForOutcome('lunch')).toMatchObject({ outcome: 'pizza' });
  });

  it('refuses with typed errors carrying the problem', async () => {
    const parley = connect();
    await parley.kv.put('typed', 'one', { requestId: 'typed-1' });
    const conflict = await parley.kv.put('typed', 'two', { ifVersion: 7 }).catch((e) => e);
    expect(conflict).toBeInstanceOf(ParleyConflict);
    expect(conflict.problem).toMatchObject({ status: 409, detail: 'key typed is at version 1' });
    await expect(parley.kv.get('no-such-key')).rejects.toThrow(ParleyNotFound);
    await expect(parley.kv.put('typed', 'other', { requestId: 'typed-1' })).rejects.toThrow(
      ParleyIdempotencyKeyReuse,
    );
    await expect(connect('reader').kv.put('typed', 'x')).rejects.toThrow(ParleyForbidden);
    const wrongKey = new ParleyClient({ endpoints: apis[0].baseUrl, apiKey: 'not-a-key-at-all' });
    clients.push(wrongKey);
    await expect(wrongKey.kv.get('typed')).rejects.toThrow(ParleyUnauthorized);
    // With local checks off, the server's own 400 names the field just the same.
    const unchecked = connect('agent', { validate: false });
    const bad = await unchecked.inventory
      .reserve('pear', { orderId: 'o3', quantity: 0 })
      .catch((e) => e);
    expect(bad).toBeInstanceOf(ParleyBadRequest);
    expect(bad.endpoint).toBeDefined();
    expect(bad.problem.errors.join()).toMatch(/quantity/);
  });

  it('fails over when a decision-api is killed with -9 mid-stream, each write landing once', async () => {
    const parley = connect();
    await parley.inventory.restock('cold', 1_000);
    const outcomes = new Map<string, string>();
    let killed: Promise<void> | undefined;
    let decidedAtKill = -1;
    const worker = async (w: number) => {
      for (let i = w; i < 120; i += 16) {
        // Sixteen in flight when the endpoint dies: their answers are lost, not their effect.
        const answer = await parley.inventory.reserve('cold', { orderId: `c-${i}`, quantity: 1 });
        outcomes.set(`c-${i}`, answer.reason ?? answer.status);
        if (outcomes.size === 30 && !killed)
          killed = apis[0].api.stop('SIGKILL').then(() => {
            decidedAtKill = outcomes.size;
          });
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    await killed;
    expect(decidedAtKill).toBeLessThan(110);
    // A retry applied as a second command would have been refused "order-exists".
    expect([...outcomes.values()].filter((o) => o !== 'accepted')).toEqual([]);
    const survivor = new ParleyClient({ endpoints: apis[1].baseUrl, apiKey: TEST_KEYS.agent });
    clients.push(survivor);
    expect(await survivor.inventory.get('cold')).toEqual({
      sku: 'cold',
      available: 880,
      reserved: 120,
    });
  });

  it('applies every logical write exactly once while the Raft leader is killed mid-stream', async () => {
    const parley = connect('agent', { attemptsMax: 40, deadlineMs: 60_000 });
    await parley.inventory.restock('hot', 1_000);
    const orders = Array.from({ length: 150 }, (_, i) => `order-${i}`);
    const outcomes = new Map<string, string>();
    let killed: Promise<void> | undefined;
    let decidedAtKill = -1;
    const worker = async (w: number) => {
      for (let i = w; i < orders.length; i += 16) {
        const answer = await parley.inventory.reserve('hot', { orderId: orders[i], quantity: 1 });
        outcomes.set(orders[i], answer.reason ?? answer.status);
        if (outcomes.size === 40 && !killed)
          killed = cluster
            .waitForLeader()
            .then((id) => cluster.kill(id))
            .then(() => {
              decidedAtKill = outcomes.size;
            });
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    await killed;
    // The leader died mid-stream: many reservations were decided after it, by a new leader.
    expect(decidedAtKill).toBeGreaterThanOrEqual(40);
    expect(decidedAtKill).toBeLessThan(130);
    // A reservation applied twice would have answered its retry "order-exists".
    expect([...outcomes.values()].filter((o) => o !== 'accepted')).toEqual([]);
    expect(outcomes.size).toBe(150);
    const state = await parley.inventory.get('hot');
    expect(state).toEqual({ sku: 'hot', available: 850, reserved: 150 });
  });

  it('keeps a command in the file outbox while no endpoint answers, and sends it once one does', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'parley-outbox-'));
    const file = join(dir, 'outbox.jsonl');
    const dropped: string[] = [];
    const parley = connect('agent', {
      endpoints: [`http://127.0.0.1:${port}`],
      attemptsMax: 2,
      backoff: { delayMsBase: 20, delayMsMax: 200 },
      outbox: {
        entriesMax: 10,
        file,
        onDropped: (_: unknown, e: Error) => dropped.push(e.message),
      },
    });
    const first = await parley.submitAsync('inventory.restock', { sku: 'later' }, { quantity: 5 });
    const second = await parley.submitAsync(
      'inventory.reserve',
      { sku: 'later' },
      { orderId: 'l1', quantity: 2 },
    );
    expect([first.state, second.state]).toEqual(['queued-locally', 'queued-locally']);
    expect(parley.outboxSize).toBe(2);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    // Now an endpoint answers there: the outbox drains, in order, each command once.
    apis.push(await cluster.startDecisionApi({ PARLEY_HTTP_PORT: String(port) }));
    await parley.outboxDrained();
    expect(dropped).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe('');
    expect(await parley.inventory.get('later')).toEqual({
      sku: 'later',
      available: 3,
      reserved: 2,
    });
    rmSync(dir, { recursive: true, force: true });
  });
});
