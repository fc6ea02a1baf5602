import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { killChild } from './kill-child';
import { waitFor } from './wait';

/**
 * An S3-compatible server of the test's own (the versitygw binary scripts/infra/s3.sh built),
 * so a test can stop and restart "S3" without touching the shared server. Stopped only through
 * its own PID.
 */
export class S3ServerProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly dataDir: string,
  ) {}

  static binary(): string {
    const cache = process.env.PARLEY_INFRA_CACHE ?? join(homedir(), '.cache', 'parley');
    const dir = existsSync(cache)
      ? readdirSync(cache).find((d) => d.startsWith('versitygw-'))
      : undefined;
    const path = dir ? join(cache, dir, 'versitygw') : '';
    if (!path || !existsSync(path))
      throw new Error('versitygw binary not found: run scripts/infra/up.sh s3 first');
    return path;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      S3ServerProcess.binary(),
      ['--port', `127.0.0.1:${this.port}`, '--health', '/health', '--quiet', 'posix', this.dataDir],
      {
        env: {
          PATH: process.env.PATH ?? '',
          ROOT_ACCESS_KEY_ID: 'parley',
          ROOT_SECRET_ACCESS_KEY: 'parley-secret-key',
          HOME: this.dataDir,
        },
        stdio: 'ignore',
      },
    );
    await waitFor(
      'the S3-compatible server to be live',
      async () => {
        const response = await fetch(`${this.endpoint}/health`);
        return response.ok ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  async stop(): Promise<void> {
    await killChild(this.child);
    this.child = undefined;
  }
}
