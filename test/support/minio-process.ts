import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

/**
 * A MinIO process of the test's own (the binary scripts/infra/s3.sh built), so a test can stop
 * and restart "S3" without touching the shared server. Stopped only through its own PID.
 */
export class MinioProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly dataDir: string,
  ) {}

  static binary(): string {
    const cache = process.env.PARLEY_INFRA_CACHE ?? join(homedir(), '.cache', 'parley');
    const dir = existsSync(cache)
      ? readdirSync(cache).find((d) => d.startsWith('minio-'))
      : undefined;
    const path = dir ? join(cache, dir, 'minio') : '';
    if (!path || !existsSync(path))
      throw new Error('MinIO binary not found: run scripts/infra/up.sh s3 first');
    return path;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      MinioProcess.binary(),
      ['server', this.dataDir, '--address', `127.0.0.1:${this.port}`, '--quiet'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          MINIO_ROOT_USER: 'parley',
          MINIO_ROOT_PASSWORD: 'parley-secret-key',
          MINIO_BROWSER: 'off',
          MINIO_UPDATE: 'off',
          HOME: this.dataDir,
        },
        stdio: 'ignore',
      },
    );
    await waitFor(
      'MinIO to be live',
      async () => {
        const response = await fetch(`${this.endpoint}/minio/health/live`);
        return response.ok ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }
}
