import { readFileSync } from 'node:fs';
import { AlertReceiver } from '../support/alert-receiver';
import { CommandLogCluster } from '../support/command-log-cluster';
import { DecisionApi } from '../support/decision-api-stack';
import { waitFor } from '../support/wait';
import { WatchStream } from '../support/watch-stream';

jest.setTimeout(300_000);

/** A field of /proc/<pid>/status in bytes (VmRSS: resident now; VmHWM: the highest it has been). */
function memoryOf(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!kB) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kB[1]) * 1024;
}

const MiB = 1024 * 1024;

describe('the watch at its edges: compaction under an open stream, many slow watchers', () => {
  let cluster: CommandLogCluster;
  const apis: DecisionApi[] = [];
  const streams: WatchStream[] = [];
  beforeAll(async () => {
    // Replicas keep 100 events (the compaction test outruns that).
    cluster = await CommandLogCluster.create(3, { PARLEY_WATCH_RING_EVENTS_MAX: '100' });
    await cluster.waitForLeader();
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    for (const api of apis) await api.stop();
    await cluster?.stop();
  });

  it('an open stream whose decision-api fell behind the replicas gets `compacted`, then resyncs from resyncFrom', async () => {
    // Replicas keep 100 events; the watcher's decision-api is paused (SIGSTOP) while 150 are
    // written through another one, so when it runs again the replicas no longer hold its cursor.
    const watched = await DecisionApi.start(cluster, { PARLEY_WATCH_RECENT_EVENTS_MAX: '10' });
    const writer = await DecisionApi.start(cluster);
    apis.push(watched, writer);
    const stream = await WatchStream.open(watched.port, '?prefix=kv/cmp-');
    streams.push(stream);
    expect(stream.status).toBe(200);
    const before = await writer.putKeys('cmp-a', 5, 5);
    await stream.waitForDecisions(5);
    expect(stream.decisions().map((e) => e.index)).toEqual(before);

    const pid = watched.process.child.pid!;
    process.kill(pid, 'SIGSTOP');
    let during: number[];
    try {
      during = await writer.putKeys('cmp-b', 150, 5);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor('the open stream ended', () => (stream.ended ? true : undefined), {
      timeoutMs: 60_000,
    });
    const last = stream.events[stream.events.length - 1];
    expect(last.event).toBe('compacted');
    const { compactedIndex, resyncFrom } = JSON.parse(last.data);
    expect(resyncFrom).toBe(compactedIndex);
    // What the stream delivered before is a gapless prefix of what was written.
    const seen = stream.decisions().map((e) => e.index);
    const written = [...before, ...during];
    expect(seen).toEqual(written.slice(0, seen.length));
    // The replicas really had dropped the cursor: resyncFrom is past what the stream had.
    expect(resyncFrom).toBeGreaterThan(seen[seen.length - 1]);
    expect(resyncFrom).toBeLessThan(during[during.length - 1]);

    // Resync (a client reads the state again, then watches from resyncFrom): every event after it.
    const resumed = await WatchStream.open(watched.port, `?prefix=kv/cmp-&fromIndex=${resyncFrom}`);
    streams.push(resumed);
    expect(resumed.status).toBe(200);
    const expected = written.filter((index) => index > resyncFrom);
    await resumed.waitForDecisions(expected.length);
    expect(resumed.decisions().map((e) => e.index)).toEqual(expected);
    // And it is live again: a new write arrives on the resumed stream.
    const after = await writer.putKeys('cmp-c', 1, 1);
    await resumed.waitForDecisions(expected.length + 1);
    expect(resumed.decisions().map((e) => e.index)).toEqual([...expected, ...after]);
  });

  it('50 watchers that never read all get `overflow` and the process RSS stays bounded', async () => {
    const watchers = 50;
    const writesMax = 400;
    const valueBytes = 60_000;
    const value = 'x'.repeat(valueBytes);
    const env = {
      PARLEY_WATCH_BUFFER_BYTES_MAX: '65536',
      // The window of recent events is bounded by count, not bytes: 10,000 of these 60 kB
      // writes would be 600 MB of their own. Kept small so what is measured is the watchers.
      PARLEY_WATCH_RECENT_EVENTS_MAX: '10',
    };
    /** 60 kB PUTs, 8 at a time, while `more()` says so and at most writesMax in all. */
    const largeWrites = async (api: DecisionApi, tag: string, more: () => Promise<boolean>) => {
      let written = 0;
      while (written < writesMax && (await more())) {
        const answers = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            api.write('PUT', `/v1/kv/rss-${i}`, { requestId: `${tag}-${written}-${i}`, value }),
          ),
        );
        for (const answer of answers) expect(answer.status).toBe(200);
        written += 8;
      }
      return written;
    };
    /** Peak RSS growth of `api`'s process (VmHWM after, less VmRSS before) over `work`. */
    const peakGrowthOver = async (api: DecisionApi, work: () => Promise<unknown>) => {
      const pid = api.process.child.pid!;
      const before = memoryOf(pid, 'VmRSS');
      await work();
      return memoryOf(pid, 'VmHWM') - before;
    };

    // The control: the same writes through a decision-api nobody watches. Its RSS grows too
    // (V8 lets its heap grow with 24 MB of bodies passing through before a full collection).
    const control = await DecisionApi.start(cluster, env);
    apis.push(control);
    const controlGrowth = await peakGrowthOver(control, () =>
      largeWrites(control, 'rss-control', async () => true),
    );
    await control.stop();

    const api = await DecisionApi.start(cluster, env);
    apis.push(api);
    const slow: WatchStream[] = [];
    for (let i = 0; i < watchers; i += 1) {
      const stream = await WatchStream.open(api.port, '?prefix=kv/rss-');
      expect(stream.status).toBe(200);
      stream.pause();
      slow.push(stream);
      streams.push(stream);
    }
    const overflows = () => api.metric('parley_watch_overflows_total');
    const overflowsBefore = await overflows();
    let toOverflow = 0;
    const growth = await peakGrowthOver(api, async () => {
      // Until every watcher overflowed, then as many more as the control wrote, which must
      // cost the closed watchers nothing.
      toOverflow = await largeWrites(
        api,
        'rss-a',
        async () => (await overflows()) - overflowsBefore < watchers,
      );
      await largeWrites(api, 'rss-b', async () => true);
    });
    expect((await overflows()) - overflowsBefore).toBe(watchers);
    expect(await api.metric('parley_watchers')).toBe(0);

    const unbounded = (toOverflow + writesMax) * valueBytes * watchers;
    process.stdout.write(
      `slow watchers: ${watchers} overflowed after ${toOverflow} writes of 60 kB; peak RSS ` +
        `growth ${(growth / MiB).toFixed(1)} MiB over ${toOverflow + writesMax} writes, ` +
        `${(controlGrowth / MiB).toFixed(1)} MiB unwatched over ${writesMax} (holding every ` +
        `frame for every watcher would be ${(unbounded / MiB).toFixed(0)} MiB)\n`,
    );
    // The bound: each watcher holds at most PARLEY_WATCH_BUFFER_BYTES_MAX + one frame (~125 kB)
    // in the process before it is closed, 50 of them ~6 MiB, above what the same writes cost
    // unwatched. 128 MiB over the control leaves a wide margin for V8's collection timing
    // (measured: 10-20 MiB over it), and is far below keeping every frame for every watcher
    // (400 writes x 60 kB x 50 = 1.1 GiB, less what the kernel's socket buffers would absorb).
    expect(growth).toBeLessThan(controlGrowth + 128 * MiB);
    expect(unbounded).toBeGreaterThan(1024 * MiB);

    // Each reads, once it reads again, what was buffered, then `overflow`, then the end.
    for (const stream of slow) stream.resume();
    for (const stream of slow) {
      await waitFor('the slow stream ended', () => (stream.ended ? true : undefined));
      expect(stream.events[stream.events.length - 1].event).toBe('overflow');
    }
  });
});

