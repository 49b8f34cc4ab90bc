// DUPLICATE stays deterministic over a history of runs: after two runs started at once, a reprocess that
// frees presses and one that takes them back, the tables equal one clean run of the objects as they are
// then, row for row (SPEC 5). Real files, real workflow, real services.
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKnex } from '../../../infra/db';
import { batchWorkflow } from '../../../batch/workflow';
import { finalBatchState as finalState, createBucketWith, deleteBucket, runBatch } from '../../support/batch';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  SHARED_DATA,
  uniqueSuffix,
} from '../../support/isolated-env';
import { startTestWorker, type TestWorker } from '../../support/test-worker';

const FILES = [
  'lmnh_hist_data_0.csv',
  'lmnh_hist_data_1.csv',
  'lmnh_hist_data_2.csv',
  'lmnh_hist_data_3.csv',
];
const EDITED = 'lmnh_hist_data_1.csv';

/** The edited file's lines that another file repeats, dropped: the presses they held are freed. */
function withoutSharedLines(dir: string): string {
  const lines = (f: string) => fs.readFileSync(path.join(SHARED_DATA, f), 'utf8').split('\n');
  const others = new Set(FILES.filter((f) => f !== EDITED).flatMap((f) => lines(f).slice(1)));
  const kept = lines(EDITED).filter((l, i) => i === 0 || l === '' || !others.has(l));
  assert.ok(kept.length < lines(EDITED).length, 'the real files share lines');
  fs.writeFileSync(path.join(dir, EDITED), kept.join('\n'));
  return dir;
}

describe('batch DUPLICATE over a history of runs and reprocesses', function () {
  this.timeout(300_000);
  const history = isolatedConfig('rejudge');
  const clean = { ...isolatedConfig('rejudge-clean'), s3: history.s3 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-rejudge-'));
  const source = `s3://${history.s3.bucket}/`;
  let tw: TestWorker;
  let historyKnex: Knex;

  before(async () => {
    await createDatabase(history.databaseUrl);
    await createBucketWith(history, SHARED_DATA);
    withoutSharedLines(dir);
    tw = await startTestWorker(history);
    historyKnex = createKnex(history.databaseUrl, 2);
  });
  after(async () => {
    await historyKnex?.destroy();
    await tw?.stop();
    await dropDatabase(history.databaseUrl);
    await deleteBucket(history);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The tables one run over the bucket's current objects leaves in a database of its own. */
  async function cleanRun(): Promise<Awaited<ReturnType<typeof finalState>>> {
    await createDatabase(clean.databaseUrl);
    const cleanWorker = await startTestWorker(clean);
    const knex = createKnex(clean.databaseUrl, 2);
    try {
      await runBatch(cleanWorker.env.client, clean, { source });
      return await finalState(knex);
    } finally {
      await knex.destroy();
      await cleanWorker.stop();
      await dropDatabase(clean.databaseUrl);
    }
  }

  it('two runs started at once over the same objects leave one clean run', async () => {
    const expected = await cleanRun();
    const start = () =>
      tw.env.client.workflow.execute(batchWorkflow, {
        taskQueue: history.temporal.taskQueue,
        workflowId: `batch-rejudge-${uniqueSuffix()}`,
        args: [{ source, maxParallel: 4 }],
      });
    await Promise.all([start(), start()]);
    assert.deepEqual(await finalState(historyKnex), expected);
  });

  it('a new version that frees presses gives them to the next object, as a clean run would', async () => {
    await createBucketWith(history, dir, [EDITED]);
    const expected = await cleanRun();
    await runBatch(tw.env.client, history, { source });
    const actual = await finalState(historyKnex);
    assert.deepEqual(actual, expected);
  });

  it('the lower object taking its presses back makes the higher ones DUPLICATE again', async () => {
    await createBucketWith(history, SHARED_DATA, [EDITED]);
    const expected = await cleanRun();
    await runBatch(tw.env.client, history, { source });
    assert.deepEqual(await finalState(historyKnex), expected);
    // And a reprocess of everything, in one run, changes nothing.
    await runBatch(tw.env.client, history, { source, reprocess: true });
    assert.deepEqual(await finalState(historyKnex), expected);
  });
});
