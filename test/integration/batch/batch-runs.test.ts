// How batch runs page and end: hundreds of objects through several continue-as-new with exact counts and one
// ledger row; a missing bucket or object recorded as `failed`; a cancel recorded as `cancelled`; staging
// dropped either way.
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { STAGING_SCHEMA, stagingPrefix } from '../../../batch/staging';
import { createKnex } from '../../../infra/db';
import { batchWorkflow, type BatchInput } from '../../../batch/workflow';
import { runBatch } from '../../support/batch';
import { createDatabase, dropDatabase, isolatedConfig, uniqueSuffix } from '../../support/isolated-env';
import { startTestWorker, type TestWorker } from '../../support/test-worker';
import { catalogueSequences } from '../../support/sequences';
import { smallObjects } from '../../support/small-objects';
import { waitFor } from '../../support/wait';

async function stagingLeft(knex: Knex, runId: string): Promise<number> {
  const rows = await knex('pg_tables')
    .where({ schemaname: STAGING_SCHEMA })
    .andWhere('tablename', 'like', `${stagingPrefix(runId)}%`)
    .count<{ n: string }[]>({ n: '*' });
  return Number(rows[0]?.n ?? 0);
}

async function ledger(knex: Knex, runId: string) {
  return knex('pipeline_run')
    .where({ run_id: runId })
    .select<{ status: string; read_count: number; loaded_count: number; rejected_count: number }[]>(
      'status',
      'read_count',
      'loaded_count',
      'rejected_count',
    );
}

