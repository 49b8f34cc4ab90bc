import assert from 'node:assert/strict';
import { createBucketWith, deleteBucket, runBatch } from '../../support/batch';
import { createDatabase, dropDatabase, isolatedConfig, SHARED_DATA } from '../../support/isolated-env';
import { itReplaysRecordedHistories, recordIfAsked, replay, type History } from '../../support/replay';
import { startTestWorker } from '../../support/test-worker';

// Record a new history with RECORD_HISTORY=1 when the workflow changes shape (test/support/replay.ts).
describe('workflow replay (determinism across code changes)', function () {
  const cfg = isolatedConfig('replay');
  let fresh: { workflowId: string; history: History } | undefined;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    await createBucketWith(cfg, SHARED_DATA);
    const tw = await startTestWorker(cfg);
    try {
      const summary = await runBatch(tw.env.client, cfg, { source: `s3://${cfg.s3.bucket}/` });
      const history = await tw.env.client.workflow.getHandle(summary.workflowId).fetchHistory();
      fresh = { workflowId: summary.workflowId, history };
      recordIfAsked('batch-real-files.history.pb', history);
    } finally {
      await tw.stop();
    }
  });
  after(async () => {
    await dropDatabase(cfg.databaseUrl);
    await deleteBucket(cfg);
  });

  it('replays a history just recorded by the current code', async () => {
    assert.ok(fresh);
    await replay(fresh.history, fresh.workflowId);
  });

  itReplaysRecordedHistories('batch-');
});
