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