describe('batch runs: paging, failures and cancellation', function () {
  this.timeout(300_000);
  const cfg = isolatedConfig('runs');
  let knex: Knex;
  let tw: TestWorker;
  const dirs: string[] = [];

  // Creating and dropping a database waits on the shared disk's syncs: minutes when it is busy.
  before(async function () {
    this.timeout(600_000);
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    tw = await startTestWorker(cfg);
  });
  after(async function () {
    this.timeout(600_000);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    await tw?.stop();
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  it('pages 120 objects through several continue-as-new with exact counts and one ledger row', async () => {
    const { dir, read, rejected } = smallObjects(120);
    dirs.push(dir);
    // A number too large for the catalogue: a metadata problem in the summary, not a failed run.
    fs.writeFileSync(
      path.join(dir, 'lmnh_exhibition_huge.json'),
      JSON.stringify({
        EXHIBITION_NAME: 'Huge',
        EXHIBITION_ID: 'EXH_99999999999',
        FLOOR: '1',
        DEPARTMENT: 'Zoology',
        START_DATE: '01/02/23',
      }),
    );
    const source = pathToFileURL(dir).href + '/';
    const summary = await runBatch(tw.env.client, cfg, { source, pageSize: 10, pagesPerRun: 2 });
    assert.deepEqual(
      [summary.objects, summary.skipped, summary.read, summary.loaded, summary.rejected],
      [120, 0, read, read - rejected, rejected],
    );
    assert.deepEqual(summary.rejectedByReason, { BAD_VAL: rejected });
    assert.equal(summary.ratingRows + summary.assistanceRows + summary.emergencyRows, read - rejected);
    // 12 full pages, two per execution, then one execution finds the end: 7 executions, one logical run.
    assert.equal(summary.runs, 7);
    const runs = await knex('pipeline_run').select<{ run_id: string }[]>('run_id');
    assert.deepEqual(
      runs.map((r) => r.run_id),
      [summary.runId],
    );
    assert.deepEqual(await ledger(knex, summary.runId), [
      {
        status: 'completed',
        read_count: read,
        loaded_count: read - rejected,
        rejected_count: rejected,
      },
    ]);
    const objects = await knex('source_object')
      .groupBy('run_id')
      .select<{ run_id: string; n: string }[]>('run_id', knex.raw('count(*) as n'));
    assert.deepEqual(
      objects.map((o) => [o.run_id, Number(o.n)]),
      [[summary.runId, 120]],
    );
    const ratings = await knex('rating_interaction').count<{ n: string }[]>({ n: '*' });
    assert.equal(Number(ratings[0]?.n), summary.ratingRows);

    assert.deepEqual(summary.failedMetadata, [
      {
        uri: `${source}lmnh_exhibition_huge.json`,
        problems: [
          "EXHIBITION_ID 'EXH_99999999999' does not fit the catalogue: its number is above 2147483647",
        ],
      },
    ]);

    // A second run pages through the same objects and skips them all, using no identity values.
    const sequences = await catalogueSequences(knex);
    const again = await runBatch(tw.env.client, cfg, { source, pageSize: 10, pagesPerRun: 2 });
    assert.deepEqual([again.objects, again.skipped, again.read], [120, 120, 0]);
    assert.deepEqual(await catalogueSequences(knex), sequences);
  });

  it('rejects a line over 64 KiB as MALFORMED with its first 64 KiB and length, and reads CR-only files', async () => {
    const { dir } = smallObjects(0);
    dirs.push(dir);
    const long = `2023-03-06 11:00:00,1,${'3'.repeat(100_000)},`;
    fs.writeFileSync(
      path.join(dir, 'long.csv'),
      `at,site,val,type\n2023-03-06 11:00:01,1,3,\n${long}\n2023-03-06 11:00:02,1,4,\n`,
    );
    fs.writeFileSync(
      path.join(dir, 'old-mac.csv'),
      'at,site,val,type\r2023-03-06 11:00:03,2,1,\r2023-03-06 11:00:04,2,-1,1.0\r',
    );
    const source = pathToFileURL(dir).href + '/';
    const summary = await runBatch(tw.env.client, cfg, { source });
    assert.deepEqual(
      [summary.read, summary.loaded, summary.rejected, summary.rejectedByReason],
      [5, 4, 1, { MALFORMED: 1 }],
    );
    const rejects = await knex('rejected_interaction')
      .where({ run_id: summary.runId })
      .select<{ source_line: number; raw: Buffer; raw_length: number; reasons: string[] }[]>(
        'source_line',
        'raw',
        'raw_length',
        'reasons',
      );
    assert.equal(rejects.length, 1);
    assert.deepEqual(
      [rejects[0]!.source_line, rejects[0]!.reasons, Number(rejects[0]!.raw_length)],
      [3, ['MALFORMED'], Buffer.byteLength(long)],
    );
    assert.deepEqual(rejects[0]!.raw, Buffer.from(long).subarray(0, 64 * 1024));
    const stored = await knex.raw<{ rows: { source_object: string; source_line: number }[] }>(
      `select source_object, source_line from rating_interaction where run_id = ?
       union all select source_object, source_line from request_interaction where run_id = ?`,
      [summary.runId, summary.runId],
    );
    assert.deepEqual(stored.rows.map((l) => `${path.basename(l.source_object)}:${l.source_line}`).sort(), [
      'long.csv:2',
      'long.csv:4',
      'old-mac.csv:2',
      'old-mac.csv:3',
    ]);
  });

  it('records a missing bucket as a failed run, with a one-line reason', async () => {
    const source = `s3://kiosk-no-such-${uniqueSuffix()}/`;
    const handle = await tw.env.client.workflow.start(batchWorkflow, {
      taskQueue: cfg.temporal.taskQueue,
      workflowId: `batch-test-${uniqueSuffix()}`,
      args: [{ source }],
    });
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.cause), /bucket 'kiosk-no-such-.*' does not exist or is not readable/);
      return true;
    });
    const rows = await knex('pipeline_run').where({ run_id: handle.firstExecutionRunId }).select('status');
    assert.deepEqual(rows, [{ status: 'failed' }]);
  });

  it('records a named object missing at the listing step as a failed run', async () => {
    const { dir } = smallObjects(2);
    dirs.push(dir);
    const input: BatchInput = { source: pathToFileURL(dir).href + '/', keys: ['obj-00000.csv', 'nope.csv'] };
    const handle = await tw.env.client.workflow.start(batchWorkflow, {
      taskQueue: cfg.temporal.taskQueue,
      workflowId: `batch-test-${uniqueSuffix()}`,
      args: [input],
    });
    await assert.rejects(handle.result(), /Workflow execution failed/);
    const rows = await knex('pipeline_run').where({ run_id: handle.firstExecutionRunId }).select('status');
    assert.deepEqual(rows, [{ status: 'failed' }]);
  });

  it('records a cancel as cancelled, drops staging, and keeps the ledger balanced', async () => {
    const { dir } = smallObjects(200);
    dirs.push(dir);
    const handle = await tw.env.client.workflow.start(batchWorkflow, {
      taskQueue: cfg.temporal.taskQueue,
      workflowId: `batch-test-${uniqueSuffix()}`,
      args: [{ source: pathToFileURL(dir).href + '/', pageSize: 10, pagesPerRun: 2, maxParallel: 4 }],
    });
    const runId = handle.firstExecutionRunId;
    // Cancel in the middle: after some objects were loaded, across at least one continue-as-new.
    await waitFor(
      'objects loaded past the first execution',
      async () => {
        const n = await knex('source_object').where({ run_id: runId }).count<{ n: string }[]>({ n: '*' });
        return Number(n[0]?.n) > 25 ? true : undefined;
      },
      120_000,
    );
    await handle.cancel();
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof CancelledFailure, String(err.cause));
      return true;
    });
    const [row] = await ledger(knex, runId);
    assert.equal(row?.status, 'cancelled');
    assert.equal(Number(row?.read_count), Number(row?.loaded_count) + Number(row?.rejected_count));
    const loaded = await knex('source_object').where({ run_id: runId }).count<{ n: string }[]>({ n: '*' });
    assert.ok(Number(loaded[0]?.n) < 200, 'cancelled before the end');
    assert.equal(await stagingLeft(knex, runId), 0);
  });
});
