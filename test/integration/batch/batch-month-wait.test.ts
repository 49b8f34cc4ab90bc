// A run whose rows need a new month while another session holds the batch write lock for minutes (what a
// long load of a large object does): the making of the month waits for the lock instead of timing out, and
// the run completes. BATCH_LOCK_HOLD_SECONDS sets the hold; the default, 5 minutes, is longer than the
// batch steps' retry budget (about 3.5 minutes), so a wait that timed out and was retried would fail the run.
import assert from 'node:assert/strict';
import pg from 'pg';
import { BATCH_WRITE_LOCK_KEY, monthPartition } from '../../../batch/partitions';
import { batchWorkflow } from '../../../batch/workflow';
import { createBucketWith, deleteBucket } from '../../support/batch';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  SHARED_DATA,
  uniqueSuffix,
} from '../../support/isolated-env';
import { startTestWorker, type TestWorker } from '../../support/test-worker';
import { waitFor } from '../../support/wait';

const HOLD_MS = Number(process.env.BATCH_LOCK_HOLD_SECONDS ?? 300) * 1000;
const OBJECT = 'lmnh_hist_data_0.csv';
// Every press of the real history is on 2023-03-06: a month a new database has no partition for.
const MONTH = monthPartition('rating_interaction', '2023-03-01');

describe('batch: a new month waits for the batch write lock', function () {
  this.timeout(HOLD_MS + 240_000);
  const cfg = isolatedConfig('batch-month-wait');
  let worker: TestWorker | undefined;
  let holder: pg.Client | undefined;
  let db: pg.Client | undefined;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    await createBucketWith(cfg, SHARED_DATA, [
      OBJECT,
      'lmnh_exhibition_bugs.json',
      'lmnh_exhibition_cave.json',
    ]);
    db = new pg.Client({ connectionString: cfg.databaseUrl });
    await db.connect();
    worker = await startTestWorker(cfg);
  });
  after(async () => {
    await holder?.end();
    await db?.end();
    await worker?.stop();
    await deleteBucket(cfg);
    await dropDatabase(cfg.databaseUrl);
  });

  it(`completes a run held off for ${HOLD_MS / 1000} s, its load never retried`, async () => {
    const client = worker!.env.client;
    holder = new pg.Client({ connectionString: cfg.databaseUrl });
    await holder.connect();
    await holder.query(`select pg_advisory_lock(${BATCH_WRITE_LOCK_KEY})`);
    const heldSince = Date.now();
    const run = await client.workflow.start(batchWorkflow, {
      taskQueue: cfg.temporal.taskQueue,
      workflowId: `batch-month-wait-${uniqueSuffix()}`,
      args: [{ source: `s3://${cfg.s3.bucket}/`, keys: [OBJECT] }],
    });

    const waiting = async () =>
      (
        await db!.query<{ query: string }>(
          `select a.query from pg_locks l join pg_stat_activity a using (pid)
           where l.locktype = 'advisory' and not l.granted and a.datname = current_database()`,
        )
      ).rows;
    await waitFor(
      'the load to wait for the batch write lock',
      async () => ((await waiting()).length > 0 ? true : undefined),
      120_000,
    );
    assert.match((await waiting())[0]!.query, /pg_advisory_xact_lock/);
    const made = await db!.query<{ t: string | null }>('select to_regclass($1)::text as t', [MONTH]);
    assert.equal(made.rows[0]?.t, null, 'the month is made after the lock is free');

    await new Promise((r) => setTimeout(r, Math.max(0, HOLD_MS - (Date.now() - heldSince))));
    // Still the first attempt of the load, waiting: nothing timed out and was retried.
    const pending = (await run.describe()).raw.pendingActivities ?? [];
    assert.deepEqual(
      pending.map((a) => [a.activityType?.name, a.attempt, a.lastFailure?.message ?? null]),
      [['loadObject', 1, null]],
    );
    assert.equal((await waiting()).length, 1);
    await holder.query(`select pg_advisory_unlock(${BATCH_WRITE_LOCK_KEY})`);

    const summary = await run.result();
    assert.ok(summary.loaded > 0);
    assert.equal(summary.read, summary.loaded + summary.rejected);
    const stored = await db!.query<{ n: number }>(`select count(*)::int as n from ${MONTH}`);
    assert.ok(stored.rows[0]!.n > 0, `${MONTH} holds the run's ratings`);
  });
});
