import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  KvInput,
  KvOutput,
  Operation,
  checkLinearizable,
  formatFailure,
  kvModel,
} from '../../../libs/sim/src/linearizability';
import { AppProcess, waitForHttp } from '../app-process';
import { CLUSTER_SECRET, CommandLogCluster } from '../command-log-cluster';
import { freePort } from '../ports';
import { waitFor } from '../wait';
import { FaultProxy } from './fault-proxy';
import { InjectedFault, Nemesis, seededRandom } from './nemesis';

const AGENT_KEY = 'chaos-agent-key-0123456789';
const KEYS = ['k1', 'k2', 'k3'];
const STOCK = 400;
const BUDGET = 5_000;
/** The slow disk's extra latency per fsync (a busy spinning disk's worth). */
const SLOW_FSYNC_MS = 15;
/** How long the cluster may take to decide again once every fault is healed. */
export const RECOVERY_BOUND_MS = 30_000;

export interface ChaosOptions {
  nodes: number;
  seconds: number;
  seed: number;
  clients: number;
  resultsDir: string;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  nodes: number;
  slowDisk: string;
  operations: number;
  kvOperationsChecked: number;
  indeterminate: number;
  faults: InjectedFault[];
  recoveryMs: number;
  /** Snapshots the replicas installed from a leader (restarts and laggards catching up). */
  snapshotsInstalled: number;
  violations: string[];
  historyFile: string;
}

type Outcome = 'ok' | 'failed' | 'unknown';

