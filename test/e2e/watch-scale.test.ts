import { CommandLogCluster } from '../support/command-log-cluster';
import { DecisionApi } from '../support/decision-api-stack';
import { waitFor } from '../support/wait';
import { WatchStream } from '../support/watch-stream';

jest.setTimeout(240_000);

const WATCHERS = 1_000;

/** One decision-api serving a thousand watch streams at once, each getting every event in order. */
describe('the watch with 1,000 concurrent watchers', () => {
  let cluster: CommandLogCluster;
  let api: DecisionApi;
  const streams: WatchStream[] = [];
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await api?.stop();
    await cluster?.stop();
  });

  it('delivers every decision, in order, to each of 1,000 watchers on one decision-api', async () => {
    cluster = await CommandLogCluster.create(3);
    await cluster.waitForLeader();
    api = await DecisionApi.start(cluster);
    for (let i = 0; i < WATCHERS; i += 1)
      streams.push(await WatchStream.open(api.port, '?prefix=kv/scale-'));
    expect(streams.filter((s) => s.status === 200).length).toBe(WATCHERS);
    const gauge = () => api.metric('parley_watchers');
    expect(await gauge()).toBe(WATCHERS);
    const indexes = await api.putKeys('scale-', 20, 4);
    await waitFor(
      'every watcher got the 20 events',
      () => (streams.every((s) => s.decisions().length >= 20) ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    for (const stream of streams) expect(stream.decisions().map((e) => e.index)).toEqual(indexes);
    for (const stream of streams) stream.close();
    await waitFor('the watchers are released', async () =>
      (await gauge()) === 0 ? true : undefined,
    );
  });
});
