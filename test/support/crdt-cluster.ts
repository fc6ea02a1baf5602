import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, waitForHttp } from './app-process';
import { ClientTls, httpsJson } from './https';
import { freePort } from './ports';

export const CRDT_SECRET = 'e2e-crdt-secret-0123456789';

interface CrdtReplica {
  id: string;
  httpPort: number;
  peerPort: number;
  env: Record<string, string>;
  process?: AppProcess;
}

/** Real crdt replica processes on loopback, with their data in a temp folder. */
export class CrdtCluster {
  readonly replicas: CrdtReplica[] = [];
  readonly dataDir = mkdtempSync(join(tmpdir(), 'parley-crdt-'));

  private constructor(private readonly tls?: ClientTls) {}

  /** The replica's HTTP(S) base URL. */
  url(id: string): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.replica(id).httpPort}`;
  }

  /** `envOf(i)` gives each replica's transport settings (NATS URL or direct peers). */
  static async create(
    size: number,
    envOf: (index: number, ports: { peerPort: number }[]) => Record<string, string>,
    /** For replicas serving HTTPS: the test's trust and client certificate. */
    tls?: ClientTls,
  ): Promise<CrdtCluster> {
    const cluster = new CrdtCluster(tls);
    const ports = [];
    for (let i = 0; i < size; i += 1)
      ports.push({ httpPort: await freePort(), peerPort: await freePort() });
    for (let i = 0; i < size; i += 1)
      cluster.replicas.push({ id: `c${i + 1}`, ...ports[i], env: envOf(i, ports) });
    for (const r of cluster.replicas) await cluster.start(r.id);
    return cluster;
  }

  replica(id: string): CrdtReplica {
    const r = this.replicas.find((x) => x.id === id);
    if (!r) throw new Error(`no replica ${id}`);
    return r;
  }

  async start(id: string): Promise<void> {
    const r = this.replica(id);
    r.process = AppProcess.start('crdt', {
      PARLEY_NODE_ID: id,
      PARLEY_HTTP_PORT: String(r.httpPort),
      PARLEY_CRDT_PEER_PORT: String(r.peerPort),
      PARLEY_CLUSTER_SECRET: CRDT_SECRET,
      PARLEY_DATA_DIR: this.dataDir,
      PARLEY_LOG_LEVEL: 'warn',
      PARLEY_CRDT_ANTI_ENTROPY_MS: '300',
      ...r.env,
    });
    await waitForHttp(`${this.url(id)}/health/live`, 200, 30_000, this.tls);
  }

  async kill(id: string): Promise<void> {
    const r = this.replica(id);
    await r.process?.stop('SIGKILL');
    r.process = undefined;
  }

  async call(
    id: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    if (this.tls) return httpsJson(`${this.url(id)}${path}`, this.tls, { method, body });
    const response = await fetch(`http://127.0.0.1:${this.replica(id).httpPort}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json().catch(() => undefined) };
  }

  async stop(): Promise<void> {
    for (const r of this.replicas) await r.process?.stop('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
