import { CommandLogCluster } from '../support/command-log-cluster';
import { DecisionApi } from '../support/decision-api-stack';
import { waitFor } from '../support/wait';
import { WatchStream } from '../support/watch-stream';

jest.setTimeout(300_000);

interface Decision {
  index: number;
  type: string;
  entity: string;
  requestId?: string;
  result: Record<string, unknown>;
}

/** Every event a replica's ring holds after `afterIndex`, read page by page (RPC command-log.watch). */
async function ringOf(cluster: CommandLogCluster, id: string, afterIndex = 0): Promise<Decision[]> {
  const events: Decision[] = [];
  for (let cursor = afterIndex; ;) {
    const answer = await cluster.rpc<{ status: string; events: Decision[]; upTo: number }>(
      id,
      'command-log.watch',
      { afterIndex: cursor },
    );
    if (answer.status !== 'ok') throw new Error(`${id} answered ${JSON.stringify(answer)}`);
    events.push(...answer.events);
    if (answer.upTo === cursor) return events;
    cursor = answer.upTo;
  }
}

/**
 * A watcher that does what an EventSource does: when its stream ends (or cannot be opened), it
 * opens another with Last-Event-ID, at the next decision-api that is up.
 */
class ResumingWatcher {
  readonly events: Decision[] = [];
  reconnects = 0;
  private stream: WatchStream | undefined;
  private taken = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly apis: () => (DecisionApi | undefined)[]) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    for (let turn = 0; this.running; turn += 1) {
      const live = this.apis().filter((api): api is DecisionApi => api !== undefined);
      const api = live[turn % live.length];
      const last = this.events[this.events.length - 1]?.index ?? 0;
      try {
        this.stream = await WatchStream.open(api.port, '', { 'last-event-id': String(last) });
        this.taken = 0;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (this.stream.status !== 200) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (turn > 0) this.reconnects += 1;
      while (this.running && !this.stream.ended) {
        this.drain();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      this.drain();
    }
  }

  private drain(): void {
    const decisions = this.stream!.decisions<Decision>();
    for (; this.taken < decisions.length; this.taken += 1) this.events.push(decisions[this.taken]);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stream?.close();
    await this.done;
  }
}

describe('the watch across faults (real processes)', () => {
  let cluster: CommandLogCluster;
  const apis: (DecisionApi | undefined)[] = [];
  afterAll(async () => {
    for (const api of apis) await api?.stop();
    await cluster?.stop();
  });

  it('a resuming watcher sees exactly the committed sequence across a leader kill -9, a decision-api kill -9 and a paused replica', async () => {
    cluster = await CommandLogCluster.create(3);
    await cluster.waitForLeader();
    const env = { PARLEY_COMMIT_TIMEOUT_MS: '2000', PARLEY_WATCH_RECENT_EVENTS_MAX: '50' };
    apis.push(await DecisionApi.start(cluster, env), await DecisionApi.start(cluster, env));
    const writer = apis[1]!;
    // From index 0: every event of this new cluster, whenever the watcher's stream opens.
    const watcher = new ResumingWatcher(() => apis);

    // Writes go through the decision-api that stays up; each acknowledged one names its index.
    const acknowledged = new Map<string, number>();
    let writing = true;
    let sequence = 0;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      while (writing) {
        const requestId = `f-${w}-${sequence++}`;
        const answer = await writer.write('PUT', `/v1/kv/f-${sequence % 7}`, {
          requestId,
          value: requestId,
        });
        if (answer.status !== 200) throw new Error(`write answered ${answer.status}`);
        acknowledged.set(requestId, Number(answer.json.index));
      }
    });
    const progress = async (what: string, more: number) => {
      const target = acknowledged.size + more;
      await waitFor(what, () => (acknowledged.size >= target ? true : undefined), {
        timeoutMs: 60_000,
      });
    };

    await progress('writes before the faults', 50);
    // 1. kill -9 the leader, and bring it back.
    const leader = await cluster.waitForLeader();
    await cluster.kill(leader);
    await progress('writes under a new leader', 50);
    cluster.start(leader);
    // 2. kill -9 the decision-api the watcher reads from first, and start another.
    await apis[0]!.process.stop('SIGKILL');
    apis[0] = undefined;
    await progress('writes while one decision-api is down', 50);
    apis[0] = await DecisionApi.start(cluster, env);
    // 3. pause a replica (SIGSTOP) while writes go on, then let it run.
    const paused = await cluster.waitForLeader();
    const pid = cluster.replica(paused).process!.child.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      // The majority elects another leader and goes on deciding without it.
      await progress('writes while a replica is paused', 50);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await progress('writes after the pause', 50);
    writing = false;
    await Promise.all(writers);

    const lastAcknowledged = Math.max(...acknowledged.values());
    await waitFor(
      'the watcher reached the last acknowledged write',
      () => (watcher.events.some((e) => e.index >= lastAcknowledged) ? true : undefined),
      { timeoutMs: 60_000 },
    );
    await watcher.stop();

    // Every acknowledged write once, at the index its answer named, and nothing twice.
    const seen = watcher.events;
    const byRequest = new Map(seen.map((e) => [e.requestId, e.index]));
    expect(seen.length).toBe(byRequest.size);
    for (const [requestId, index] of acknowledged) expect(byRequest.get(requestId)).toBe(index);
    const indexes = seen.map((e) => e.index);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(watcher.reconnects).toBeGreaterThanOrEqual(1);
    // Exactly the replicas' applied sequence over the same range: no gap, nothing extra.
    const first = seen[0].index - 1;
    const last = seen[seen.length - 1].index;
    for (const replica of cluster.replicas) {
      await waitFor(`${replica.id} applied ${last}`, async () =>
        ((await cluster.status(replica.id))?.appliedIndex ?? 0) >= last ? true : undefined,
      );
      const ring = (await ringOf(cluster, replica.id, first)).filter((e) => e.index <= last);
      expect(ring).toEqual(seen);
    }
  });
});

