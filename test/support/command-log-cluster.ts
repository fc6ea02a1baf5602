import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { NoDelayJsonSocket, signRpc } from '@parley/app-kit';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, timeout } from 'rxjs';
import { AppProcess, waitForHttp } from './app-process';
import { TEST_API_KEYS } from './api-keys';
import { ClientTls, getJson } from './https';
import { freePort } from './ports';
import { waitFor } from './wait';

export const CLUSTER_SECRET = 'e2e-command-log-secret-0123456789';

export interface ReplicaHandle {
  id: string;
  httpPort: number;
  peerPort: number;
  rpcPort: number;
  process?: AppProcess;
  client?: ClientProxy;
}

export interface ReplicaStatus {
  role: string;
  leader: string | null;
  term: number;
  appliedIndex: number;
  commitIndex: number;
  lastIndex: number;
  firstIndex: number;
  snapshotsInstalled: number;
  walTruncated: { segment: string; offset: number; reason: string } | null;
  voters: string[];
  learners: string[];
  walSyncs: number;
}

/** A real multi-process command-log cluster on loopback, with its data in a temp folder. */
export class CommandLogCluster {
  readonly replicas: ReplicaHandle[] = [];
  readonly dataDir = mkdtempSync(join(tmpdir(), 'parley-cluster-'));
  private natsClient?: ClientProxy;

  /**
   * `peerAddress` (default: the peer's own port) is where replica `from` reaches replica `to`:
   * the chaos tests put a fault-injecting proxy on every directed link.
   */
  static async create(
    size: number,
    extraEnv: Record<string, string> = {},
    options: {
      peerAddress?: (from: string, to: ReplicaHandle) => string;
      /** Settings of one replica only (e.g. a slow disk), on every start of it. */
      envFor?: (id: string) => Record<string, string>;
      /**
       * For replicas started with TLS: the test's trust and certificate, for their HTTPS status
       * port and their mutual-TLS microservice port.
       */
      tls?: ClientTls;
    } = {},
  ): Promise<CommandLogCluster> {
    const cluster = new CommandLogCluster(
      extraEnv,
      options.peerAddress,
      options.envFor,
      options.tls,
    );
    for (let i = 1; i <= size; i += 1) {
      cluster.replicas.push({
        id: `n${i}`,
        httpPort: await freePort(),
        peerPort: await freePort(),
        rpcPort: await freePort(),
      });
    }
    for (const replica of cluster.replicas) cluster.start(replica.id);
    return cluster;
  }

  private constructor(
    private readonly extraEnv: Record<string, string>,
    private readonly peerAddress: (from: string, to: ReplicaHandle) => string = (_from, to) =>
      `127.0.0.1:${to.peerPort}`,
    private readonly envFor: (id: string) => Record<string, string> = () => ({}),
    private readonly tls?: ClientTls,
  ) {}

  replica(id: string): ReplicaHandle {
    const replica = this.replicas.find((r) => r.id === id);
    if (!replica) throw new Error(`no replica ${id}`);
    return replica;
  }

  /**
   * A new replica that joins the running cluster (PARLEY_JOIN); started, not yet a member.
   * `env`: settings of its first start only.
   */
  async addReplica(id: string, env: Record<string, string> = {}): Promise<ReplicaHandle> {
    const replica: ReplicaHandle = {
      id,
      httpPort: await freePort(),
      peerPort: await freePort(),
      rpcPort: await freePort(),
    };
    this.replicas.push(replica);
    this.start(id, { PARLEY_JOIN: 'true', ...env });
    return replica;
  }

  start(id: string, env: Record<string, string> = {}): void {
    const replica = this.replica(id);
    const peers = this.replicas.map((r) => `${r.id}=${this.peerAddress(id, r)}`).join(',');
    replica.process = AppProcess.start('command-log', {
      PARLEY_NODE_ID: id,
      PARLEY_HTTP_PORT: String(replica.httpPort),
      PARLEY_PEER_PORT: String(replica.peerPort),
      PARLEY_RPC_PORT: String(replica.rpcPort),
      PARLEY_PEERS: peers,
      PARLEY_CLUSTER_SECRET: CLUSTER_SECRET,
      PARLEY_DATA_DIR: this.dataDir,
      PARLEY_LOG_LEVEL: 'warn',
      ...this.extraEnv,
      ...this.envFor(id),
      ...env,
    });
  }

  /** kill -9: no shutdown hooks, no flush; only what was fsynced survives. */
  async kill(id: string): Promise<void> {
    const replica = this.replica(id);
    this.closeClient(replica);
    await replica.process?.stop('SIGKILL');
    replica.process = undefined;
  }