describe('the leader-changes alert (real processes)', () => {
  const SECRET = 'webhook-secret-leader-changes';
  let cluster: CommandLogCluster;
  let api: DecisionApi;
  let receiver: AlertReceiver;
  let stream: WatchStream | undefined;
  afterAll(async () => {
    stream?.close();
    await api?.stop();
    await cluster?.stop();
    await receiver?.stop();
  });

  it('more leader changes than PARLEY_ALERT_LEADER_CHANGES_MAX within the window reach the webhook, signed, and the watch', async () => {
    receiver = await AlertReceiver.start(SECRET);
    cluster = await CommandLogCluster.create(3);
    await cluster.waitForLeader();
    api = await DecisionApi.start(cluster, {
      PARLEY_ALERT_WEBHOOK_URL: receiver.url,
      PARLEY_ALERT_WEBHOOK_SECRET: SECRET,
      PARLEY_ALERT_POLL_MS: '100',
      PARLEY_ALERT_LEADER_CHANGES_MAX: '2',
      // Long enough that the three transfers below fall in one window on a loaded machine.
      PARLEY_ALERT_LEADER_CHANGES_WINDOW_MS: '600000',
    });
    stream = await WatchStream.open(api.port, '?types=alert');
    expect(stream.status).toBe(200);
    const changes = () => api.metric('parley_leader_changes_total');
    // The process has seen the first leader before anything moves.
    await waitFor('the first alert check', async () =>
      (await api.metric('parley_alert_checks_total')) >= 1 ? true : undefined,
    );

    const leaders: string[] = [await cluster.waitForLeader()];
    for (let change = 1; change <= 3; change += 1) {
      const { to } = await api.transferLeadership(cluster);
      leaders.push(to);
      // The next transfer only once this process has counted this one (a poll could miss a
      // leader that held office for less than one poll).
      await waitFor(`leader change ${change} counted`, async () =>
        (await changes()) >= change ? true : undefined,
      );
      // Two changes are within the limit: no alert yet. (The alert is raised in the same look
      // that counts the change; an election of its own on a loaded machine would count too.)
      if (change === 2) {
        const counted = await changes();
        expect(await api.metric('parley_alerts_total{kind="leader-changes"}')).toBe(
          counted > 2 ? 1 : 0,
        );
      }
    }
    const counted = await changes();

    await waitFor('leader-changes at the webhook', () =>
      receiver.kinds().includes('leader-changes') ? true : undefined,
    );
    const received = receiver.alerts.filter((a) => a.kind === 'leader-changes');
    expect(received).toHaveLength(1);
    expect(received[0].validSignature).toBe(true);
    expect(received[0].body).toMatchObject({ kind: 'leader-changes', windowMs: 600_000 });
    // Raised at the third change (the one past the limit): three, and the leader it brought,
    // unless the cluster also held an election of its own meanwhile.
    if (counted === 3) expect(received[0].body).toMatchObject({ changes: 3, leader: leaders[3] });
    else expect(received[0].body.changes).toBeGreaterThan(2);
    // The watch carries the same body. (A poll during a transfer may also find no leader for a
    // moment: quorum-lost and quorum-regained may come too, and are not what is tested here.)
    const onWatch = () =>
      stream!.events
        .filter((e) => e.event === 'alert')
        .map((e) => JSON.parse(e.data) as { kind: string })
        .filter((alert) => alert.kind === 'leader-changes');
    await waitFor('leader-changes on the watch', () => (onWatch().length > 0 ? true : undefined));
    expect(onWatch()).toEqual([received[0].body]);
    expect(await api.metric('parley_alerts_total{kind="leader-changes"}')).toBe(1);
  });
});
