import { closedLoop } from '@parley/common';
import { randomUUID } from 'node:crypto';
import { ParleyClient, ReadOptions, Submission } from '@parley/client';
import { CliError, EXIT, exitCodeOf } from './exit-codes';
import { ProgressBar, fields, table } from './output';

/** What a command printed (text for people, json for --json) and how the CLI exits. */
export interface Outcome {
  text: string;
  json: unknown;
  exitCode?: number;
  /** The command printed as it went (a stream): nothing is left to print. */
  printed?: boolean;
}

export interface CommandContext {
  client: ParleyClient;
  positionals: string[];
  options: Record<string, string | boolean | undefined>;
}

/** The positional argument `at`, or a usage error naming it. */
function argument(context: CommandContext, at: number, name: string): string {
  const value = context.positionals[at];
  if (value === undefined || value === '') throw new CliError(`missing <${name}>`, EXIT.usage);
  return value;
}

function integerOption(context: CommandContext, name: string, fallback?: number): number {
  const raw = context.options[name];
  if (raw === undefined) {
    if (fallback === undefined) throw new CliError(`--${name} is required`, EXIT.usage);
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new CliError(`--${name} must be a whole number`, EXIT.usage);
  return value;
}

function stringOption(context: CommandContext, name: string): string | undefined {
  const raw = context.options[name];
  return typeof raw === 'string' ? raw : undefined;
}

/**
 * --request-id, else none: the client makes one per command and reuses it on every retry
 * (retrying with the same request id is always safe, SPEC §3).
 */
function requestId(context: CommandContext): { requestId?: string } {
  const given = stringOption(context, 'request-id');
  return given === undefined ? {} : { requestId: given };
}

export async function status(context: CommandContext): Promise<Outcome> {
  const cluster = await context.client.cluster.get();
  const agents = await context.client.agents.list().catch(() => null);
  const text = [
    `leader ${cluster.leader ?? 'none'}   term ${cluster.term}`,
    `voters ${cluster.members?.voters.join(', ') || '-'}   learners ${cluster.members?.learners.join(', ') || '-'}`,
    // An older decision-api has no outbox field.
    ...(cluster.outbox
      ? [`outbox ${cluster.outbox.state}   ${cluster.outbox.depth} request(s) waiting`]
      : []),
    '',
    table(
      ['node', 'role', 'address', 'commit', 'applied', 'snapshot', 'last contact'],
      cluster.nodes.map((n) => [
        n.id,
        n.role,
        n.address,
        n.commitIndex,
        n.appliedIndex,
        n.snapshotIndex,
        n.id === cluster.leader
          ? 'self'
          : n.lastContactMs === null
            ? null
            : `${Math.round(n.lastContactMs)} ms`,
      ]),
    ),
    '',
    agents
      ? table(
          ['member', 'status', 'incarnation'],
          agents.map((a) => [a.id, a.status, a.incarnation]),
        )
      : 'gossip membership: unavailable',
  ].join('\n');
  return {
    text,
    json: { ...cluster, agents },
    // A cluster without a leader decides nothing: tell the script so.
    exitCode: cluster.leader ? EXIT.ok : EXIT.unavailable,
  };
}

export async function kvGet(context: CommandContext): Promise<Outcome> {
  const key = argument(context, 0, 'key');
  // Checked by the server, which names the values it takes.
  const consistency = stringOption(context, 'consistency') as ReadOptions['consistency'];
  const entry = await context.client.kv.get(key, { consistency });
  return { text: fields(entry), json: entry };
}

/**
 * A strong write: answered now, or with --async accepted now (`Prefer: respond-async`, 202)
 * and decided later, printed as its requestId and state (`parley request <id>` follows it).
 */
async function write<A>(
  context: CommandContext,
  now: () => Promise<A>,
  later: () => Promise<Submission>,
  answered: (answer: A) => Outcome,
): Promise<Outcome> {
  if (context.options.async !== true) return answered(await now());
  const submitted = await later();
  // A decision-api without an outbox ignores the preference and answers at once.
  if (submitted.state === 'decided') return answered(submitted.body as A);
  const accepted = { requestId: submitted.requestId, state: submitted.state };
  return { text: fields(accepted), json: accepted };
}

export async function kvPut(context: CommandContext): Promise<Outcome> {
  const key = argument(context, 0, 'key');
  const value = argument(context, 1, 'value');
  const ifVersion = stringOption(context, 'if-version');
  const options = {
    ...requestId(context),
    ...(ifVersion === undefined ? {} : { ifVersion: integerOption(context, 'if-version') }),
  };
  return write(
    context,
    () => context.client.kv.put(key, value, options),
    () => context.client.submitAsync('kv.put', { key }, { value, ...options }, options),
    (entry) => ({ text: fields(entry), json: entry }),
  );
}

/** A decision answered `rejected` is printed like any answer, and exits REJECTED. */
function decision(answer: { status: string }): Outcome {
  return {
    text: fields(answer),
    json: answer,
    exitCode: answer.status === 'rejected' ? EXIT.rejected : EXIT.ok,
  };
}

/**
 * A request accepted with --async: its state while it waits (exit PENDING), then the answer
 * the synchronous call would have given, with the same exit code (REJECTED for a refusal).
 */
export async function request(context: CommandContext): Promise<Outcome> {
  const id = argument(context, 0, 'requestId');
  const found = await context.client.requests.get(id);
  if (found.state !== 'decided') {
    const waiting = { requestId: found.requestId, state: found.state };
    return { text: fields(waiting), json: waiting, exitCode: EXIT.pending };
  }
  if (found.status >= 400) {
    const problem = (found.body ?? {}) as { detail?: string; title?: string };
    throw new CliError(
      `GET /v1/requests/${id} answered ${found.status}: ${problem.detail ?? problem.title ?? ''}`,
      exitCodeOf(found.status),
      found.body,
    );
  }
  return decision(found.body as { status: string });
}

export async function reserve(context: CommandContext): Promise<Outcome> {
  const sku = argument(context, 0, 'sku');
  const quantity = Number(argument(context, 1, 'quantity'));
  if (!Number.isSafeInteger(quantity) || quantity <= 0)
    throw new CliError('<quantity> must be a positive whole number', EXIT.usage);
  const orderId = stringOption(context, 'order');
  if (!orderId) throw new CliError('--order <orderId> is required', EXIT.usage);
  return write(
    context,
    () => context.client.inventory.reserve(sku, { orderId, quantity }, requestId(context)),
    () =>
      context.client.submitAsync(
        'inventory.reserve',
        { sku },
        { orderId, quantity },
        requestId(context),
      ),
    decision,
  );
}

export async function vote(context: CommandContext): Promise<Outcome> {
  const proposal = argument(context, 0, 'proposal');
  const option = argument(context, 1, 'option');
  const agentId = stringOption(context, 'agent');
  if (!agentId) throw new CliError('--agent <agentId> is required', EXIT.usage);
  const weight =
    context.options.weight === undefined ? undefined : integerOption(context, 'weight');
  const body = { agentId, option, ...(weight ? { weight } : {}) };
  return write(
    context,
    () => context.client.proposals.vote(proposal, body, requestId(context)),
    () => context.client.submitAsync('proposals.vote', { id: proposal }, body, requestId(context)),
    (answer) => ({
      text: fields(answer),
      json: answer,
      exitCode: answer.counted === false || answer.outcome === 'rejected' ? EXIT.rejected : EXIT.ok,
    }),
  );
}

export async function membersAdd(context: CommandContext): Promise<Outcome> {
  const id = argument(context, 0, 'id');
  const address = argument(context, 1, 'host:port');
  const answer = await context.client.cluster.addMember({
    id,
    address,
    learner: context.options.learner === true,
    ...(context.options.force === true ? { force: true } : {}),
  });
  return { text: fields(answer), json: answer };
}

export async function membersRemove(context: CommandContext): Promise<Outcome> {
  const id = argument(context, 0, 'id');
  const answer = await context.client.cluster.removeMember(id, {
    force: context.options.force === true,
  });
  return { text: fields(answer), json: answer };
}

export async function transferLeadership(context: CommandContext): Promise<Outcome> {
  const to = stringOption(context, 'to');
  const answer = await context.client.cluster.transferLeadership(to ? { to } : {});
  return { text: fields(answer), json: answer };
}

/** How often `snapshot` looks at the upload while waiting for it. */
const UPLOAD_POLL_MS = 250;

/**
 * Takes a snapshot on the leader, then (unless --no-wait) waits, bounded by --wait-ms, until
 * no replica still has it waiting for its S3 upload (immediately, when S3 is not configured).
 */
export async function snapshot(context: CommandContext): Promise<Outcome> {
  const waitMs = integerOption(context, 'wait-ms', 60_000);
  const { index, node } = await context.client.cluster.snapshot();
  if (context.options['no-wait'] === true)
    return { text: fields({ index, node, uploaded: 'not waited for' }), json: { index, node } };
  const bar = new ProgressBar('uploading', 1);
  const deadline = Date.now() + waitMs;
  const started = Date.now();
  for (;;) {
    const cluster = await context.client.cluster.get();
    const waiting = cluster.nodes.filter(
      (n) => n.snapshotPendingUpload !== null && n.snapshotPendingUpload !== undefined,
    );
    if (waiting.length === 0) {
      bar.update(1, 'done');
      bar.finish();
      return {
        text: fields({ index, node, uploaded: 'yes (or no S3 configured)' }),
        json: { index, node, uploaded: true },
      };
    }
    if (Date.now() >= deadline) {
      bar.finish();
      throw new CliError(
        `snapshot ${index} taken, but still waiting for upload on ${waiting.map((n) => n.id).join(', ')} after ${waitMs} ms`,
        EXIT.unavailable,
        { index, node, uploaded: false },
      );
    }
    bar.update(0, `${((Date.now() - started) / 1000).toFixed(1)} s`);
    await new Promise((resolve) => setTimeout(resolve, UPLOAD_POLL_MS));
  }
}

/** The most `parley bench` runs: it is a smoke load, not a soak. */
const BENCH_MAX_REQUESTS = 1_000_000;
const BENCH_MAX_SECONDS = 600;

/** A bounded load through REST: kv puts (strong), reservations (strong) or increments (eventual). */
export async function bench(context: CommandContext): Promise<Outcome> {
  const requests = integerOption(context, 'requests', 1_000);
  const concurrency = integerOption(context, 'concurrency', 16);
  const seconds = integerOption(context, 'seconds', 60);
  const workload = stringOption(context, 'workload') ?? 'put';
  if (requests < 1 || requests > BENCH_MAX_REQUESTS)
    throw new CliError(`--requests must be 1..${BENCH_MAX_REQUESTS}`, EXIT.usage);
  if (concurrency < 1 || concurrency > 1_024)
    throw new CliError('--concurrency must be 1..1024', EXIT.usage);
  if (seconds < 1 || seconds > BENCH_MAX_SECONDS)
    throw new CliError(`--seconds must be 1..${BENCH_MAX_SECONDS}`, EXIT.usage);
  const run = `bench-${randomUUID().slice(0, 8)}`;
  const { client } = context;
  const operations: Record<string, (n: number) => Promise<unknown>> = {
    put: (n) => client.kv.put(`${run}-${n % 1_000}`, 'x'.repeat(100), { requestId: `${run}-${n}` }),
    reserve: (n) =>
      client.inventory.reserve(
        run,
        { orderId: `o${n}`, quantity: 1 },
        { requestId: `${run}-${n}` },
      ),
    increment: () => client.counters.increment(run, 1),
  };
  const operation = operations[workload];
  if (!operation)
    throw new CliError(
      `--workload must be one of ${Object.keys(operations).join(', ')}`,
      EXIT.usage,
    );
  if (workload === 'reserve')
    await client.inventory.restock(run, requests, { requestId: `${run}-restock` });

  const bar = new ProgressBar(`bench ${workload}`, requests);
  let firstError: string | undefined;
  const result = await closedLoop(
    concurrency,
    requests,
    seconds,
    async (n) => {
      try {
        await operation(n);
        return true;
      } catch (error) {
        firstError ??= (error as Error).message;
        return false;
      }
    },
    (finished) => bar.update(finished, `${finished}/${requests}`),
  );
  bar.finish();
  const summary = {
    workload,
    concurrency,
    ok: result.ok,
    failed: result.failed,
    seconds: Number(result.elapsedS.toFixed(2)),
    perSecond: Math.round(result.perSecond),
    p50Ms: Number(result.p50Ms.toFixed(2)),
    p90Ms: Number(result.p90Ms.toFixed(2)),
    p99Ms: Number(result.p99Ms.toFixed(2)),
    p999Ms: Number(result.p999Ms.toFixed(2)),
    maxMs: Number(result.maxMs.toFixed(2)),
    ...(firstError ? { firstError } : {}),
  };
  return {
    text: fields(summary),
    json: summary,
    exitCode: result.failed > 0 ? EXIT.failed : EXIT.ok,
  };
}
