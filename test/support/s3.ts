import { S3Client } from '@aws-sdk/client-s3';

/** A client for the real S3-compatible server that scripts/infra started (see .infra/env). */
export function s3Client(): S3Client {
  return new S3Client({
    endpoint: process.env.S3_ENDPOINT ?? 'http://127.0.0.1:9000',
    region: process.env.S3_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? 'parley',
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? 'parley-secret-key',
    },
  });
}
