import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateHistory } from '../../../simulator/history-files';
import { createKnex } from '../../../infra/db';
import { createTemporalClient } from '../../../infra/temporal';
import { batchWorkflow } from '../../../batch/workflow';
import {
  createBucketWith,
  deleteBucket,
  finalBatchState,
  pendingActivityTypes,
  runBatch,
} from '../../support/batch';
import { sigkill, startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { createDatabase, dropDatabase, isolatedConfig, uniqueSuffix } from '../../support/isolated-env';
import { startTestWorker } from '../../support/test-worker';

describe('batch workflow survives its worker being killed mid-load', function () {
  this.timeout(240_000);
  const clean = isolatedConfig('crash-clean');
  const crashed = { ...isolatedConfig('crash-killed'), s3: clean.s3 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-crash-'));
  let worker: RunningProcess | undefined;

  before(async () => {
    // 4 objects of 60,000 rows: each load takes long enough to be caught in the middle.
    await generateHistory({
      rows: 240_000,
      files: 4,
      seed: 42,
      out: dir,
      startDate: '2023-03-01',
      days: 30,
      sites: [0, 1, 2, 3, 4, 5],
    });
    await createBucketWith(clean, dir, fs.readdirSync(dir));
    await createDatabase(clean.databaseUrl);
    await createDatabase(crashed.databaseUrl);
  });
  after(async () => {
    if (worker && worker.child.exitCode === null) await sigkill(worker);
    await dropDatabase(clean.databaseUrl);
    await dropDatabase(crashed.databaseUrl);
    await deleteBucket(clean);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('leaves exactly the tables of a clean run, row for row', async () => {
    const source = `s3://${clean.s3.bucket}/`;
    const tw = await startTestWorker(clean);
    let cleanSummary;
    try {
      cleanSummary = await runBatch(tw.env.client, clean, { source });
    } finally {
      await tw.stop();
    }

    const client = await createTemporalClient(crashed.temporal);
    const knex = createKnex(crashed.databaseUrl, 2);
    try {
      worker = startEntryPoint('worker.ts', crashed);
      await waitForOutput(worker, /polling task queue/);
      const workflowId = `batch-crash-${uniqueSuffix()}`;
      const handle = await client.workflow.start(batchWorkflow, {
        taskQueue: crashed.temporal.taskQueue,
        workflowId,
        args: [{ source }],
      });

      // Kill twice: once in the middle of a load transaction, once while the next objects are extracted.
      for (const victim of ['loadObject', 'extractObject']) {
        const deadline = Date.now() + 120_000;
        while (!(await pendingActivityTypes(client.workflow, workflowId)).includes(victim)) {
          assert.ok(Date.now() < deadline, `never saw ${victim} running`);
          await new Promise((r) => setTimeout(r, 25));
        }
        await new Promise((r) => setTimeout(r, 150));
        await sigkill(worker);
        worker = startEntryPoint('worker.ts', crashed);
        await waitForOutput(worker, /polling task queue/);
      }

      const summary = await handle.result();
      assert.equal(summary.read, cleanSummary.read);
      assert.equal(summary.read, summary.loaded + summary.rejected);
      assert.deepEqual(summary.rejectedByReason, cleanSummary.rejectedByReason);

      const history = await handle.fetchHistory();
      const retried = (history.events ?? []).filter(
        (e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1,
      );
      assert.ok(retried.length >= 1, 'the kill should have forced at least one activity retry');

      const cleanKnex = createKnex(clean.databaseUrl, 2);
      try {
        const expected = await finalBatchState(cleanKnex);
        const actual = await finalBatchState(knex);
        assert.equal(actual.ratings.length, expected.ratings.length);
        assert.deepEqual(actual, expected);
        assert.deepEqual(actual.staging, []);
      } finally {
        await cleanKnex.destroy();
      }
    } finally {
      await knex.destroy();
      await client.connection.close();
    }
  });
});
