import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config';

export function createS3Client(s3: Config['s3']): S3Client {
  // The SDK is pinned to a release that supports Node 20 (package.json); its notice about future releases
  // needing Node 22 is acknowledged in the README, not repeated on every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
    credentials: s3.credentials,
    // Fail fast on a dead endpoint instead of retrying for minutes; Temporal retries the activity.
    maxAttempts: 3,
  });
}
