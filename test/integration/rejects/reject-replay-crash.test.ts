// A replay whose worker is killed between a page's commit and its reply: the page's moves and their ledger
// increment are committed, the server never hears of it, and the page runs again on another worker, finding
// those rejects gone. The replay's ledger must still count every row it moved (stream rejects moved by its
// pages and the presses its batch reprocess admitted), as the tables hold them.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { batchWorkflow } from '../../../batch/workflow';
import { createKnex } from '../../../infra/db';
import { rejectReplay } from '../../../replay/workflow';
import { createBucketWith, deleteBucket } from '../../support/batch';
import { SITE_6 } from '../../support/exhibitions';
import { sigkill, startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  SHARED_DATA,
  uniqueSuffix,
} from '../../support/isolated-env';
import { TcpProxy } from '../../support/tcp-proxy';
import { waitFor } from '../../support/wait';

// Two site-6 presses, rejected UNKNOWN_SITE until the metadata lands.
const OBJECT = 'at,site,val,type\n2023-03-06 10:00:00,6,4,\n2023-03-06 11:00:00,6,-1,0.0\n';
const STREAM_REJECTS = 10;
const PAGE_SIZE = 4;

describe('rejects replay: a worker killed between a page commit and its reply', function () {
  this.timeout(300_000);
  const cfg = isolatedConfig('replay-crash');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-crash-'));
  const [temporalHost, temporalPort] = cfg.temporal.address.split(':') as [string, string];
  const proxy = new TcpProxy(temporalHost, Number(temporalPort));
  const workers: RunningProcess[] = [];
  let env: TestWorkflowEnvironment;
  let knex: Knex;

  /** A worker process that reaches Temporal only through the proxy, so its replies can be cut off. */
  async function startWorker(): Promise<RunningProcess> {
    const w = startEntryPoint('worker.ts', cfg, [], { TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}` });
    workers.push(w);
    await waitForOutput(w, /polling task queue/, 120_000);
    return w;
  }

  before(async () => {
    for (const f of fs.readdirSync(SHARED_DATA).filter((n) => n.startsWith('lmnh_exhibition_'))) {
      fs.copyFileSync(path.join(SHARED_DATA, f), path.join(dir, f));
    }
    fs.writeFileSync(path.join(dir, 'lmnh_hist_data_a.csv'), OBJECT);
    fs.writeFileSync(path.join(dir, 'lmnh_exhibition_deeptime.json'), JSON.stringify(SITE_6));
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    await proxy.start();
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: cfg.temporal.address,
      namespace: cfg.temporal.namespace,
    });
  });
  after(async () => {
    for (const w of workers) if (w.child.exitCode === null) await sigkill(w);
    await env?.teardown();
    await proxy.stop();
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
    await deleteBucket(cfg).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('counts in the ledger every row the replay moved', async () => {
    const client = env.client;
    const source = `s3://${cfg.s3.bucket}/`;
    const batch = (workflowId: string) =>
      client.workflow.execute(batchWorkflow, {
        taskQueue: cfg.temporal.taskQueue,
        workflowId,
        args: [{ source }],
      });
    const first = await startWorker();

    // The object's two site-6 presses are rejected; then the metadata lands (the objects are unchanged).
    await createBucketWith(
      cfg,
      dir,
      fs.readdirSync(dir).filter((f) => f !== 'lmnh_exhibition_deeptime.json'),
    );
    assert.deepEqual((await batch(`batch-crash-1-${uniqueSuffix()}`)).rejectedByReason, { UNKNOWN_SITE: 2 });
    await createBucketWith(cfg, dir, ['lmnh_exhibition_deeptime.json']);
    await batch(`batch-crash-2-${uniqueSuffix()}`);
    // Stream rejects of site 6 from before the metadata, stored after the batch's.
    await knex('pipeline_run').insert({
      run_id: 'stream-run',
      kind: 'stream',
      workflow_id: 'w',
      source: 't',
    });
    await knex('rejected_interaction').insert(
      Array.from({ length: STREAM_REJECTS }, (_, offset) => ({
        raw: Buffer.from(
          JSON.stringify({ at: '2026-07-01T10:00:00.000000+01:00', site: '6', val: offset % 5 }),
        ),
        reasons: ['UNKNOWN_SITE'],
        run_id: 'stream-run',
        source_topic: 't',
        source_partition: 0,
        source_offset: offset,
      })),
    );

    // The first page waits for a row this session holds, so it commits only once its worker is cut off.
    const holder = new pg.Client({ connectionString: cfg.databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(
        `select 1 from rejected_interaction where source_topic is not null
         order by rejected_interaction_id limit 1 for update`,
      );
      const replay = await client.workflow.start(rejectReplay, {
        taskQueue: cfg.temporal.taskQueue,
        workflowId: `replay-crash-${uniqueSuffix()}`,
        args: [{ filter: { reason: 'UNKNOWN_SITE' }, pageSize: PAGE_SIZE }],
      });
      const ledgerRunId = replay.firstExecutionRunId;
      await waitFor('the first page to wait for the held reject', async () => {
        const r = await knex.raw<{ rows: unknown[] }>(
          `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'
           and query ilike '%from rejected_interaction%for update%'`,
        );
        return r.rows.length > 0 ? true : undefined;
      });
      await proxy.stop();
      await holder.query('commit');
      const ledgerLoaded = async () =>
        Number(
          (
            await knex('pipeline_run')
              .where({ run_id: ledgerRunId })
              .first<{ n: number }>({ n: 'loaded_count' })
          ).n,
        );
      await waitFor('the page to commit', async () =>
        (await ledgerLoaded()) === PAGE_SIZE ? true : undefined,
      );
      await sigkill(first);

      await proxy.start();
      await startWorker();
      const summary = await replay.result();

      // Every stream reject moved once, under the replay's run; the object's two presses admitted.
      const moved = await knex.raw<{ rows: { n: number }[] }>(
        `select (select count(*) from rating_interaction where run_id = :id)
              + (select count(*) from request_interaction where run_id = :id) as n`,
        { id: ledgerRunId },
      );
      assert.equal(Number(moved.rows[0]!.n), STREAM_REJECTS);
      const left = await knex('rejected_interaction')
        .whereNotNull('source_topic')
        .count<{ n: string }[]>({ n: '*' });
      assert.equal(Number(left[0]!.n), 0);
      assert.deepEqual(summary.batch, { objects: 1, admitted: 2, failedObjects: [] });
      // The retried first page found its rejects gone and moved the next ones: the workflow's own count is
      // short by a page, the ledger is not.
      assert.equal(summary.admitted, STREAM_REJECTS - PAGE_SIZE);
      const ledger = await knex('pipeline_run')
        .where({ run_id: ledgerRunId })
        .first<{ read_count: number; loaded_count: number; status: string }>();
      assert.deepEqual(
        { read: ledger.read_count, loaded: ledger.loaded_count, status: ledger.status },
        { read: STREAM_REJECTS + 2, loaded: STREAM_REJECTS + 2, status: 'completed' },
      );
      assert.equal(summary.loaded, STREAM_REJECTS + 2);
    } finally {
      await holder.end();
    }
  });
});
