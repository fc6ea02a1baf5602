import { AppProcess, waitForHttp } from '../support/app-process';
import { CLUSTER_SECRET, CommandLogCluster } from '../support/command-log-cluster';
import { freePort } from '../support/ports';

jest.setTimeout(180_000);

const AGENT_KEY = 'agent-key-0123456789abcdef';

/**
 * Reservations through REST while the Raft leader is killed with -9: clients retry 503/504
 * and transport errors with the same requestId. At the end nothing is oversold, every
 * acknowledged reservation is in the state, and the totals add up exactly.
 */
describe('decision-api: leader kill during a stream of reservations', () => {
  let cluster: CommandLogCluster;
  let api: AppProcess;
  let apiPort: number;
  afterAll(async () => {
    await api?.stop();
    await cluster?.stop();
  });

  it('never oversells and loses no acknowledged reservation', async () => {
    cluster = await CommandLogCluster.create(3);
    await cluster.waitForLeader();
    apiPort = await freePort();
    const port = apiPort;
    api = AppProcess.start('decision-api', {
      PARLEY_HTTP_PORT: String(port),
      PARLEY_API_KEYS: `agent:${AGENT_KEY}`,
      PARLEY_RPC_SECRET: CLUSTER_SECRET,
      PARLEY_COMMAND_LOG_NODES: cluster.replicas.map((r) => `127.0.0.1:${r.rpcPort}`).join(','),
      PARLEY_COMMIT_TIMEOUT_MS: '2000',
      PARLEY_LOG_LEVEL: 'error',
    });
    await waitForHttp(`http://127.0.0.1:${port}/health/live`);
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return {
        status: response.status,
        retryAfter: Number(response.headers.get('retry-after') ?? 0),
        json: (await response.json()) as Record<string, unknown>,
      };
    };
    /**
     * Same requestId on every attempt: exactly-once whatever happens to the leader. A 503 says
     * when to come back (Retry-After) and the client does as told: retrying at once only burns
     * the attempts while the election runs (CI once spent all 40 in 2.6 s that way).
     */
    const withRetries = async (path: string, body: unknown) => {
      const seen: number[] = [];
      for (let attempt = 0; attempt < 40; attempt += 1) {
        try {
          const answer = await post(path, body);
          if (answer.status === 200) return answer.json;
          if (answer.status !== 503 && answer.status !== 504)
            throw new Error(`unexpected ${answer.status}: ${JSON.stringify(answer.json)}`);
          seen.push(answer.status);
          if (answer.status === 503 && answer.retryAfter > 0)
            await new Promise((resolve) =>
              setTimeout(resolve, Math.min(answer.retryAfter, 2) * 1_000),
            );
        } catch (error) {
          if ((error as Error).message.startsWith('unexpected')) throw error;
          seen.push(0);
        }
      }
      throw new Error(`no answer for ${JSON.stringify(body)} (answers: ${seen.join(',')})`);
    };

    await withRetries('/v1/inventory/hot/restock', { requestId: 'restock', quantity: 100 });
    const outcomes = new Map<string, string>();
    let acknowledged = 0;
    let killed: Promise<void> | undefined;
    let acknowledgedAtKill = -1;
    const orders = Array.from({ length: 150 }, (_, i) => `order-${i}`);
    const worker = async (w: number) => {
      for (let i = w; i < orders.length; i += 16) {
        const answer = await withRetries('/v1/inventory/hot/reservations', {
          requestId: `reserve-${orders[i]}`,
          orderId: orders[i],
          quantity: 1,
        });
        outcomes.set(orders[i], answer.status as string);
        acknowledged += 1;
        if (acknowledged === 40 && !killed)
          killed = cluster
            .waitForLeader()
            .then((id) => cluster.kill(id))
            .then(() => {
              acknowledgedAtKill = acknowledged;
            });
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    await killed;
    // The leader died mid-stream: many reservations were decided after it, by a new leader.
    expect(acknowledgedAtKill).toBeGreaterThanOrEqual(40);
    expect(acknowledgedAtKill).toBeLessThan(120);

    const accepted = [...outcomes.values()].filter((s) => s === 'accepted').length;
    const rejected = [...outcomes.values()].filter((s) => s === 'rejected').length;
    expect(accepted + rejected).toBe(150);
    expect(accepted).toBe(100); // 150 asked for 100 in stock: exactly the stock, never more
    const state = (await cluster.query({ type: 'inventory.get', sku: 'hot' })) as {
      value: { available: number; reserved: number };
    };
    expect(state.value).toMatchObject({ available: 0, reserved: 100 });
  });

  it('on the minority side: strong writes and linearizable reads 503, stale reads served with staleness', async () => {
    // Continues from the test above: one replica is already dead; kill one more.
    const leader = await cluster.waitForLeader();
    await cluster.kill(leader);
    const base = `http://127.0.0.1:${apiPort}`;
    const headers = { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' };
    const write = await fetch(`${base}/v1/inventory/hot/reservations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ requestId: 'minority-1', orderId: 'm1', quantity: 1 }),
    });
    expect([503, 504]).toContain(write.status);
    if (write.status === 503) expect(write.headers.get('retry-after')).not.toBeNull();
    const linearizable = await fetch(`${base}/v1/inventory/hot`, { headers });
    expect([503, 504]).toContain(linearizable.status);
    const stale = await fetch(`${base}/v1/inventory/hot?consistency=stale`, { headers });
    expect(stale.status).toBe(200);
    expect(Number(stale.headers.get('x-staleness-ms'))).toBeGreaterThanOrEqual(0);
    expect(await stale.json()).toEqual({ sku: 'hot', available: 0, reserved: 100 });
  });
});

describe('decision-api: a commit whose outcome is unknown', () => {
  let cluster: CommandLogCluster;
  let api: AppProcess;
  afterAll(async () => {
    await api?.stop();
    await cluster?.stop();
  });

  it('answers 504 when the leader accepted the command but lost its quorum before committing', async () => {
    // Long election timeouts (3 s): the leader keeps leading a while after its followers die,
    // so the write below is accepted and then can never commit.
    cluster = await CommandLogCluster.create(3, { PARLEY_ELECTION_TICKS: '300' });
    const leader = await cluster.waitForLeader(60_000);
    const port = await freePort();
    api = AppProcess.start('decision-api', {
      PARLEY_HTTP_PORT: String(port),
      PARLEY_API_KEYS: `agent:${AGENT_KEY}`,
      PARLEY_RPC_SECRET: CLUSTER_SECRET,
      PARLEY_COMMAND_LOG_NODES: `127.0.0.1:${cluster.replica(leader).rpcPort}`,
      PARLEY_COMMIT_TIMEOUT_MS: '300',
      PARLEY_LOG_LEVEL: 'error',
    });
    await waitForHttp(`http://127.0.0.1:${port}/health/live`);
    for (const follower of cluster.replicas.filter((r) => r.id !== leader))
      await cluster.kill(follower.id);
    const response = await fetch(`http://127.0.0.1:${port}/v1/kv/unknown`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ requestId: 'maybe', value: 'v' }),
    });
    expect(response.status).toBe(504);
    expect(((await response.json()) as { detail: string }).detail).toMatch(
      /retrying with the same requestId is safe/,
    );
  });
});
