import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { Snapshot } from '@parley/raft';
import { FsSnapshotStore, S3SnapshotStore, TieredSnapshotStore } from '@parley/snapshot';
import { waitFor } from '../support/wait';
import { s3Client } from '../support/s3';

const snapshot = (index: number, bytes: number): Snapshot => ({
  meta: {
    index,
    term: 3,
    confState: {
      voters: ['n1', 'n2', 'n3'],
      votersOutgoing: [],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    },
  },
  data: Uint8Array.from({ length: bytes }, (_, i) => (i * 31 + index) & 0xff),
});

describe('snapshots in the real S3-compatible store', () => {
  jest.setTimeout(120_000);
  let client: S3Client;
  let bucket: string;
  beforeEach(() => {
    client = s3Client();
    bucket = `parley-snap-${randomUUID()}`;
  });
  afterEach(() => client.destroy());

  const store = (retain = 2) =>
    new S3SnapshotStore({
      client,
      bucket,
      prefix: 'cluster-test/n1',
      retain,
      partBytes: 5 * 1024 * 1024,
    });

  it('saves and loads a snapshot, keeping only the newest K', async () => {
    const s3 = store(2);
    await s3.ensureBucket();
    for (const index of [100, 200, 300]) await s3.save(snapshot(index, 1000));
    expect(await s3.list()).toEqual([300, 200]);
    expect(await s3.loadLatest()).toEqual(snapshot(300, 1000));
  });

  it('uploads a large snapshot in parts and verifies its SHA-256 on load', async () => {
    const s3 = store(2);
    await s3.ensureBucket();
    const large = snapshot(500, 12 * 1024 * 1024 + 17);
    await s3.save(large);
    const loaded = await s3.loadLatest();
    expect(loaded?.meta).toEqual(large.meta);
    expect(Buffer.from(loaded!.data).equals(Buffer.from(large.data))).toBe(true);
  });

  it('keeps snapshots locally while S3 is unreachable and uploads them when it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-tiered-'));
    const unreachable = new S3Client({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
    let remote = new S3SnapshotStore({
      client: unreachable,
      bucket,
      prefix: 'tiered/n1',
      retain: 2,
      partBytes: 5 * 1024 * 1024,
    });
    const proxy = {
      save: (s: Snapshot) => remote.save(s),
      loadLatest: () => remote.loadLatest(),
      list: () => remote.list(),
    };
    const warnings: string[] = [];
    const tiered = new TieredSnapshotStore(
      new FsSnapshotStore(dir, 2),
      proxy,
      { log: () => undefined, warn: (w) => warnings.push(w) },
      500,
    );
    try {
      await tiered.save(snapshot(10, 100)); // resolves: the local copy is durable
      expect(await tiered.list()).toEqual([10]);
      await waitFor('a failed upload attempt', () => (warnings.length > 0 ? true : undefined));
      expect(tiered.pendingUpload()).toBe(10);
      // S3 comes back.
      const healthy = store(2);
      await healthy.ensureBucket();
      remote = new S3SnapshotStore({
        client,
        bucket,
        prefix: 'tiered/n1',
        retain: 2,
        partBytes: 5 * 1024 * 1024,
      });
      await waitFor(
        'the upload to finish',
        () => (tiered.pendingUpload() === undefined ? true : undefined),
        { timeoutMs: 60_000 },
      );
      expect(await remote.list()).toEqual([10]);
    } finally {
      tiered.close();
      unreachable.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
