import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { createS3Client } from '../../infra/s3';
import { createWorker } from '../../worker';
import { healthCheck } from '../../workflows';
import { createDatabase, dropDatabase, isolatedConfig, uniqueSuffix } from '../support/isolated-env';

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
      assert.equal(result.migrations, 1);
    } finally {
      await close();
    }
  });
});
