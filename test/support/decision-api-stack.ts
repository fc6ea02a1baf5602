import { AppProcess, waitForHttp } from './app-process';
import { TEST_API_KEYS, TEST_KEYS } from './api-keys';
import { CLUSTER_SECRET, CommandLogCluster } from './command-log-cluster';
import { freePort } from './ports';
import { waitFor } from './wait';

export interface RestAnswer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

/** One decision-api process, and calls to it with the test keys (test/support/api-keys.ts). */
export class DecisionApi {
  private constructor(
    readonly process: AppProcess,
    readonly port: number,
  ) {}

  /** Starts decision-api in front of every replica of `cluster`; resolves once it is live. */
  static async start(
    cluster: CommandLogCluster,
    env: Record<string, string> = {},
  ): Promise<DecisionApi> {
    const port = await freePort();
    const api = AppProcess.start('decision-api', {
      PARLEY_HTTP_PORT: String(port),
      PARLEY_API_KEYS: TEST_API_KEYS,
      PARLEY_RPC_SECRET: CLUSTER_SECRET,
      PARLEY_COMMAND_LOG_NODES: cluster.replicas.map((r) => `127.0.0.1:${r.rpcPort}`).join(','),
      PARLEY_LOG_LEVEL: 'error',
      ...env,
    });
    await waitForHttp(`http://127.0.0.1:${port}/health/live`);
    return new DecisionApi(api, port);
  }

  async call(
    method: string,
    path: string,
    role: keyof typeof TEST_KEYS,
    body?: unknown,
  ): Promise<RestAnswer> {
    const response = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TEST_KEYS[role]}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      json: text ? JSON.parse(text) : {},
    };
  }

  /**
   * A strong write retried the way SPEC §3 allows: the same body (so the same requestId) after
   * a 503 (no leader; waits Retry-After, capped at 1 s) or a 504 (outcome unknown), at most
   * `attempts` times. Any other failure throws. `retried` counts the 503/504 answers seen.
   */
  async write(
    method: string,
    path: string,
    body: unknown,
    retried: { 503: number; 504: number } = { 503: 0, 504: 0 },
    attempts = 60,
  ): Promise<RestAnswer> {
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const answer = await this.call(method, path, 'agent', body);
      if (answer.status !== 503 && answer.status !== 504) return answer;
      retried[answer.status] += 1;
      if (answer.status === 503) {
        const retryAfter = answer.headers.get('retry-after');
        if (retryAfter === null) throw new Error(`503 without Retry-After on ${path}`);
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(Number(retryAfter), 1) * 1_000),
        );
      }
    }
    throw new Error(`no answer for ${method} ${path} after ${attempts} attempts`);
  }

  /**
   * `count` KV writes, one after another, over `keys` keys named `<prefix><n % keys>`, with
   * request ids `<prefix><n>`; the index each answer named, in order.
   */
  async putKeys(prefix: string, count: number, keys: number): Promise<number[]> {
    const indexes: number[] = [];
    for (let n = 0; n < count; n += 1) {
      const answer = await this.write('PUT', `/v1/kv/${prefix}${n % keys}`, {
        requestId: `${prefix}${n}`,
        value: `${n}`,
      });
      if (answer.status !== 200) throw new Error(`PUT answered ${answer.status}`);
      indexes.push(Number(answer.json.index));
    }
    return indexes;
  }

  /** A metric's value (the first sample named `name`) from GET /metrics; 0 when absent. */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    const sample = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return sample ? Number(sample[1]) : 0;
  }

  /** Asks for a leadership transfer and waits until the cluster agrees on another leader. */
  async transferLeadership(cluster: CommandLogCluster): Promise<{ from: string; to: string }> {
    const from = await cluster.waitForLeader();
    const answer = await this.call('POST', '/v1/cluster/transfer-leadership', 'operator', {});
    if (answer.status !== 202)
      throw new Error(
        `transfer-leadership answered ${answer.status}: ${JSON.stringify(answer.json)}`,
      );
    const to = await waitFor('a new leader after the transfer', async () => {
      const leader = await cluster.waitForLeader();
      return leader !== from ? leader : undefined;
    });
    return { from, to };
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }
}
