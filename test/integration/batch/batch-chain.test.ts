// The per-object chain on the real files and services, with faults put between its steps: each step is an
// activity of its own, retried on its own, and a load whose staging was emptied (what a PostgreSQL restart
// does to unlogged tables) makes the object go through the chain again instead of loading part of it.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { temporal } from '@temporalio/proto';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createActivities } from '../../../activities';
import { stagedTables } from '../../../batch/staging';
import { closeActivityDeps, createActivityDeps } from '../../../infra/activity-deps';
import { createWorker } from '../../../worker';
import { createBucketWith, deleteBucket, runBatch } from '../../support/batch';
import { createDatabase, dropDatabase, isolatedConfig, SHARED_DATA } from '../../support/isolated-env';
import { workflowBundle } from '../../support/test-worker';

type Activities = ReturnType<typeof createActivities>;

/** The activity types scheduled in a history, in order. */
function scheduled(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((n): n is string => n !== undefined && n !== null);
}

const count = (types: string[], type: string) => types.filter((t) => t === type).length;

describe('batch chain: extract, validate, transform, load, each on its own', function () {
  this.timeout(180_000);
  const cfg = isolatedConfig('batch-chain');
  const source = `s3://${cfg.s3.bucket}/`;

  before(async () => {
    await createBucketWith(cfg, SHARED_DATA);
  });
  beforeEach(async () => {
    await createDatabase(cfg.databaseUrl);
  });
  afterEach(async () => {
    await dropDatabase(cfg.databaseUrl);
  });
  after(async () => {
    await deleteBucket(cfg);
  });

  /** A batch run on a worker whose activities are the real ones, some wrapped by `fault`. */
  async function runWith(fault: (real: Activities) => Partial<Activities>) {
    const deps = createActivityDeps(cfg);
    const real = createActivities(deps);
    const { worker, close } = await createWorker(cfg, cfg.temporal.taskQueue, {
      workflowBundle: await workflowBundle(),
      activities: { ...real, ...fault(real) },
    });
    const running = worker.run();
    const env = await TestWorkflowEnvironment.createFromExistingServer({
      address: cfg.temporal.address,
      namespace: cfg.temporal.namespace,
    });
    try {
      const summary = await runBatch(env.client, cfg, { source });
      const history = await env.client.workflow.getHandle(summary.workflowId).fetchHistory();
      return { summary, steps: scheduled(history) };
    } finally {
      worker.shutdown();
      await running;
      await close();
      await env.teardown();
      await closeActivityDeps(deps);
    }
  }

  it('runs the four steps per object in order, and a failed load is retried without reading S3 again', async () => {
    let failed = false;
    const { summary, steps } = await runWith((real) => ({
      loadObject: async (input) => {
        if (!failed) {
          failed = true;
          throw new Error('connection lost (injected)');
        }
        return real.loadObject(input);
      },
    }));
    assert.equal(summary.read, 2137);
    assert.deepEqual(summary.rejectedByReason, { DUPLICATE: 6, OUTSIDE_HOURS: 52 });
    const chain = steps.filter((s) => /Object$/.test(s));
    assert.deepEqual(
      ['extractObject', 'validateObject', 'transformObject', 'loadObject'].map((t) => count(chain, t)),
      [4, 4, 4, 4],
      'a retry is an attempt of the same scheduled activity, not a new extract',
    );
    // Per object, extract before validate before transform before load (objects overlap, steps do not).
    const first = (t: string) => chain.indexOf(t);
    assert.ok(first('extractObject') < first('validateObject'));
    assert.ok(first('validateObject') < first('transformObject'));
    assert.ok(first('transformObject') < first('loadObject'));
    assert.ok(failed);
  });

  it('redoes an object whose staging was emptied before its load, and loads it whole', async () => {
    let emptied = false;
    const { summary, steps } = await runWith((real) => ({
      transformObject: async (input) => {
        const result = await real.transformObject(input);
        if (!emptied) {
          emptied = true;
          const client = new pg.Client({ connectionString: cfg.databaseUrl });
          await client.connect();
          const t = stagedTables(input.stem);
          await client.query(`truncate ${t.raw}, ${t.judged}, ${t.presses}`).finally(() => client.end());
        }
        return result;
      },
    }));
    assert.ok(emptied);
    assert.equal(summary.read, 2137);
    assert.equal(summary.read, summary.loaded + summary.rejected);
    assert.deepEqual(summary.rejectedByReason, { DUPLICATE: 6, OUTSIDE_HOURS: 52 });
    assert.equal(count(steps, 'extractObject'), 5, 'the emptied object is extracted again');
    assert.equal(count(steps, 'loadObject'), 5);
  });
});
