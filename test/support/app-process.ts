import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ClientTls, getJson } from './https';
import { waitFor } from './wait';

/** An app, or `node`: several apps in one process (apps/node). */
export type AppName = 'command-log' | 'gossip' | 'crdt' | 'decision-api' | 'node';

const repoRoot = join(__dirname, '..', '..');

/** A real app process started from source, with its output captured for assertions. */
export class AppProcess {
  private stdoutText = '';
  private stderrText = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly name: AppName,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdoutText += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderrText += chunk.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /**
   * `NODE_EXTRA_ARGS` in env (space-separated) goes to node itself, e.g. `--cpu-prof`;
   * `RUN_COMPILED=true` runs the compiled output in dist/ (`npm run build`), as a deployment
   * does, instead of the sources: for benchmarks that time a start. A decision-api gets the test
   * run's own PARLEY_HTTP_PLATFORM unless env names one, so any e2e spec runs against Fastify
   * too: `PARLEY_HTTP_PLATFORM=fastify npx jest ...`.
   */
  static start(name: AppName, env: Record<string, string>): AppProcess {
    const { NODE_EXTRA_ARGS: nodeArgs, RUN_COMPILED: compiled, ...appEnv } = env;
    const platform = process.env.PARLEY_HTTP_PLATFORM;
    if (name === 'decision-api' && platform && !appEnv.PARLEY_HTTP_PLATFORM)
      appEnv.PARLEY_HTTP_PLATFORM = platform;
    const child = spawn(
      process.execPath,
      [
        ...(nodeArgs ? nodeArgs.split(' ') : []),
        ...(compiled === 'true'
          ? [join(repoRoot, 'dist', 'apps', name, 'src', 'main.js')]
          : ['-r', '@swc-node/register', join(repoRoot, 'apps', name, 'src', 'main.ts')]),
      ],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...appEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new AppProcess(name, child);
  }

  get stdout(): string {
    return this.stdoutText;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Stops this process (and only this one) by its PID, then waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/** Waits until an HTTP GET (HTTPS with `tls`) answers with the given status. */
export async function waitForHttp(
  url: string,
  status = 200,
  timeoutMs = 30_000,
  tls?: ClientTls,
): Promise<unknown> {
  return waitFor(
    `GET ${url} → ${status}`,
    async () => {
      const answer = await getJson(url, tls);
      return answer.status === status ? answer.json : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}