describe('the watch: compaction and a slow watcher', () => {
  let cluster: CommandLogCluster;
  let api: DecisionApi;
  afterAll(async () => {
    await api?.stop();
    await cluster?.stop();
  });

  it('answers 410 with the index to resync from when the resume point is no longer retained', async () => {
    cluster = await CommandLogCluster.create(3, { PARLEY_WATCH_RING_EVENTS_MAX: '100' });
    await cluster.waitForLeader();
    api = await DecisionApi.start(cluster, {
      PARLEY_WATCH_RECENT_EVENTS_MAX: '10',
      PARLEY_WATCH_BUFFER_BYTES_MAX: '65536',
    });
    const indexes = await api.putKeys('c-', 150, 5);
    const gone = await WatchStream.open(api.port, `?fromIndex=${indexes[0]}`);
    expect(gone.status).toBe(410);
    const problem = JSON.parse(gone.body);
    expect(problem).toMatchObject({ type: 'watch-compacted', status: 410 });
    expect(problem.resyncFrom).toBeGreaterThanOrEqual(indexes[0]);
    expect(problem.resyncFrom).toBeLessThan(indexes[149]);
    // From resyncFrom the events are all there: those after it, up to the newest.
    const resumed = await WatchStream.open(api.port, `?fromIndex=${problem.resyncFrom}`);
    expect(resumed.status).toBe(200);
    const expected = indexes.filter((index) => index > problem.resyncFrom);
    await resumed.waitForDecisions(expected.length);
    expect(resumed.decisions().map((e) => e.index)).toEqual(expected);
    resumed.close();
  });

  it('closes a watcher that does not read with an overflow event, its buffer bounded', async () => {
    const slow = await WatchStream.open(api.port, '?prefix=kv/big-');
    expect(slow.status).toBe(200);
    slow.pause();
    const overflows = () => api.metric('parley_watch_overflows_total');
    const before = await overflows();
    const value = 'x'.repeat(60_000);
    let written = 0;
    await waitFor(
      'the slow watcher overflowed',
      async () => {
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            api.write('PUT', `/v1/kv/big-${i}`, { requestId: `big-${written}-${i}`, value }),
          ),
        );
        written += 8;
        return (await overflows()) > before ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1 },
    );
    // Reading again, the client gets what was buffered, then the overflow event, then the end.
    slow.resume();
    await waitFor('the stream ended', () => (slow.ended ? true : undefined));
    const last = slow.events[slow.events.length - 1];
    expect(last.event).toBe('overflow');
    const { lastIndex } = JSON.parse(last.data);
    expect(lastIndex).toBeGreaterThanOrEqual(Number(slow.lastEventId ?? 0));
    process.stdout.write(`slow watcher: overflowed after ${written} writes of 60 kB\n`);
  });
});