/**
 * One chaos run on real processes: `nodes` command-log replicas with a fault proxy on every
 * directed peer link, decision-api in front, `clients` concurrent clients doing KV put / get /
 * compare-and-set, reservations and spends through REST (recording every invocation and
 * response), and the nemesis injecting one fault at a time for `seconds`. Then every fault is
 * healed and the checks run: the KV history is linearizable; no acknowledged reservation or
 * spend is missing and none beyond the acknowledged-or-unknown ones was applied; stock never
 * below zero, spends never above the budget; the cluster decides again within a bound and every
 * replica reaches the same state. The history is written to a file either way.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed);
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const proxies = new Map<string, FaultProxy>();
  // The proxies need the replicas' peer ports, known once the cluster object exists.
  const holder: { cluster?: CommandLogCluster } = {};
  for (const from of ids)
    for (const to of ids.filter((id) => id !== from))
      proxies.set(
        `${from}>${to}`,
        await FaultProxy.start(() => holder.cluster!.replica(to).peerPort),
      );
  // One replica, drawn from the seed, runs on a slow disk (a pause before every fsync) for
  // the whole run, whatever else the nemesis does to it.
  const slowDisk = ids[Math.floor(random() * ids.length)];
  log(`slow disk: ${slowDisk} (${SLOW_FSYNC_MS} ms before every fsync)`);
  const cluster = await CommandLogCluster.create(
    options.nodes,
    {
      PARLEY_LOG_LEVEL: 'warn',
      // Snapshots and compaction every few hundred entries, so restarts and lagging replicas
      // go through snapshot install under faults too, not only log replay.
      PARLEY_SNAPSHOT_EVERY_ENTRIES: '300',
      PARLEY_COMPACTION_TAIL_ENTRIES: '50',
    },
    {
      envFor: (id): Record<string, string> =>
        id === slowDisk ? { PARLEY_WAL_SYNC_DELAY_MS: String(SLOW_FSYNC_MS) } : {},
      peerAddress: (from, to) =>
        from === to.id
          ? `127.0.0.1:${to.peerPort}`
          : `127.0.0.1:${proxies.get(`${from}>${to.id}`)!.port}`,
    },
  );
  holder.cluster = cluster;
  const apiPort = await freePort();
  const api = AppProcess.start('decision-api', {
    PARLEY_HTTP_PORT: String(apiPort),
    PARLEY_API_KEYS: `agent:${AGENT_KEY}`,
    PARLEY_RPC_SECRET: CLUSTER_SECRET,
    PARLEY_COMMAND_LOG_NODES: cluster.replicas.map((r) => `127.0.0.1:${r.rpcPort}`).join(','),
    PARLEY_COMMIT_TIMEOUT_MS: '2000',
    PARLEY_RATE_LIMIT_PER_SECOND: '1000000',
    PARLEY_LOG_LEVEL: 'error',
  });
  const base = `http://127.0.0.1:${apiPort}`;
  const started = performance.now();
  const now = () => performance.now() - started;
  const history: {
    client: number;
    op: string;
    input: Record<string, unknown>;
    call: number;
    return: number;
    status: number | string;
    body?: unknown;
    outcome: Outcome;
  }[] = [];

  const rest = async (method: string, path: string, body?: unknown) => {
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      return {
        status: response.status,
        json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
    } catch (error) {
      return { status: `error: ${(error as Error).message}`, json: {} as Record<string, unknown> };
    }
  };
  /** 2xx and 4xx are answers; 503, 504 and transport errors leave a write's outcome unknown. */
  const outcomeOf = (status: number | string): Outcome =>
    typeof status === 'number' && status < 500
      ? status < 300 || status === 409
        ? 'ok'
        : 'failed'
      : 'unknown';

  const violations: string[] = [];
  const nemesisHolder: { nemesis?: Nemesis } = {};
  try {
    await cluster.waitForLeader();
    await waitForHttp(`${base}/health/ready`, 200, 60_000);
    const setup = [
      await rest('POST', '/v1/inventory/sku-1/restock', {
        requestId: 'chaos-stock',
        quantity: STOCK,
      }),
      await rest('PUT', '/v1/budgets/camp-1', { requestId: 'chaos-budget', limit: BUDGET }),
    ];
    for (const answer of setup)
      if (answer.status !== 200) throw new Error(`set-up answered ${answer.status}`);

    const deadline = Date.now() + options.seconds * 1_000;
    let writes = 0;
    const client = async (c: number) => {
      // Bounded in count as well as time.
      for (let i = 0; i < 100_000 && Date.now() < deadline; i += 1) {
        const choice = random();
        const record = async (
          op: string,
          input: Record<string, unknown>,
          send: () => ReturnType<typeof rest>,
        ) => {
          const call = now();
          const answer = await send();
          const outcome = outcomeOf(answer.status);
          history.push({
            client: c,
            op,
            input,
            call,
            return: now(),
            status: answer.status,
            body: answer.json,
            outcome,
          });
          return { ...answer, outcome };
        };
        const key = KEYS[Math.floor(random() * KEYS.length)];
        if (choice < 0.3) {
          writes += 1;
          const value = `c${c}-w${i}`;
          await record('put', { key, value }, () =>
            rest('PUT', `/v1/kv/${key}`, { requestId: `put-${c}-${i}`, value }),
          );
        } else if (choice < 0.55) {
          await record('get', { key }, () => rest('GET', `/v1/kv/${key}?consistency=linearizable`));
        } else if (choice < 0.7) {
          // Compare-and-set: read the version, then write only if it is still the same.
          const read = await record('get', { key }, () =>
            rest('GET', `/v1/kv/${key}?consistency=linearizable`),
          );
          if (read.status === 200) {
            const value = `c${c}-cas${i}`;
            await record(
              'cas',
              { key, expected: read.json.value, value, ifVersion: read.json.version },
              () =>
                rest('PUT', `/v1/kv/${key}`, {
                  requestId: `cas-${c}-${i}`,
                  value,
                  ifVersion: read.json.version,
                }),
            );
          }
        } else if (choice < 0.85) {
          await record('reserve', { orderId: `o-${c}-${i}`, quantity: 1 + (i % 3) }, () =>
            rest('POST', '/v1/inventory/sku-1/reservations', {
              requestId: `res-${c}-${i}`,
              orderId: `o-${c}-${i}`,
              quantity: 1 + (i % 3),
            }),
          );
        } else {
          await record('spend', { bidId: `b-${c}-${i}`, amount: 10 + (i % 7) }, () =>
            rest('POST', '/v1/budgets/camp-1/spend', {
              requestId: `spend-${c}-${i}`,
              bidId: `b-${c}-${i}`,
              amount: 10 + (i % 7),
            }),
          );
        }
      }
    };
    const nemesis = new Nemesis(cluster, proxies, random, Date.now(), log);
    nemesisHolder.nemesis = nemesis;
    const faults = (async () => {
      while (Date.now() < deadline - 1_000) {
        await nemesis.step();
        // A quiet gap between faults, so clients also see a working cluster.
        await new Promise((resolve) => setTimeout(resolve, 300 + random() * 1_200));
      }
    })();
    await Promise.all([...Array.from({ length: options.clients }, (_, c) => client(c)), faults]);
    log(
      `load done: ${history.length} operations (${writes} puts), ${nemesis.injected.length} faults`,
    );

    // ---- faults stop: the cluster must decide again within a bound --------------------------
    nemesis.healAll();
    const healedAt = Date.now();
    await waitFor(
      'a write to succeed after every fault is healed',
      async () =>
        (await rest('PUT', '/v1/kv/after-chaos', { requestId: 'after-chaos', value: 'x' }))
          .status === 200
          ? true
          : undefined,
      { timeoutMs: RECOVERY_BOUND_MS, intervalMs: 200 },
    ).catch((error: Error) => violations.push(`recovery: ${error.message}`));
    const recoveryMs = Date.now() - healedAt;

    // ---- checks ---------------------------------------------------------------------------
    const kvOps: Operation<KvInput, KvOutput>[] = [];
    for (const h of history) {
      if (h.op === 'get') {
        if (h.status === 200)
          kvOps.push({
            clientId: h.client,
            input: { kind: 'get', key: String(h.input.key) },
            call: h.call,
            return: h.return,
            output: { value: String(h.body && (h.body as { value: unknown }).value) },
          });
        else if (h.status === 404)
          kvOps.push({
            clientId: h.client,
            input: { kind: 'get', key: String(h.input.key) },
            call: h.call,
            return: h.return,
            output: { value: null },
          });
        // A failed read has no effect: it is left out.
      } else if (h.op === 'put' || h.op === 'cas') {
        if (h.outcome === 'failed') continue; // a 4xx other than 409 took no effect
        const input: KvInput =
          h.op === 'put'
            ? { kind: 'put', key: String(h.input.key), value: String(h.input.value) }
            : {
                kind: 'cas',
                key: String(h.input.key),
                expected: String(h.input.expected),
                value: String(h.input.value),
              };
        kvOps.push(
          h.outcome === 'unknown'
            ? { clientId: h.client, input, call: h.call, return: Infinity }
            : {
                clientId: h.client,
                input,
                call: h.call,
                return: h.return,
                output: { ok: h.status === 200 },
              },
        );
      }
    }
    const linearizable = checkLinearizable(kvModel, kvOps, { maxSteps: 20_000_000 });
    if (linearizable.result === 'illegal')
      violations.push(`KV history not linearizable:\n${formatFailure(kvModel, linearizable)}`);
    if (linearizable.result === 'unknown')
      violations.push('KV history too large for the checker (raise maxSteps or shorten the run)');

    const finalRead = async (path: string) => {
      const answer = await waitFor(`GET ${path}`, async () => {
        const r = await rest('GET', `${path}?consistency=linearizable`);
        return r.status === 200 ? r.json : undefined;
      });
      return answer;
    };
    const inventory = await finalRead('/v1/inventory/sku-1');
    const sum = (op: string, field: string, outcome: Outcome, accepted?: boolean) =>
      history
        .filter((h) => h.op === op && h.outcome === outcome)
        .filter(
          (h) =>
            accepted === undefined ||
            ((h.body as { status?: string }).status === 'accepted') === accepted,
        )
        .reduce((total, h) => total + Number(h.input[field]), 0);
    const reservedAcknowledged = sum('reserve', 'quantity', 'ok', true);
    const reservedUnknown = sum('reserve', 'quantity', 'unknown');
    const reserved = Number(inventory.reserved);
    const available = Number(inventory.available);
    if (available < 0) violations.push(`inventory below zero: ${available}`);
    if (available + reserved !== STOCK)
      violations.push(`inventory does not add up: ${available} + ${reserved} ≠ ${STOCK}`);
    if (reserved < reservedAcknowledged)
      violations.push(
        `acknowledged reservations lost: ${reserved} reserved < ${reservedAcknowledged} acknowledged`,
      );
    if (reserved > reservedAcknowledged + reservedUnknown)
      violations.push(
        `reservations applied that nobody made: ${reserved} > ${reservedAcknowledged} + ${reservedUnknown} unknown`,
      );

    const budget = await finalRead('/v1/budgets/camp-1');
    const spentAcknowledged = sum('spend', 'amount', 'ok', true);
    const spentUnknown = sum('spend', 'amount', 'unknown');
    const spent = Number(budget.spent);
    if (spent > BUDGET) violations.push(`overspent: ${spent} > ${BUDGET}`);
    if (spent < spentAcknowledged)
      violations.push(`acknowledged spends lost: ${spent} < ${spentAcknowledged}`);
    if (spent > spentAcknowledged + spentUnknown)
      violations.push(
        `spends applied that nobody made: ${spent} > ${spentAcknowledged} + ${spentUnknown}`,
      );

    // Every replica converges to the same state: same applied index, same answers locally.
    await waitFor(
      'every replica to apply the same index',
      async () => {
        const statuses = await Promise.all(ids.map((id) => cluster.status(id)));
        const applied = statuses.map((s) => s?.appliedIndex);
        return applied.every((a) => a !== undefined && a === applied[0]) ? true : undefined;
      },
      { timeoutMs: RECOVERY_BOUND_MS, intervalMs: 200 },
    ).catch((error: Error) => violations.push(`convergence: ${error.message}`));
    const snapshotsInstalled = (await Promise.all(ids.map((id) => cluster.status(id)))).reduce(
      (sum, status) => sum + (status?.snapshotsInstalled ?? 0),
      0,
    );
    const states = await Promise.all(
      ids.map(async (id) =>
        JSON.stringify(
          await Promise.all([
            ...KEYS.map((key) => cluster.query({ type: 'kv.get', key }, 'stale', id)),
            cluster.query({ type: 'inventory.get', sku: 'sku-1' }, 'stale', id),
            cluster.query({ type: 'budget.get', campaign: 'camp-1' }, 'stale', id),
          ]),
        ),
      ),
    );
    if (new Set(states).size !== 1)
      violations.push(
        `replicas disagree:\n${ids.map((id, i) => `${id}: ${states[i]}`).join('\n')}`,
      );

    // Faults make every process log warnings; none of them may carry a secret.
    const outputs = [api, ...cluster.replicas.map((r) => r.process)].map(
      (p) => `${p?.stdout ?? ''}${p?.stderr ?? ''}`,
    );
    for (const secret of [CLUSTER_SECRET, AGENT_KEY])
      if (outputs.some((text) => text.includes(secret)))
        violations.push('a secret appeared in a process log');

    mkdirSync(options.resultsDir, { recursive: true });
    const historyFile = join(
      options.resultsDir,
      `chaos-${options.nodes}n-seed${options.seed}.json`,
    );
    writeFileSync(
      historyFile,
      JSON.stringify(
        { seed: options.seed, nodes: options.nodes, faults: nemesis.injected, violations, history },
        null,
        1,
      ),
    );
    return {
      seed: options.seed,
      nodes: options.nodes,
      slowDisk,
      operations: history.length,
      kvOperationsChecked: kvOps.length,
      indeterminate: history.filter((h) => h.outcome === 'unknown').length,
      faults: nemesis.injected,
      recoveryMs,
      snapshotsInstalled,
      violations,
      historyFile,
    };
  } finally {
    nemesisHolder.nemesis?.healAll();
    await api.stop();
    await cluster.stop();
    await Promise.all([...proxies.values()].map((p) => p.close()));
  }
}
