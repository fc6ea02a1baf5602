/**
 * Restart time of a replica holding `entries` applied entries. A one-replica cluster is
 * started and stopped, then `entries` committed kv.put entries are appended to its WAL with
 * the WAL's own writer (writing them through Raft at a few thousand per second would take
 * minutes); then the replica is started and timed until it has applied them all: first from the
 * WAL alone (it snapshots every PARLEY_SNAPSHOT_EVERY_ENTRIES while replaying), then again from
 * its newest snapshot plus the WAL tail.
 */
import { join } from 'node:path';
import { encodeCommand } from '../../../libs/decision/src';
import { EntryType } from '../../../libs/raft/src';
import { Wal } from '../../../apps/command-log/src/wal/wal';
import { CommandLogCluster } from '../../../test/support/command-log-cluster';
import { waitFor } from '../../../test/support/wait';
import { cpuSeconds } from './process-cpu';
import { rssMiB } from './process-memory';

export interface RecoveryFigure {
  entries: number;
  walBytesWritten: number;
  fromWalSeconds: number;
  /** CPU seconds the replica used until it had applied everything (steadier than wall time). */
  fromWalCpuSeconds: number | null;
  fromSnapshotSeconds: number;
  fromSnapshotCpuSeconds: number | null;
  rssAfterMiB: number | null;
}

const BATCH = 10_000;

/**
 * `compiled`: the replica runs dist/ (built by the caller), as a deployment does; otherwise its
 * sources, compiled as it starts (about a second more).
 */
export async function recoveryBench(
  entries: number,
  { cpuProfileDir, compiled = false }: { cpuProfileDir?: string; compiled?: boolean } = {},
): Promise<RecoveryFigure> {
  const cluster = await CommandLogCluster.create(1, {
    PARLEY_LOG_LEVEL: 'error',
    ...(compiled ? { RUN_COMPILED: 'true' } : {}),
    ...(cpuProfileDir ? { NODE_EXTRA_ARGS: `--cpu-prof --cpu-prof-dir=${cpuProfileDir}` } : {}),
  });
  try {
    await cluster.waitForLeader();
    const before = await waitFor('the replica status', () => cluster.status('n1'));
    await cluster.replica('n1').process!.stop('SIGTERM');
    cluster.replica('n1').process = undefined;

    const { wal } = await Wal.open({
      dir: join(cluster.dataDir, 'n1', 'wal'),
      segmentBytesMax: 64 * 1024 * 1024,
      fsync: true,
      logger: { log: () => undefined, warn: () => undefined },
    });
    let index = before.lastIndex;
    let walBytesWritten = 0;
    const value = 'v'.repeat(100);
    for (let written = 0; written < entries; written += BATCH) {
      const batch = [];
      for (let i = 0; i < Math.min(BATCH, entries - written); i += 1) {
        index += 1;
        const data = encodeCommand({
          type: 'kv.put',
          requestId: `recovery-${index}`,
          key: `key-${index % 10_000}`,
          value,
          ts: Date.now(),
        } as never);
        walBytesWritten += data.length;
        batch.push({ term: before.term, index, type: EntryType.Normal, data });
      }
      await wal.save({ term: before.term, vote: 'n1', commit: index }, batch);
    }
    await wal.close();
    const target = index;

    const timeRestart = async (what: string) => {
      const started = performance.now();
      cluster.start('n1');
      await waitFor(
        what,
        async () => {
          const status = await cluster.status('n1');
          return status && status.appliedIndex >= target ? true : undefined;
        },
        { timeoutMs: 600_000, intervalMs: 100 },
      );
      const seconds = (performance.now() - started) / 1000;
      const cpu = cpuSeconds(cluster.replica('n1').process!.child.pid!);
      return [seconds, cpu ?? null] as const;
    };
    const [fromWalSeconds, fromWalCpuSeconds] = await timeRestart(
      `replay of ${entries} entries from the WAL`,
    );
    await cluster.replica('n1').process!.stop('SIGTERM');
    cluster.replica('n1').process = undefined;
    const [fromSnapshotSeconds, fromSnapshotCpuSeconds] = await timeRestart(
      'recovery from the snapshot and the WAL tail',
    );
    const rssAfterMiB = rssMiB(cluster.replica('n1').process!.child.pid!) ?? null;
    return {
      entries,
      walBytesWritten,
      fromWalSeconds,
      fromWalCpuSeconds,
      fromSnapshotSeconds,
      fromSnapshotCpuSeconds,
      rssAfterMiB,
    };
  } finally {
    await cluster.stop();
  }
}
