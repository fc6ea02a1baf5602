import type { Response } from 'express';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { DecisionActivity } from '../dashboard/decision-activity';
import { Metrics } from '../metrics/metrics';
import { Problem } from './problem';
import { StrongDecisions } from './strong-decisions';
import { AsyncRequests } from '../async/async-requests';
import { ClusterRefused, unavailable } from '../cluster-client/outcomes';

function setup(
  replayed: boolean,
  propose: () => Promise<unknown> = () =>
    Promise.resolve({ index: 42, replayed, result: { status: 'accepted', available: 3 } }),
) {
  const proposed: Record<string, unknown>[] = [];
  const log = {
    propose: (command: Record<string, unknown>) => {
      proposed.push(command);
      return propose();
    },
    read: () => Promise.resolve({ index: 7, stalenessMs: 3, result: { found: false } }),
  } as unknown as CommandLogClient;
  const metrics = new Metrics(log, {} as never);
  const activity = new DecisionActivity();
  const headers: Record<string, string> = {};
  const response = {
    getHeader: (name: string) => (name === 'X-Request-Id' ? 'req-1' : undefined),
    setHeader: (name: string, value: string) => (headers[name] = value),
    req: { headers: { prefer: 'respond-async' }, url: '/v1/inventory/gpu/reservations' },
  } as unknown as Response;
  // No outbox: the preference is ignored, the write answers synchronously.
  const asyncRequests = { enabled: false } as AsyncRequests;
  const decisions = new StrongDecisions(log, metrics, activity, asyncRequests);
  return { decisions, proposed, metrics, activity, headers, response };
}

const body = { requestId: 'r-1', orderId: 'o-1', quantity: 1 };

describe('StrongDecisions', () => {
  it('proposes the command, sets the headers and counts the decision', async () => {
    const { decisions, proposed, metrics, activity, headers, response } = setup(false);
    const result = await decisions.decide(response, 'inventory.reserve', body, { sku: 'gpu' });
    expect(result).toEqual({ status: 'accepted', available: 3, index: undefined });
    expect(proposed).toEqual([{ type: 'inventory.reserve', ...body, sku: 'gpu' }]);
    expect(headers).toEqual({ 'X-Raft-Index': '42' });
    expect(await metrics.registry.getSingleMetricAsString('parley_decisions_total')).toMatch(
      /type="inventory.reserve",outcome="accepted"} 1/,
    );
    expect(activity.total).toBe(1);
  });

  it('marks a replay and does not count it again', async () => {
    const { decisions, activity, headers, response } = setup(true);
    await decisions.decide(response, 'inventory.reserve', body, { sku: 'gpu' });
    expect(headers).toEqual({ 'X-Raft-Index': '42', 'Idempotent-Replay': 'true' });
    expect(activity.total).toBe(0);
  });

  it('refuses a command the state machine would refuse before it reaches the log', async () => {
    const { decisions, proposed, response } = setup(false);
    const long = 'x'.repeat(200);
    await expect(
      decisions.decide(response, 'inventory.release', { requestId: undefined }, { sku: long }),
    ).rejects.toMatchObject({
      extra: {
        errors: [
          'requestId (or the Idempotency-Key header) is required',
          'requestId must be a string of 1-128 printable characters',
          'sku must be a string of 1-128 printable characters',
          'orderId must be a string of 1-128 printable characters',
        ],
      },
    } satisfies Partial<Problem>);
    expect(proposed).toEqual([]);
  });

  const queued = {
    requestId: 'r-1',
    type: 'kv.put',
    command: { type: 'kv.put', requestId: 'r-1', key: 'k', value: 'v', ifVersion: 1 },
    path: { key: 'k' },
    url: '/v1/kv/k',
    acceptedAt: 0,
  };

  it('settles a queued request with the answer the synchronous route gives', async () => {
    const { decisions } = setup(true, () =>
      Promise.resolve({
        index: 9,
        replayed: true,
        result: { status: 'ok', key: 'k', value: 'v', version: 2, index: 9 },
      }),
    );
    expect(await decisions.settle(queued)).toEqual({
      kind: 'decided',
      answer: {
        status: 200,
        headers: { 'X-Raft-Index': '9', 'Idempotent-Replay': 'true' },
        contentType: 'application/json',
        body: { key: 'k', value: 'v', version: 2, index: 9 },
      },
    });
  });

  it("settles a route's refusal as its problem, with the index it was decided at", async () => {
    const { decisions } = setup(false, () =>
      Promise.resolve({
        index: 9,
        replayed: false,
        result: { status: 'conflict', key: 'k', currentVersion: 4 },
      }),
    );
    expect(await decisions.settle(queued)).toMatchObject({
      kind: 'decided',
      answer: {
        status: 409,
        headers: { 'X-Raft-Index': '9' },
        contentType: 'application/problem+json',
        body: { status: 409, detail: 'key k is at version 4', instance: '/v1/kv/k' },
      },
    });
  });

  it('leaves a request the cluster cannot take yet for later, and decides a final refusal', async () => {
    const noLeader = setup(false, () => Promise.reject(unavailable('no leader')));
    expect(await noLeader.decisions.settle(queued)).toEqual({ kind: 'not-now' });
    const reused = setup(false, () =>
      Promise.reject(new ClusterRefused({ kind: 'key-reuse', requestId: 'r-1' })),
    );
    expect(await reused.decisions.settle(queued)).toMatchObject({
      kind: 'decided',
      answer: { status: 422, body: { type: 'idempotency-key-reuse' } },
    });
  });

  it('reads with the asked consistency and sets the index and staleness headers', async () => {
    const { decisions, headers, response } = setup(false);
    const read = await decisions.read(
      response,
      { type: 'kv.get', key: 'k' },
      {
        consistency: 'stale',
      },
    );
    expect(read).toEqual({ index: 7, found: { found: false } });
    expect(headers).toEqual({ 'X-Raft-Index': '7', 'X-Staleness-Ms': '3' });
  });
});
