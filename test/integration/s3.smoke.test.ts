import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { s3Client } from '../support/s3';

/** The real S3-compatible server (MinIO) answers the product's client: @aws-sdk/client-s3. */
describe('S3-compatible server (real)', () => {
  jest.setTimeout(30_000);
  const client = s3Client();
  afterAll(() => client.destroy());

  it('puts, gets, lists and deletes an object', async () => {
    const bucket = `smoke-${randomUUID()}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'snapshots/one', Body: 'snapshot bytes' }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'snapshots/one' }));
    expect(await got.Body!.transformToString()).toBe('snapshot bytes');
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'snapshots/' }),
    );
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['snapshots/one']);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'snapshots/one' }));
    const after = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(after.Contents ?? []).toEqual([]);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  });
});
