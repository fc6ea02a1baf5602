import { CommandLogCluster } from '../support/command-log-cluster';
import { DecisionApi } from '../support/decision-api-stack';
import { waitFor } from '../support/wait';
import { WatchStream } from '../support/watch-stream';

jest.setTimeout(180_000);

/**
 * GET /v1/watch against a real 3-replica cluster: every committed strong outcome, in log order,
 * with the REST answer as its result; deadline decisions; filters; resuming; the bounds.
 */
describe('GET /v1/watch', () => {
  let cluster: CommandLogCluster;
  let api: DecisionApi;
  const streams: WatchStream[] = [];
  const watch = async (
    ...args: Parameters<typeof WatchStream.open> extends [number, ...infer R] ? R : never
  ) => {
    const stream = await WatchStream.open(api.port, ...args);
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    cluster = await CommandLogCluster.create(3, { PARLEY_CLOCK_INTERVAL_MS: '50' });
    await cluster.waitForLeader();
    api = await DecisionApi.start(cluster, {
      PARLEY_WATCH_WATCHERS_MAX: '40',
      PARLEY_WATCH_HEARTBEAT_MS: '200',
    });
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await api?.stop();
    await cluster?.stop();
  });

  it('streams each outcome with the body the REST route answered, in log order', async () => {
    const stream = await watch();
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    const restock = await api.write('POST', '/v1/inventory/w-sku/restock', {
      requestId: 'w-restock',
      quantity: 1,
    });
    const first = await api.write('POST', '/v1/inventory/w-sku/reservations', {
      requestId: 'w-r1',
      orderId: 'o1',
      quantity: 1,
    });
    const second = await api.write('POST', '/v1/inventory/w-sku/reservations', {
      requestId: 'w-r2',
      orderId: 'o2',
      quantity: 1,
    });
    await stream.waitForDecisions(3);
    const events = stream.decisions();
    expect(events.map((e) => [e.type, e.entity, e.requestId, e.decidedBy])).toEqual([
      ['inventory.restock', 'inventory/w-sku', 'w-restock', 'command'],
      ['inventory.reserve', 'inventory/w-sku', 'w-r1', 'command'],
      ['inventory.reserve', 'inventory/w-sku', 'w-r2', 'command'],
    ]);
    expect(events.map((e) => e.result)).toEqual([restock.json, first.json, second.json]);
    expect(second.json).toMatchObject({ status: 'rejected', reason: 'out-of-stock' });
    // The SSE id is the Raft index the REST answer named.
    expect(stream.events.map((e) => e.id)).toEqual(
      [restock, first, second].map((a) => a.headers.get('x-raft-index')),
    );
    // A retry (a replay) decides nothing new: no second event.
    const replay = await api.write('POST', '/v1/inventory/w-sku/reservations', {
      requestId: 'w-r1',
      orderId: 'o1',
      quantity: 1,
    });
    expect(replay.headers.get('idempotent-replay')).toBe('true');
    await api.write('PUT', '/v1/kv/w-after-replay', { requestId: 'w-k', value: 'v' });
    await stream.waitForDecisions(4);
    expect(stream.decisions().map((e) => e.requestId)).toEqual([
      'w-restock',
      'w-r1',
      'w-r2',
      'w-k',
    ]);
  });

  it('publishes a proposal decided at its deadline, and filters by entity prefix and type', async () => {
    const proposals = await watch('?prefix=proposals/w-p');
    const deadlines = await watch('?types=proposal.decided');
    await api.write('POST', '/v1/proposals', {
      requestId: 'w-p1',
      proposalId: 'w-p1',
      options: ['yes', 'no'],
      policy: { kind: 'majority', quorum: 3, deadlineMs: 300, onDeadline: 'plurality' },
    });
    await api.write('POST', '/v1/proposals/w-p1/votes', {
      requestId: 'w-v1',
      agentId: 'a1',
      option: 'no',
    });
    await api.write('PUT', '/v1/kv/w-other', { requestId: 'w-other', value: 'x' });
    await deadlines.waitForDecisions(1);
    expect(deadlines.decisions()).toEqual([
      expect.objectContaining({
        type: 'proposal.decided',
        entity: 'proposals/w-p1',
        decidedBy: 'deadline',
        result: { proposalId: 'w-p1', status: 'decided', outcome: 'no', tally: { yes: 0, no: 1 } },
      }),
    ]);
    await proposals.waitForDecisions(3);
    expect(proposals.decisions().map((e) => e.type)).toEqual([
      'proposal.create',
      'proposal.vote',
      'proposal.decided',
    ]);
    const read = await api.call('GET', '/v1/proposals/w-p1', 'reader');
    expect(proposals.decisions()[2].result).toEqual(read.json);
  });

  it('resumes after fromIndex or Last-Event-ID without a gap or a duplicate', async () => {
    const live = await watch();
    const acknowledged: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const answer = await api.write('PUT', `/v1/kv/w-resume-${i % 3}`, {
        requestId: `w-resume-${i}`,
        value: `${i}`,
      });
      acknowledged.push(Number(answer.headers.get('x-raft-index')));
    }
    await live.waitForDecisions(20);
    const all = live.decisions();
    const cut = all[7].index;
    const byQuery = await watch(`?fromIndex=${cut}`);
    const byHeader = await watch('', { 'last-event-id': String(cut) });
    for (const resumed of [byQuery, byHeader]) {
      await resumed.waitForDecisions(12);
      expect(resumed.decisions()).toEqual(all.slice(8));
    }
    expect(all.map((e) => e.index)).toEqual(acknowledged);
  });

  it('sends heartbeats on an idle stream', async () => {
    const idle = await watch('?prefix=nothing/here');
    await waitFor('two heartbeats', () => (idle.comments >= 2 ? true : undefined));
  });

  it('refuses a bad query with 400 and a caller without a role with 401/403', async () => {
    const bad = await watch('?fromIndex=-3');
    expect(bad.status).toBe(400);
    const badHeader = await watch('', { 'last-event-id': 'abc' });
    expect(badHeader.status).toBe(400);
    const unknown = await watch('?colour=red');
    expect(unknown.status).toBe(400);
    const stranger = await watch('', { authorization: 'Bearer not-a-key-at-all' });
    expect(stranger.status).toBe(401);
  });

  it('refuses watchers beyond the per-process limit with 503 and Retry-After', async () => {
    const open: WatchStream[] = [];
    for (let i = 0; open.length < 60; i += 1) {
      const stream = await watch('?prefix=limit/');
      open.push(stream);
      if (stream.status === 503) break;
    }
    const refused = open[open.length - 1];
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(JSON.parse(refused.body)).toMatchObject({ type: 'watchers-full' });
    // Closing one frees its slot.
    for (const stream of open.slice(0, 5)) stream.close();
    await waitFor('a free slot', async () => {
      const again = await watch('?prefix=limit/');
      again.close();
      return again.status === 200 ? true : undefined;
    });
    for (const stream of open) stream.close();
  });
});
