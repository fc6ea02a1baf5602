import type { S3Client } from '@aws-sdk/client-s3';
import { Snapshot } from '@parley/raft';
import { decodeSnapshot, encodeSnapshotPieces, snapshotDigest } from './format';
import { SnapshotStore } from './snapshot-store';

export interface S3SnapshotStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix, e.g. `cluster-a/node-1`. */
  prefix: string;
  /** Snapshots kept; older ones are deleted after each save. */
  retain: number;
  /** Snapshots larger than this go up as a multipart upload of parts this size (≥ 5 MiB). */
  partBytes: number;
}

/**
 * The SDK's commands, required by the first S3 call rather than imported at the top: the SDK is
 * ~20 MiB resident, and a replica without S3 loads this module too (through the library's index).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdk = async () => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');

const KEY_PATTERN = /snap-(\d{16})-(\d{16})\.snap$/;
const DOWNLOAD_BYTES_MAX = 4 * 1024 * 1024 * 1024;

export class SnapshotIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotIntegrityError';
  }
}

/**
 * Snapshots in an S3-compatible bucket. Large snapshots use multipart upload; every object
 * carries its SHA-256 in metadata and the file format repeats it, so a load verifies twice.
 */
export class S3SnapshotStore implements SnapshotStore {
  constructor(private readonly options: S3SnapshotStoreOptions) {}

  async ensureBucket(): Promise<void> {
    const { CreateBucketCommand, HeadBucketCommand } = await sdk();
    try {
      await this.options.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch {
      await this.options.client.send(new CreateBucketCommand({ Bucket: this.options.bucket }));
    }
  }

  async save(snapshot: Snapshot): Promise<void> {
    const { PutObjectCommand } = await sdk();
    // Hashed a slice per event-loop turn; one copy into a body for the SDK.
    const body = Buffer.concat(await encodeSnapshotPieces(snapshot));
    const key = this.key(snapshot.meta.index, snapshot.meta.term);
    const metadata = { sha256: snapshotDigest(body), index: String(snapshot.meta.index) };
    if (body.length <= this.options.partBytes) {
      await this.options.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: key,
          Body: body,
          Metadata: metadata,
        }),
      );
    } else {
      await this.multipart(key, body, metadata);
    }
    await this.prune();
  }

  async loadLatest(): Promise<Snapshot | undefined> {
    const { GetObjectCommand } = await sdk();
    const newest = (await this.objects())[0];
    if (!newest) return undefined;
    const response = await this.options.client.send(
      new GetObjectCommand({ Bucket: this.options.bucket, Key: newest.key }),
    );
    if ((response.ContentLength ?? 0) > DOWNLOAD_BYTES_MAX)
      throw new SnapshotIntegrityError(`${newest.key} is too large`);
    const bytes = await response.Body!.transformToByteArray();
    const decoded = decodeSnapshot(bytes);
    if ('error' in decoded)
      throw new SnapshotIntegrityError(`${newest.key} refused: ${decoded.error}`);
    const declared = response.Metadata?.sha256;
    if (declared !== undefined && declared !== snapshotDigest(bytes)) {
      throw new SnapshotIntegrityError(`${newest.key} refused: SHA-256 differs from its metadata`);
    }
    return decoded;
  }

  async list(): Promise<number[]> {
    return (await this.objects()).map((o) => o.index);
  }

  private key(index: number, term: number): string {
    return `${this.options.prefix}/snap-${String(index).padStart(16, '0')}-${String(term).padStart(16, '0')}.snap`;
  }

  private async objects(): Promise<{ key: string; index: number }[]> {
    const { ListObjectsV2Command } = await sdk();
    const found: { key: string; index: number }[] = [];
    let token: string | undefined;
    // Bounded pagination: a prefix holds a handful of snapshots, never thousands of pages.
    for (let page = 0; page < 100; page += 1) {
      const listed = await this.options.client.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: `${this.options.prefix}/`,
          ContinuationToken: token,
        }),
      );
      for (const object of listed.Contents ?? []) {
        const match = object.Key ? KEY_PATTERN.exec(object.Key) : null;
        if (match) found.push({ key: object.Key!, index: Number(match[1]) });
      }
      if (!listed.IsTruncated) break;
      token = listed.NextContinuationToken;
    }
    return found.sort((a, b) => b.index - a.index);
  }

  private async prune(): Promise<void> {
    const { DeleteObjectCommand } = await sdk();
    for (const old of (await this.objects()).slice(this.options.retain)) {
      await this.options.client.send(
        new DeleteObjectCommand({ Bucket: this.options.bucket, Key: old.key }),
      );
    }
  }

  private async multipart(
    key: string,
    body: Buffer,
    metadata: Record<string, string>,
  ): Promise<void> {
    const {
      AbortMultipartUploadCommand,
      CompleteMultipartUploadCommand,
      CreateMultipartUploadCommand,
      UploadPartCommand,
    } = await sdk();
    const { client, bucket, partBytes } = this.options;
    const created = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: metadata }),
    );
    const uploadId = created.UploadId!;
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (
        let offset = 0, partNumber = 1;
        offset < body.length;
        offset += partBytes, partNumber += 1
      ) {
        const part = await client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body.subarray(offset, offset + partBytes),
          }),
        );
        parts.push({ ETag: part.ETag!, PartNumber: partNumber });
      }
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (error) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => undefined);
      throw error;
    }
  }
}
