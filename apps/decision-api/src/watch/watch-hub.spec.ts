import type { DecisionEvent } from '@parley/decision';
import type { WatchRequest, WatchResponse } from '@parley/command-log-api';
import type { WatchAlert, WatchCompacted } from '@parley/decision-api-contract';
import type { CommandLogClient } from '../cluster-client/command-log-client';
import { Delivery, WatchHub, WatchSubscriber } from './watch-hub';
import { sse } from './watch-filter';

const event = (index: number): DecisionEvent => ({
  index,
  type: 'kv.put',
  entity: `kv/k${index}`,
  requestId: `r${index}`,
  result: { index },
  decidedBy: 'command',
});

/**
 * The replicas as the hub's client sees them: scripted answers; a long poll with nothing new
 * waits its waitMs, as a replica does.
 */
function replicas(answer: (request: WatchRequest) => WatchResponse) {
  const client = {
    configured: true,
    watchEvents: async (request: WatchRequest) => {
      const answered = answer(request);
      const idle = answered.status === 'ok' && answered.upTo === request.afterIndex;
      if (idle) await new Promise((resolve) => setTimeout(resolve, request.waitMs ?? 0));
      return answered;
    },
  } as unknown as CommandLogClient;
  return { client };
}

class Recorder implements WatchSubscriber {
  indexes: number[] = [];
  compactions: WatchCompacted[] = [];
  alerts: WatchAlert[] = [];
  decisions(delivery: Delivery): void {
    this.indexes.push(...delivery.events.map((e) => e.index));
  }
  alert(alert: WatchAlert): void {
    this.alerts.push(alert);
  }
  compacted(compacted: WatchCompacted): void {
    this.compactions.push(compacted);
  }
  heartbeat(): void {}
  stop(): void {}
}

const options = {
  recentEventsMax: 3,
  pollWaitMs: 10,
  heartbeatMs: 60_000,
  watchersMax: 2,
  bufferBytesMax: 1_000,
};

/** A log whose events are at every index 1..last, served like a replica's ring from `from`. */
function ring(last: () => number, from = 0) {
  return (request: WatchRequest): WatchResponse => {
    const after = request.afterIndex;
    if (after === undefined) return { status: 'ok', events: [], upTo: last() };
    if (after < from) return { status: 'compacted', compactedIndex: from };
    const events = [];
    for (let i = after + 1; i <= last() && events.length < (request.eventsMax ?? 1e9); i += 1)
      events.push(event(i));
    return { status: 'ok', events, upTo: Math.max(after, events.at(-1)?.index ?? after) };
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let turns = 0; !condition(); turns += 1) {
    if (turns > 1_000) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('WatchHub', () => {
  const hubs: WatchHub[] = [];
  afterEach(() => hubs.splice(0).forEach((hub) => hub.beforeApplicationShutdown()));
  const start = (client: CommandLogClient) => {
    const hub = new WatchHub(client, options);
    hubs.push(hub);
    hub.onApplicationBootstrap();
    return hub;
  };

  it('catches a watcher up from the replicas, then joins it live without a gap or a duplicate', async () => {
    let last = 10;
    const hub = start(replicas(ring(() => last)).client);
    const watcher = new Recorder();
    expect(hub.admit()).toBe(true);
    // The hub's window holds 3 events: index 2 is older, so the replicas serve 3..10 first.
    expect(await hub.join(watcher, 2, () => true)).toEqual({ status: 'joined' });
    last = 14;
    await until(() => watcher.indexes.length >= 12);
    expect(watcher.indexes).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('keeps tailing with no watcher (for the dashboard and later joins) without making SSE frames', async () => {
    let last = 10;
    const frames = jest.spyOn(sse, 'decision');
    try {
      const hub = start(replicas(ring(() => last)).client);
      last = 14;
      await until(() => hub.recent(1)[0]?.index === 14);
      expect(frames).not.toHaveBeenCalled();
      const watcher = new Recorder();
      expect(hub.admit()).toBe(true);
      expect(await hub.join(watcher, undefined, () => true)).toEqual({ status: 'joined' });
      last = 16;
      await until(() => watcher.indexes.length >= 2);
      expect(watcher.indexes).toEqual([15, 16]);
      expect(frames).toHaveBeenCalledTimes(2);
    } finally {
      frames.mockRestore();
    }
  });

  it('answers compacted when no replica holds the resume point', async () => {
    const hub = start(replicas(ring(() => 50, 40)).client);
    expect(await hub.join(new Recorder(), 12, () => true)).toEqual({
      status: 'compacted',
      compactedIndex: 40,
    });
  });

  it('lets its watchers go with compacted when the replicas dropped what it had not read', async () => {
    let lost = false;
    const hub = start(
      replicas((r) =>
        lost && r.afterIndex !== undefined
          ? { status: 'compacted', compactedIndex: 90 }
          : ring(() => 5)(r),
      ).client,
    );
    const watcher = new Recorder();
    hub.admit();
    await hub.join(watcher, undefined, () => true);
    lost = true;
    await until(() => watcher.compactions.length > 0);
    expect(watcher.compactions).toEqual([{ compactedIndex: 90, resyncFrom: 90 }]);
  });

  it('counts watchers against its limit and publishes alerts to them', async () => {
    const hub = start(replicas(ring(() => 1)).client);
    const watcher = new Recorder();
    expect([hub.admit(), hub.admit(), hub.admit()]).toEqual([true, true, false]);
    await hub.join(watcher, undefined, () => true);
    hub.publishAlert({ kind: 'quorum-lost' });
    expect(watcher.alerts).toEqual([{ kind: 'quorum-lost' }]);
    hub.release(watcher);
    expect(hub.admit()).toBe(true);
  });
});