  async status(id: string): Promise<ReplicaStatus | undefined> {
    const replica = this.replica(id);
    if (!replica.process) return undefined;
    try {
      const scheme = this.tls ? 'https' : 'http';
      const answer = await getJson(`${scheme}://127.0.0.1:${replica.httpPort}/v1/status`, this.tls);
      return answer.status === 200 ? (answer.json as ReplicaStatus) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Proposes a command through the current leader, following not-leader answers, with a
   * bounded number of attempts; the same requestId on every retry keeps it exactly-once.
   */
  async propose(
    command: Record<string, unknown>,
    attempts = 30,
  ): Promise<{ index: number; result: { result: Record<string, unknown>; replayed: boolean } }> {
    let target = await this.waitForLeader();
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      let response: { status: string; leaderId?: string | null; index?: number; result?: unknown };
      try {
        response = await this.rpc(target, 'command-log.propose', { command });
      } catch {
        target = await this.waitForLeader();
        continue;
      }
      if (response.status === 'applied') return response as never;
      if (response.status === 'rejected')
        throw new Error(`command rejected: ${JSON.stringify(response)}`);
      if (
        response.status === 'not-leader' &&
        response.leaderId &&
        this.replica(response.leaderId).process
      )
        target = response.leaderId;
      else target = await this.waitForLeader();
    }
    throw new Error(`no outcome for ${JSON.stringify(command)} after ${attempts} attempts`);
  }

  /** A read served by the leader with the given consistency. */
  async query(
    query: Record<string, unknown>,
    consistency: 'linearizable' | 'lease' | 'stale' = 'linearizable',
    on?: string,
  ): Promise<unknown> {
    for (let attempt = 0; attempt < 30; attempt += 1) {
      const target = on ?? (await this.waitForLeader());
      try {
        const response = await this.rpc<{ status: string; result?: unknown }>(
          target,
          'command-log.read',
          { query, consistency },
        );
        if (response.status === 'ok') return response.result;
      } catch {
        // the node went away: try the (new) leader
      }
    }
    throw new Error(`no answer for ${JSON.stringify(query)}`);
  }

  /** Path of a replica's data folder (WAL, snapshots). */
  dataOf(id: string): string {
    return join(this.dataDir, id);
  }

  /** Waits until the running replicas agree on one leader; returns its id. */
  async waitForLeader(timeoutMs = 30_000): Promise<string> {
    return waitFor(
      'a leader all running replicas agree on',
      async () => {
        // Running members only: a joining replica not yet added, or one removed, has no say.
        const running = this.replicas.filter((r) => r.process);
        const all = await Promise.all(running.map((r) => this.status(r.id)));
        const statuses = all.filter(
          (s, i) =>
            s === undefined ||
            s.voters.includes(running[i].id) ||
            s.learners.includes(running[i].id),
        );
        const leaders = statuses.filter((s) => s?.role === 'leader');
        if (leaders.length !== 1) return undefined;
        const id = running[all.indexOf(leaders[0])].id;
        return statuses.every((s) => s?.leader === id) ? id : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    ).catch(async (error: Error) => {
      // Each replica's own account (role, leader, exit, last output), to find the cause.
      const accounts = await Promise.all(
        this.replicas
          .filter((r) => r.process)
          .map(async (r) => {
            const status = await this.status(r.id);
            const exit = r.process!.child.exitCode ?? r.process!.child.signalCode;
            const tail = `${r.process!.stdout}${r.process!.stderr}`
              .split('\n')
              .slice(-8)
              .join(' / ');
            return `${r.id}: ${status ? `${status.role} term ${status.term} leader ${status.leader}` : 'no status'}${exit !== null ? ` exited ${exit}` : ''} | ${tail}`;
          }),
      );
      throw new Error(`${error.message}\n${accounts.join('\n')}`);
    });
  }

  client(id: string): ClientProxy {
    const replica = this.replica(id);
    replica.client ??= ClientProxyFactory.create({
      transport: Transport.TCP,
      // Like decision-api's client (Nagle off), so bench:command-log measures the same path.
      options: {
        host: '127.0.0.1',
        port: replica.rpcPort,
        socketClass: NoDelayJsonSocket,
        tlsOptions: this.tls,
      },
    });
    return replica.client;
  }

  /** A request signed with the cluster secret (the RPC secret defaults to it). */
  async rpc<T>(id: string, pattern: string, payload: object, timeoutMs = 10_000): Promise<T> {
    return this.rpcUnsigned(id, pattern, signRpc(CLUSTER_SECRET, pattern, payload), timeoutMs);
  }

  async rpcUnsigned<T>(
    id: string,
    pattern: string,
    payload: unknown,
    timeoutMs = 10_000,
  ): Promise<T> {
    return firstValueFrom(this.client(id).send<T>(pattern, payload).pipe(timeout(timeoutMs)));
  }

  /**
   * A signed request over NATS request/reply to `parley.<cluster>.<node>.<pattern>` (node may
   * be ANY_REPLICA); the replicas must run with PARLEY_NATS_URL and PARLEY_CLUSTER_ID.
   */
  async natsRpc<T>(
    natsUrl: string,
    subject: string,
    pattern: string,
    payload: object,
    timeoutMs = 10_000,
  ): Promise<T> {
    this.natsClient ??= ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { servers: [natsUrl] },
    });
    const signed = signRpc(CLUSTER_SECRET, pattern, payload);
    return firstValueFrom(this.natsClient.send<T>(subject, signed).pipe(timeout(timeoutMs)));
  }

  private closeClient(replica: ReplicaHandle): void {
    void replica.client?.close();
    replica.client = undefined;
  }

  /**
   * A decision-api process in front of this cluster (the test API keys, warn-level logs),
   * started and answering `/health/live`; `env` adds or overrides settings.
   */
  async startDecisionApi(
    env: Record<string, string> = {},
  ): Promise<{ api: AppProcess; baseUrl: string }> {
    // A port chosen beforehand (PARLEY_HTTP_PORT in env), e.g. one a client already dials.
    const port = env.PARLEY_HTTP_PORT ? Number(env.PARLEY_HTTP_PORT) : await freePort();
    const api = AppProcess.start('decision-api', {
      PARLEY_HTTP_PORT: String(port),
      PARLEY_API_KEYS: TEST_API_KEYS,
      PARLEY_RPC_SECRET: CLUSTER_SECRET,
      PARLEY_COMMAND_LOG_NODES: this.replicas.map((r) => `127.0.0.1:${r.rpcPort}`).join(','),
      PARLEY_LOG_LEVEL: 'warn',
      ...env,
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${baseUrl}/health/live`);
    return { api, baseUrl };
  }

  async stop(): Promise<void> {
    await this.natsClient?.close();
    for (const replica of this.replicas) {
      this.closeClient(replica);
      await replica.process?.stop('SIGKILL');
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
