import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const root = join(__dirname, '..', '..');

/** `npm start`: the three-node local cluster a newcomer gets, wired end to end. */
describe('npm start (scripts/start-local.js)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-local-'));
  // A base port away from the ranges the other tests draw from.
  const basePort = 10_000 + Math.floor(Math.random() * 400) * 10;
  const api = `http://127.0.0.1:${basePort + 1}`;
  let launcher: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (launcher && launcher.exitCode === null) launcher.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const launch = () => {
    output = '';
    launcher = spawn(
      process.execPath,
      [
        'scripts/start-local.js',
        '--nodes',
        '3',
        '--base-port',
        String(basePort),
        '--data-dir',
        dataDir,
      ],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    launcher.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    launcher.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  };
  const keys = () =>
    JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { agentKey: string };
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${keys().agentKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const stopLauncher = async () => {
    const exited = new Promise((resolve) => launcher!.once('exit', resolve));
    launcher!.kill('SIGTERM');
    await exited;
  };

  it('starts every app wired together, and SIGTERM stops them all', async () => {
    launch();
    await waitFor(
      'decision-api to be ready with a quorum',
      async () => {
        const response = await fetch(`${api}/health/ready`).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(output).toMatch(/\[command-log-1\]/);
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
    await stopLauncher();
    // Every child is gone: nothing answers on the decision-api port any more.
    await expect(fetch(`${api}/health/live`)).rejects.toThrow();
  });

  it('restarting keeps the data', async () => {
    launch();
    await waitFor(
      'decision-api to be ready again',
      async () => {
        const response = await fetch(`${api}/health/ready`).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect((await call('GET', '/v1/kv/greeting')).json).toMatchObject({
      value: 'hello',
      version: 1,
    });
    await stopLauncher();
  });
});
