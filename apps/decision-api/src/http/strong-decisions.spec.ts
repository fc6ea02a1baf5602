import type { Response } from 'express';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { DecisionActivity } from '../dashboard/decision-activity';
import { Metrics } from '../metrics/metrics';
import { Problem } from './problem';
import { StrongDecisions } from './strong-decisions';

function setup(replayed: boolean) {
  const proposed: Record<string, unknown>[] = [];
  const log = {
    propose: (command: Record<string, unknown>) => {
      proposed.push(command);
      return Promise.resolve({ index: 42, replayed, result: { status: 'reserved' } });
    },
    read: () => Promise.resolve({ index: 7, stalenessMs: 3, result: { found: false } }),
  } as unknown as CommandLogClient;
  const metrics = new Metrics(log, {} as never);
  const activity = new DecisionActivity();
  const headers: Record<string, string> = {};
  const response = {
    getHeader: (name: string) => (name === 'X-Request-Id' ? 'req-1' : undefined),
    setHeader: (name: string, value: string) => (headers[name] = value),
  } as unknown as Response;
  const decisions = new StrongDecisions(log, metrics, activity);
  return { decisions, proposed, metrics, activity, headers, response };
}

const body = { requestId: 'r-1', orderId: 'o-1', quantity: 1 };

describe('StrongDecisions', () => {
  it('proposes the command, sets the headers and counts the decision', async () => {
    const { decisions, proposed, metrics, activity, headers, response } = setup(false);
    const result = await decisions.apply(response, 'inventory.reserve', body, { sku: 'gpu' });
    expect(result).toEqual({ status: 'reserved' });
    expect(proposed).toEqual([{ type: 'inventory.reserve', ...body, sku: 'gpu' }]);
    expect(headers).toEqual({ 'X-Raft-Index': '42' });
    expect(await metrics.registry.getSingleMetricAsString('parley_decisions_total')).toMatch(
      /type="inventory.reserve",outcome="reserved"} 1/,
    );
    expect(activity.total).toBe(1);
  });

  it('marks a replay and does not count it again', async () => {
    const { decisions, activity, headers, response } = setup(true);
    await decisions.apply(response, 'inventory.reserve', body, { sku: 'gpu' });
    expect(headers).toEqual({ 'X-Raft-Index': '42', 'Idempotent-Replay': 'true' });
    expect(activity.total).toBe(0);
  });

  it('refuses a command the state machine would refuse before it reaches the log', async () => {
    const { decisions, proposed, response } = setup(false);
    const long = 'x'.repeat(200);
    await expect(
      decisions.apply(response, 'inventory.release', { requestId: undefined }, { sku: long }),
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
