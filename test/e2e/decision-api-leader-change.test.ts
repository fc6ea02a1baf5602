import { performance } from 'node:perf_hooks';
import { checkLinearizable, KvInput, KvOutput, kvModel, Operation } from '@parley/sim';
import { CommandLogCluster } from '../support/command-log-cluster';
import { DecisionApi } from '../support/decision-api-stack';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

/**
 * Strong writes and lease reads through REST while the Raft leader moves (operator transfers)
 * and dies (kill -9). The client side follows SPEC §3's retry rule: the same requestId after
 * a 503 (Retry-After) or a 504; nothing else is an acceptable error.
 */
describe('decision-api across leader changes', () => {
  let cluster: CommandLogCluster;
  let api: DecisionApi;

  beforeEach(async () => {
    cluster = await CommandLogCluster.create(3);
    await cluster.waitForLeader();
    api = await DecisionApi.start(cluster, { PARLEY_COMMIT_TIMEOUT_MS: '2000' });
  });
  afterEach(async () => {
    await api?.stop();
    await cluster?.stop();
  });

  it('lease reads never return a value older than a write acknowledged before they started', async () => {
    const writesMax = 90;
    const history: Operation<KvInput, KvOutput>[] = [];
    const acknowledgedAt: number[] = []; // acknowledgedAt[n]: when write n was acknowledged
    const retried = { 503: 0, 504: 0 };
    let written = 0;
    let readsFailed = 0;
    const changes: string[] = [];

    const writer = async () => {
      for (let n = 1; n <= writesMax; n += 1) {
        const call = performance.now();
        const answer = await api.write(
          'PUT',
          '/v1/kv/lr',
          { requestId: `lr-${n}`, value: String(n) },
          retried,
        );
        expect(answer.status).toBe(200);
        const now = performance.now();
        history.push({
          clientId: 0,
          input: { kind: 'put', key: 'lr', value: String(n) },
          call,
          output: { ok: true },
          return: now,
        });
        acknowledgedAt[n] = now;
        written = n;
      }
    };
    const reader = async (clientId: number) => {
      while (written < writesMax) {
        const call = performance.now();
        const answer = await api.call('GET', '/v1/kv/lr?consistency=lease', 'reader');
        const now = performance.now();
        if (answer.status === 503 || answer.status === 504) {
          readsFailed += 1; // a read that failed observed nothing: not part of the history
          continue;
        }
        expect([200, 404]).toContain(answer.status);
        const value = answer.status === 200 ? (answer.json.value as string) : null;
        history.push({
          clientId,
          input: { kind: 'get', key: 'lr' },
          call,
          output: { value },
          return: now,
        });
      }
    };
    // Two transfers and a kill -9 of the leader, each once enough writes went through.
    const operator = async () => {
      for (const [after, change] of [
        [20, 'transfer'],
        [45, 'transfer'],
        [70, 'kill'],
      ] as const) {
        await waitFor(`${after} writes`, () => (written >= after ? true : undefined), {
          timeoutMs: 30_000,
        });
        if (change === 'transfer') {
          const { from, to } = await api.transferLeadership(cluster);
          changes.push(`transfer ${from}→${to}`);
        } else {
          const leader = await cluster.waitForLeader();
          await cluster.kill(leader);
          changes.push(`kill ${leader}`);
        }
      }
    };
    await Promise.all([writer(), operator(), ...[1, 2, 3].map((id) => reader(id))]);

    // Read-your-writes across the changes, checked directly: a read started after write n was
    // acknowledged returns n or later.
    let checked = 0;
    for (const op of history) {
      if (op.input.kind !== 'get') continue;
      const acknowledgedBefore = acknowledgedAt.findLastIndex(
        (t) => t !== undefined && t < op.call,
      );
      const value = (op.output as { value: string | null }).value;
      expect(value === null ? 0 : Number(value)).toBeGreaterThanOrEqual(
        Math.max(0, acknowledgedBefore),
      );
      checked += 1;
    }
    // And the whole history is linearizable (writes and lease reads on one register).
    const report = checkLinearizable(kvModel, history);
    process.stdout.write(
      `lease reads: ${checked} checked, ${readsFailed} answered 503/504; writes: ${written}, retried after 503: ${retried[503]}, after 504: ${retried[504]}; ${changes.join(', ')}; checker: ${report.result} in ${report.steps} steps\n`,
    );
    expect(changes).toHaveLength(3);
    expect(checked).toBeGreaterThan(writesMax);
    expect(report.result).toBe('ok');
  });

  it('every acknowledged write survives three leadership transfers under load, applied once', async () => {
    const writers = 8;
    const writesPerWriter = 40;
    const retried = { 503: 0, 504: 0 };
    let acknowledged = 0;
    let replays = 0;
    const transfers: string[] = [];
    const writer = async (w: number) => {
      for (let i = 0; i < writesPerWriter; i += 1) {
        const answer = await api.write(
          'POST',
          '/v1/inventory/load/restock',
          { requestId: `load-${w}-${i}`, quantity: 1 },
          retried,
        );
        expect({ status: answer.status, json: answer.json }).toEqual({
          status: 200,
          json: expect.objectContaining({ sku: 'load' }),
        });
        if (answer.headers.get('idempotent-replay') === 'true') replays += 1;
        acknowledged += 1;
      }
    };
    const operator = async () => {
      for (const after of [50, 120, 190]) {
        await waitFor(
          `${after} acknowledged writes`,
          () => (acknowledged >= after ? true : undefined),
          { timeoutMs: 30_000 },
        );
        const { from, to } = await api.transferLeadership(cluster);
        transfers.push(`${from}→${to}`);
      }
    };
    await Promise.all([operator(), ...Array.from({ length: writers }, (_, w) => writer(w))]);

    // Every acknowledged write is there, each once: the stock is exactly the number of
    // restocks, and sending each one again is answered as a replay of a write the state
    // machine remembers, which changes nothing.
    const total = writers * writesPerWriter;
    expect(acknowledged).toBe(total);
    const stockAfterLoad = await api.call('GET', '/v1/inventory/load', 'reader');
    expect(stockAfterLoad.json).toMatchObject({ sku: 'load', available: total, reserved: 0 });
    let found = 0;
    const resend = async (w: number) => {
      for (let i = 0; i < writesPerWriter; i += 1) {
        const again = await api.write('POST', '/v1/inventory/load/restock', {
          requestId: `load-${w}-${i}`,
          quantity: 1,
        });
        expect([again.status, again.headers.get('idempotent-replay')]).toEqual([200, 'true']);
        found += 1;
      }
    };
    await Promise.all(Array.from({ length: writers }, (_, w) => resend(w)));
    const stockAfterReplays = await api.call('GET', '/v1/inventory/load', 'reader');
    expect(stockAfterReplays.json).toMatchObject({ available: total });
    process.stdout.write(
      `transfers under load: ${transfers.join(', ')}; ${acknowledged} writes acknowledged, ${found} replayed as already applied; retryable answers: ${retried[503]} × 503, ${retried[504]} × 504; ${replays} idempotent replays\n`,
    );
    expect(transfers).toHaveLength(3);
    expect(found).toBe(total);
  });
});
