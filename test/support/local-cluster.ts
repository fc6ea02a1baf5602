import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

export const repoRoot = join(__dirname, '..', '..');

export interface LocalSecrets {
  operatorKey: string;
  agentKey: string;
  readerKey: string;
}

/**
 * `npm start` (scripts/start-local.js) as a test drives it: a real launcher process with every
 * app as its own child, on a base port away from the ranges other tests draw from (test/support/
 * ports.ts uses 20000-31999).
 */
export class LocalCluster {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'parley-local-'));
  readonly basePort: number;
  readonly api: string;
  private launcher: ChildProcess | undefined;
  output = '';

  /** `slot` keeps concurrently written test files on distinct port ranges (0..1; 2 and up meet the ranges of test/integration/local-cluster-brokers.test.ts). */
  constructor(
    slot: number,
    private readonly nodes = 3,
    /** More options for scripts/start-local.js (e.g. --election-ms). */
    private readonly launcherArgs: string[] = [],
  ) {
    this.basePort = 10_000 + slot * 2_000 + Math.floor(Math.random() * 25) * 20;
    this.api = `http://127.0.0.1:${this.basePort + 1}`;
  }

  start(): void {
    this.output = '';
    const launcher = spawn(
      process.execPath,
      [
        'scripts/start-local.js',
        '--nodes',
        String(this.nodes),
        '--base-port',
        String(this.basePort),
        '--data-dir',
        this.dataDir,
        ...this.launcherArgs,
      ],
      { cwd: repoRoot, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    launcher.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    launcher.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.launcher = launcher;
  }

  async ready(what = 'decision-api to be ready with a quorum'): Promise<void> {
    try {
      await waitFor(
        what,
        async () => {
          const response = await fetch(`${this.api}/health/ready`).catch(() => undefined);
          return response?.status === 200 ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 250 },
      );
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n--- launcher output ---\n${this.output.slice(-4_000)}`,
      );
    }
  }

  secrets(): LocalSecrets {
    return JSON.parse(
      readFileSync(join(this.dataDir, 'local-secrets.json'), 'utf8'),
    ) as LocalSecrets;
  }

  /** The PID of each child, by name (`command-log-2`), as the launcher recorded them. */
  processes(): Record<string, number> {
    return JSON.parse(readFileSync(join(this.dataDir, 'processes.json'), 'utf8')) as Record<
      string,
      number
    >;
  }

  async call(method: string, path: string, key: string, body?: unknown) {
    const response = await fetch(`${this.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      json: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
    };
  }

  /** SIGTERM to the launcher, which stops every child; resolves when it has exited. */
  async stop(): Promise<void> {
    const launcher = this.launcher;
    if (!launcher || launcher.exitCode !== null || launcher.signalCode !== null) return;
    const exited = new Promise((resolve) => launcher.once('exit', resolve));
    launcher.kill('SIGTERM');
    await exited;
  }

  /** Last resort for afterAll: kill the launcher and remove the data. */
  async dispose(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.stop(),
      new Promise((resolve) => (timer = setTimeout(resolve, 10_000))),
    ]);
    clearTimeout(timer);
    if (this.launcher && this.launcher.exitCode === null) this.launcher.kill('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
