import { readFileSync } from 'node:fs';
import { LocalCluster } from '../support/local-cluster';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

type Answer = { status: number; json: Record<string, unknown>; headers: Headers };

/**
 * `npm start -- --colocated`: one process per node (apps/node), each running its command-log
 * replica, crdt replica, gossip member and a decision-api that calls its replica in-process.
 */
describe('npm start -- --colocated (a node process per node)', () => {
  const cluster = new LocalCluster(0, 3, ['--colocated']);
  const nodeUrl = (i: number) => `http://127.0.0.1:${cluster.basePort + i}`;
  const call = async (i: number, method: string, path: string, body?: unknown, key?: string) => {
    const response = await fetch(`${nodeUrl(i)}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key ?? cluster.secrets().agentKey}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      json: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
      headers: response.headers,
    } satisfies Answer;
  };
  const ready = (i: number) =>
    waitFor(
      `node ${i}'s decision-api to be ready`,
      async () =>
        (await fetch(`${nodeUrl(i)}/health/ready`).catch(() => undefined))?.status === 200
          ? true
          : undefined,
      { timeoutMs: 90_000, intervalMs: 250 },
    );

  afterAll(() => cluster.dispose());

  it('runs three node processes, each serving the decision routes over its own replica', async () => {
    cluster.start();
    await cluster.ready();
    expect(cluster.output).toContain('(one process per node)');
    const processes = cluster.processes();
    expect(Object.keys(processes).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    for (const [name, pid] of Object.entries(processes)) {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect({ name, entry: commandLine[1] }).toEqual({
        name,
        entry: expect.stringMatching(/\/dist\/apps\/node\/src\/main\.js$/),
      });
    }
    for (const i of [1, 2, 3]) {
      await ready(i);
      // Its own replica is reached in-process: its breaker is named for the local address.
      const readiness = await call(i, 'GET', '/health/ready');
      expect(readiness.json).toMatchObject({
        details: { breakers: { states: { 'command-log-local': 'closed' } } },
      });
    }
  });

  it('decides a write once whichever node it reaches, and a retry on another node replays it', async () => {
    const first = await call(1, 'PUT', '/v1/kv/greeting', { requestId: 'colo-1', value: 'hi' });
    expect(first.status).toBe(200);
    for (const i of [2, 3]) {
      const again = await call(i, 'PUT', '/v1/kv/greeting', { requestId: 'colo-1', value: 'hi' });
      expect({ status: again.status, replay: again.headers.get('idempotent-replay') }).toEqual({
        status: 200,
        replay: 'true',
      });
      // The same answer as the first time, naming the index that decided it.
      expect(again.json).toEqual(first.json);
    }
    for (const i of [1, 2, 3])
      expect((await call(i, 'GET', '/v1/kv/greeting')).json).toMatchObject({
        value: 'hi',
        version: 1,
      });
  });

  it('adds up increments taken by different nodes', async () => {
    for (const i of [1, 2, 3])
      expect((await call(i, 'POST', '/v1/counters/visits/increment', { delta: i })).status).toBe(
        202,
      );
    await waitFor('every node to count 6 visits', async () => {
      const values = await Promise.all(
        [1, 2, 3].map(async (i) => (await call(i, 'GET', '/v1/counters/visits')).json?.value),
      );
      return values.every((value) => value === 6) ? true : undefined;
    });
  });

  it("keeps deciding through the other nodes when the leader's node is killed, and takes it back", async () => {
    const view = await call(1, 'GET', '/v1/cluster', undefined, cluster.secrets().operatorKey);
    const leader = String(view.json.leader);
    expect(leader).toMatch(/^n[123]$/);
    const leaderNode = Number(leader.slice(1));
    const survivor = leaderNode === 1 ? 2 : 1;
    const killed = cluster.processes()[`node-${leaderNode}`];
    process.kill(killed, 'SIGKILL');
    await waitFor(
      'a write through a surviving node to be decided',
      async () => {
        const answer = await call(survivor, 'PUT', '/v1/kv/after-kill', {
          requestId: 'colo-after-kill',
          value: 'v',
        });
        return answer.status === 200 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await waitFor(
      'the launcher to restart the killed node',
      () => (cluster.processes()[`node-${leaderNode}`] !== killed ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await ready(leaderNode);
    expect((await call(leaderNode, 'GET', '/v1/kv/after-kill')).json).toMatchObject({
      value: 'v',
    });
  });

  it('SIGTERM stops every node, and no secret reaches the logs', async () => {
    await cluster.stop();
    for (const i of [1, 2, 3]) await expect(fetch(`${nodeUrl(i)}/health/live`)).rejects.toThrow();
    for (const secret of Object.values(cluster.secrets()))
      if (String(secret).length >= 16) expect(cluster.output).not.toContain(secret);
  });
});
