import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config';

export function createS3Client(s3: Config['s3']): S3Client {
  return new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
    credentials: s3.credentials,
    // Fail fast on a dead endpoint instead of retrying for minutes; Temporal retries the activity.
    maxAttempts: 3,
  });
}
