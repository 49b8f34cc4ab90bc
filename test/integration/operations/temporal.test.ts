import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { MIGRATIONS_DIR } from '../../../infra/db';
import { createS3Client } from '../../../infra/s3';
import { createWorker } from '../../../worker';
import { healthCheck } from '../../../workflows';
import { createDatabase, dropDatabase, isolatedConfig, uniqueSuffix } from '../../support/isolated-env';

describe('Temporal dev server runs workflows on our worker', function () {
  const cfg = isolatedConfig('temporal');
  let env: TestWorkflowEnvironment;

  before(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: cfg.temporal.address,
      namespace: cfg.temporal.namespace,
    });
    await createDatabase(cfg.databaseUrl);
    const s3 = createS3Client(cfg.s3);
    await s3.send(new CreateBucketCommand({ Bucket: cfg.s3.bucket }));
    s3.destroy();
  });
  after(async () => {
    await env?.teardown();
    await dropDatabase(cfg.databaseUrl);
    const s3 = createS3Client(cfg.s3);
    await s3.send(new DeleteBucketCommand({ Bucket: cfg.s3.bucket }));
    s3.destroy();
  });

  it('completes a workflow whose activity reaches PostgreSQL and S3', async () => {
    const { worker, close } = await createWorker(cfg);
    try {
      const result = await worker.runUntil(
        env.client.workflow.execute(healthCheck, {
          taskQueue: cfg.temporal.taskQueue,
          workflowId: `health-${uniqueSuffix()}`,
        }),
      );
      assert.match(result.database, /^PostgreSQL \d+/);
      assert.equal(result.bucket, cfg.s3.bucket);
      const files = fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
      assert.equal(result.migrations, files.length);
    } finally {
      await close();
    }
  });

  it('fails, once its retries are spent, with a message naming the service that was down', async () => {
    // An S3 endpoint where nothing listens: the health check's activity has a budget of three attempts.
    const down = { ...cfg, s3: { ...cfg.s3, endpoint: 'http://127.0.0.1:9' } };
    const { worker, close } = await createWorker(down);
    try {
      const run = env.client.workflow.execute(healthCheck, {
        taskQueue: cfg.temporal.taskQueue,
        workflowId: `health-${uniqueSuffix()}`,
      });
      await assert.rejects(worker.runUntil(run), (err: Error) => {
        const cause = (err.cause as Error | undefined)?.cause as Error | undefined;
        assert.match(cause?.message ?? '', /^S3 unavailable \(127\.0\.0\.1:9\): .*ECONNREFUSED/);
        return true;
      });
    } finally {
      await close();
    }
  });
});
