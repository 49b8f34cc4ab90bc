// Replaying batch rejects: presses for an exhibition not catalogued yet are rejected UNKNOWN_SITE by a batch
// run; once its metadata lands, `rejects replay` reprocesses the objects that hold them, and the tables then
// equal one clean run of the same objects with the whole catalogue (DUPLICATE across objects included).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKnex } from '../../../infra/db';
import { rejectReplay } from '../../../replay/workflow';
import { createBucketWith, deleteBucket, runBatch, stateBySite } from '../../support/batch';
import { SITE_6 } from '../../support/exhibitions';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  SHARED_DATA,
  uniqueSuffix,
} from '../../support/isolated-env';
import { startTestWorker, type TestWorker } from '../../support/test-worker';

// The same site-6 press in both objects (the lower key's line wins), and one press of each elsewhere.
const OBJECT_A = 'at,site,val,type\n2023-03-06 10:00:00,6,4,\n2023-03-06 10:05:00,1,3,\n';
const OBJECT_B = 'at,site,val,type\n2023-03-06 10:00:00,6,4,\n2023-03-06 11:00:00,6,-1,0.0\n';

describe('rejects replay: batch rejects, by reprocessing their objects', function () {
  this.timeout(300_000);
  const cfg = isolatedConfig('replay-batch');
  const clean = { ...isolatedConfig('replay-batch-clean'), s3: cfg.s3 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-batch-'));
  let tw: TestWorker;

  before(async () => {
    for (const f of fs.readdirSync(SHARED_DATA).filter((n) => n.startsWith('lmnh_exhibition_'))) {
      fs.copyFileSync(path.join(SHARED_DATA, f), path.join(dir, f));
    }
    fs.writeFileSync(path.join(dir, 'lmnh_hist_data_a.csv'), OBJECT_A);
    fs.writeFileSync(path.join(dir, 'lmnh_hist_data_b.csv'), OBJECT_B);
    fs.writeFileSync(path.join(dir, 'lmnh_exhibition_deeptime.json'), JSON.stringify(SITE_6));
    await createDatabase(cfg.databaseUrl);
    await createDatabase(clean.databaseUrl);
    tw = await startTestWorker(cfg);
  });
  after(async () => {
    await tw?.stop();
    await dropDatabase(cfg.databaseUrl);
    await dropDatabase(clean.databaseUrl);
    await deleteBucket(cfg).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('admits the presses now valid exactly once, leaving the tables of a clean run', async () => {
    const source = `s3://${cfg.s3.bucket}/`;
    const client = tw.env.client;
    const withoutSite6 = fs.readdirSync(dir).filter((f) => f !== 'lmnh_exhibition_deeptime.json');
    await createBucketWith(cfg, dir, withoutSite6);
    const first = await runBatch(client, cfg, { source });
    assert.deepEqual(first.rejectedByReason, { UNKNOWN_SITE: 3 });

    await createBucketWith(cfg, dir, ['lmnh_exhibition_deeptime.json']);
    const second = await runBatch(client, cfg, { source }); // the catalogue grows; the objects are unchanged
    assert.equal(second.read, 0);

    const replay = () =>
      client.workflow.execute(rejectReplay, {
        taskQueue: cfg.temporal.taskQueue,
        workflowId: `replay-batch-${uniqueSuffix()}`,
        args: [{ filter: { reason: 'UNKNOWN_SITE' } }],
      });
    const r1 = await replay();
    // Object a's site-6 press and object b's request are admitted; b's copy of a's press is a DUPLICATE.
    assert.deepEqual(r1.batch, { objects: 2, admitted: 2, failedObjects: [] });
    assert.equal(r1.loaded, 2);

    // The same objects loaded once into a database that knew site 6 from the start.
    const cleanWorker = await startTestWorker(clean);
    try {
      await runBatch(cleanWorker.env.client, clean, { source });
    } finally {
      await cleanWorker.stop();
    }
    const knex = createKnex(cfg.databaseUrl, 2);
    const cleanKnex = createKnex(clean.databaseUrl, 2);
    try {
      const actual = await stateBySite(knex);
      assert.deepEqual(actual, await stateBySite(cleanKnex));
      assert.equal(actual.ratings.length + actual.requests.length, 3);

      const r2 = await replay();
      assert.deepEqual(r2.batch, { objects: 0, admitted: 0, failedObjects: [] });
      assert.equal(r2.loaded, 0);
      assert.deepEqual(await stateBySite(knex), actual);
    } finally {
      await knex.destroy();
      await cleanKnex.destroy();
    }
  });

  it('names an object it can no longer read, and leaves its rejects', async () => {
    const gone = `s3://${cfg.s3.bucket}/lmnh_hist_data_gone.csv`;
    const knex = createKnex(cfg.databaseUrl, 2);
    try {
      const run = await knex('pipeline_run').where({ kind: 'batch' }).first<{ run_id: string }>('run_id');
      await knex('rejected_interaction').insert({
        raw: Buffer.from('2023-03-06 12:00:00,6,2,'),
        reasons: ['UNKNOWN_SITE'],
        run_id: run.run_id,
        source_object: gone,
        source_line: 2,
      });
      const r = await tw.env.client.workflow.execute(rejectReplay, {
        taskQueue: cfg.temporal.taskQueue,
        workflowId: `replay-batch-gone-${uniqueSuffix()}`,
        args: [{ filter: { reason: 'UNKNOWN_SITE' } }],
      });
      assert.deepEqual(r.batch, { objects: 1, admitted: 0, failedObjects: [gone] });
      const left = await knex('rejected_interaction').where({ source_object: gone }).pluck('reasons');
      assert.deepEqual(left, [['UNKNOWN_SITE']]);
    } finally {
      await knex.destroy();
    }
  });
});
