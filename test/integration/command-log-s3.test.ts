import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandLogCluster } from '../support/command-log-cluster';
import { S3ServerProcess } from '../support/s3-server-process';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

describe('command-log snapshots in a real S3-compatible store', () => {
  let s3: S3ServerProcess;
  let cluster: CommandLogCluster;
  let s3dir: string;

  afterEach(async () => {
    await cluster?.stop();
    await s3?.stop();
    rmSync(s3dir, { recursive: true, force: true });
  });

  it('uploads snapshots, keeps deciding while S3 is down, and uploads again when it returns', async () => {
    s3dir = mkdtempSync(join(tmpdir(), 'parley-s3-'));
    s3 = new S3ServerProcess(await freePort(), s3dir);
    await s3.start();
    cluster = await CommandLogCluster.create(1, {
      PARLEY_SNAPSHOT_EVERY_ENTRIES: '20',
      PARLEY_S3_ENDPOINT: s3.endpoint,
      PARLEY_S3_BUCKET: 'parley-it-snapshots',
      PARLEY_S3_ACCESS_KEY_ID: 'parley',
      PARLEY_S3_SECRET_ACCESS_KEY: 'parley-secret-key',
      // An attempt stuck on a connection to the restarted server is abandoned after 15 s.
      PARLEY_S3_ATTEMPT_TIMEOUT_MS: '15000',
    });
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'parley', secretAccessKey: 'parley-secret-key' },
    });
    const uploaded = async () => {
      try {
        const listed = await client.send(
          new ListObjectsV2Command({ Bucket: 'parley-it-snapshots', Prefix: 'n1/' }),
        );
        return (listed.Contents ?? []).map((o) => Number(/snap-(\d+)-/.exec(o.Key!)![1]));
      } catch {
        return [];
      }
    };
    const write = (from: number, count: number) =>
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          cluster.propose({
            type: 'kv.put',
            requestId: `w${from + i}`,
            key: `k${from + i}`,
            value: 'v',
          }),
        ),
      );
    await write(0, 50);
    await waitFor(
      'a snapshot in S3',
      async () => ((await uploaded()).length > 0 ? true : undefined),
      { timeoutMs: 30_000 },
    );

    await s3.stop();
    await write(50, 60); // S3 is down: the replica keeps deciding
    const status = await cluster.status('n1');
    expect(status?.role).toBe('leader');
    expect(status!.appliedIndex).toBeGreaterThan(100);
    const pending = await waitFor('a snapshot waiting for S3', async () => {
      const s = (await (
        await fetch(`http://127.0.0.1:${cluster.replica('n1').httpPort}/v1/status`)
      ).json()) as { snapshotPendingUpload: number | null };
      return s.snapshotPendingUpload ?? undefined;
    });

    await s3.start();
    await waitFor(
      'the pending snapshot to reach S3',
      // Only the newest pending snapshot is uploaded: one taken after `pending` (the leader's
      // clock entries keep the log growing) replaces it, and reaching S3 is what counts.
      async () => ((await uploaded()).some((index) => index >= pending) ? true : undefined),
      // Bound: a stuck attempt (≤15 s) + the back-off ceiling (30 s) + the breaker reset (10 s),
      // twice over for a slow machine.
      { timeoutMs: 120_000 },
    ).catch((error: Error) => {
      // The replica's own account of its upload attempts, to find the cause of a failure.
      const replica = cluster.replica('n1').process;
      const log = `${replica?.stdout ?? ''}${replica?.stderr ?? ''}`
        .split('\n')
        .slice(-40)
        .join('\n');
      throw new Error(`${error.message}\nreplica log tail:\n${log}`);
    });
    client.destroy();
  });
});
