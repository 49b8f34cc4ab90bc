import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createBucketWith, deleteBucket, runBatch } from '../support/batch';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  REPO_ROOT,
  SHARED_DATA,
} from '../support/isolated-env';
import { startTestWorker, workflowBundle } from '../support/test-worker';

// Histories recorded from earlier versions of the workflow code: they must keep replaying, or a deploy would
// break workflows that are running. Record a new one with RECORD_HISTORY=1 when the workflow changes shape.
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');

// Binary protobuf, not the SDK's JSON form: JSON histories go through a second copy of protobufjs in this
// dependency tree (under @temporalio/common) whose type checks reject the messages of the first.
const HistoryProto = temporal.api.history.v1.History;
type History = temporal.api.history.v1.IHistory;

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
      if (process.env.RECORD_HISTORY === '1') {
        fs.writeFileSync(
          path.join(FIXTURES, 'batch-real-files.history.pb'),
          HistoryProto.encode(history).finish(),
        );
      }
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
    await Worker.runReplayHistory(
      { workflowBundle: await workflowBundle() },
      fresh.history,
      fresh.workflowId,
    );
  });

  const recorded = fs.existsSync(FIXTURES)
    ? fs.readdirSync(FIXTURES).filter((f) => f.startsWith('batch-') && f.endsWith('.history.pb'))
    : [];
  it('has recorded histories to replay', () => {
    assert.ok(recorded.length > 0, `no recorded histories in ${FIXTURES}`);
  });
  for (const file of recorded) {
    it(`replays the recorded history ${file}`, async () => {
      const history = HistoryProto.decode(fs.readFileSync(path.join(FIXTURES, file)));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
    });
  }
});
