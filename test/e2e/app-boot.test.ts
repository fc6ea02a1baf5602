import { AppName, AppProcess, waitForHttp } from '../support/app-process';
import { freePort } from '../support/ports';

const clusterSecret = 'e2e-cluster-secret-0123456789';

/** The minimal valid environment of each app. */
function validEnv(app: AppName, httpPort: number): Record<string, string> {
  const env: Record<string, string> = {
    PARLEY_HTTP_PORT: String(httpPort),
    PARLEY_DATA_DIR: '/tmp/parley-e2e-boot',
  };
  if (app === 'decision-api') env.PARLEY_API_KEYS = 'operator:e2e-operator-key-0123456789';
  else env.PARLEY_CLUSTER_SECRET = clusterSecret;
  return env;
}

const apps: AppName[] = ['command-log', 'gossip', 'crdt', 'decision-api'];

describe.each(apps)('%s process', (app) => {
  jest.setTimeout(60_000);

  it('boots on the embedded defaults and answers /health/live', async () => {
    const port = await freePort();
    const proc = AppProcess.start(app, validEnv(app, port));
    try {
      const body = await waitForHttp(`http://127.0.0.1:${port}/health/live`);
      expect(body).toMatchObject({ status: 'ok' });
    } finally {
      await proc.stop();
    }
  });

  it('refuses a malformed setting with one line naming it, and exit code 2', async () => {
    const env = { ...validEnv(app, 8080), PARLEY_HTTP_PORT: 'eighty' };
    const proc = AppProcess.start(app, env);
    expect(await proc.exited).toBe(2);
    const lines = proc.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `${app}: invalid configuration: PARLEY_HTTP_PORT must be an integer port between 1 and 65535 (got "eighty")`,
    );
  });

  it('refuses a TLS file that is not there, naming the setting, the path and why', async () => {
    const env = { ...validEnv(app, 8080), PARLEY_PEER_TLS_CERT_FILE: '/nonexistent/parley.crt' };
    const proc = AppProcess.start(app, env);
    expect(await proc.exited).toBe(2);
    const lines = proc.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      'PARLEY_PEER_TLS_CERT_FILE must be a path to a PEM certificate file (got "/nonexistent/parley.crt": no such file)',
    );
  });

  it('refuses to start when a required secret is missing, without printing secrets', async () => {
    const env = validEnv(app, 8080);
    const required = app === 'decision-api' ? 'PARLEY_API_KEYS' : 'PARLEY_CLUSTER_SECRET';
    delete env[required];
    const proc = AppProcess.start(app, env);
    expect(await proc.exited).toBe(2);
    expect(proc.stderr).toContain(`${required} must be`);
    expect(proc.stderr).toContain('(it is missing)');
  });
});

/** apps/node: the four apps in one process, each with its share of the settings. */
describe('node process', () => {
  jest.setTimeout(60_000);
  const nodeEnv = async (): Promise<Record<string, string>> => ({
    PARLEY_DATA_DIR: '/tmp/parley-e2e-boot-node',
    PARLEY_CLUSTER_SECRET: clusterSecret,
    PARLEY_API_KEYS: 'operator:e2e-operator-key-0123456789',
    PARLEY_HTTP_PORT: String(await freePort()),
    PARLEY_COMMAND_LOG__HTTP_PORT: String(await freePort()),
    PARLEY_RPC_PORT: String(await freePort()),
    PARLEY_PEER_PORT: String(await freePort()),
    PARLEY_CRDT__HTTP_PORT: String(await freePort()),
    PARLEY_CRDT_PEER_PORT: String(await freePort()),
    PARLEY_GOSSIP__HTTP_PORT: String(await freePort()),
    PARLEY_GOSSIP_PORT: String(await freePort()),
  });

  it('boots all four apps, each on its own port, decision-api on PARLEY_HTTP_PORT', async () => {
    const env = await nodeEnv();
    const proc = AppProcess.start('node', env);
    try {
      await waitForHttp(`http://127.0.0.1:${env.PARLEY_HTTP_PORT}/health/ready`);
      for (const port of [
        env.PARLEY_COMMAND_LOG__HTTP_PORT,
        env.PARLEY_CRDT__HTTP_PORT,
        env.PARLEY_GOSSIP__HTTP_PORT,
      ])
        expect(await waitForHttp(`http://127.0.0.1:${port}/health/live`)).toMatchObject({
          status: 'ok',
        });
    } finally {
      await proc.stop();
    }
    // SIGTERM closed every app, then ended the process by that signal, as one app does.
    expect(proc.child.signalCode).toBe('SIGTERM');
  });

  it('refuses a setting no app of the node has, naming it, and exit code 2', async () => {
    const proc = AppProcess.start('node', { ...(await nodeEnv()), PARLEY_GOSIP_PORT: '1' });
    expect(await proc.exited).toBe(2);
    expect(proc.stderr.trim().split('\n')).toEqual([
      'node: PARLEY_GOSIP_PORT is not a setting of any app this node runs (command-log, crdt, gossip, decision-api)',
    ]);
  });

  it("refuses an app's malformed setting as that app does, and closes the apps it started", async () => {
    const env = { ...(await nodeEnv()), PARLEY_CRDT__HTTP_PORT: 'eighty' };
    const proc = AppProcess.start('node', env);
    expect(await proc.exited).toBe(2);
    expect(proc.stderr).toContain(
      'crdt: invalid configuration: PARLEY_HTTP_PORT must be an integer port between 1 and 65535 (got "eighty")',
    );
  });
});
