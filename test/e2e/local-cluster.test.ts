import { readFileSync } from 'node:fs';
import { LocalCluster } from '../support/local-cluster';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

/** `npm start`: the three-node local cluster a newcomer gets, wired end to end. */
describe('npm start (scripts/start-local.js)', () => {
  const cluster = new LocalCluster(0);
  const call = (method: string, path: string, body?: unknown) =>
    cluster.call(method, path, cluster.secrets().agentKey, body);

  afterAll(() => cluster.dispose());

  it('starts every app wired together, and SIGTERM stops them all', async () => {
    cluster.start();
    await cluster.ready();
    expect(cluster.output).toMatch(/\[command-log-1\]/);
    expect(cluster.output).toContain(`dashboard     ${cluster.api}/`);
    // Every app runs its compiled output, as a deployment does (not TypeScript compiled at start).
    for (const [name, pid] of Object.entries(cluster.processes())) {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect({ name, entry: commandLine[1] }).toEqual({
        name,
        entry: expect.stringMatching(/\/dist\/apps\/[a-z-]+\/src\/main\.js$/),
      });
    }
    expect(
      (await call('PUT', '/v1/kv/greeting', { requestId: 'local-1', value: 'hello' })).status,
    ).toBe(200);
    expect((await call('POST', '/v1/counters/visits/increment', { delta: 2 })).status).toBe(202);
    await waitFor('gossip to see the three members', async () => {
      const agents = (await call('GET', '/v1/agents')).json as unknown as { status: string }[];
      return Array.isArray(agents) && agents.filter((a) => a.status === 'alive').length === 3
        ? true
        : undefined;
    });
    await cluster.stop();
    // Every child is gone: nothing answers on the decision-api port any more.
    await expect(fetch(`${cluster.api}/health/live`)).rejects.toThrow();
  });

  it('restarting keeps the data', async () => {
    cluster.start();
    await cluster.ready('decision-api to be ready again');
    expect((await call('GET', '/v1/kv/greeting')).json).toMatchObject({
      value: 'hello',
      version: 1,
    });
  });

  it('restarts a child that crashed, and the cluster keeps deciding', async () => {
    const before = cluster.processes();
    process.kill(before['crdt-2'], 'SIGKILL');
    process.kill(before['command-log-3'], 'SIGKILL');
    await waitFor(
      'the launcher to restart the killed children',
      () => {
        const now = cluster.processes();
        return now['crdt-2'] !== before['crdt-2'] &&
          now['command-log-3'] !== before['command-log-3']
          ? true
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(cluster.output).toMatch(/\[command-log-3\] exited \(SIGKILL\); restarting/);
    expect(
      (await call('PUT', '/v1/kv/greeting', { requestId: 'local-2', value: 'again' })).status,
    ).toBe(200);
    await cluster.stop();
    // Every child's log went through the launcher: no key or cluster secret in it.
    for (const secret of Object.values(cluster.secrets()))
      if (String(secret).length >= 16) expect(cluster.output).not.toContain(secret);
  });
});
