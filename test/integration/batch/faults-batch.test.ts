// The fault matrix, batch side: while a 400,000-row run is in flight, one service of the stack is SIGKILLed
// (as a crash would) and restarted with the operators' own commands. The run must finish by itself with
// exactly the tables of a clean run, and the worker must outlive every outage.
import { countMismatches } from '../../support/report-from-rows';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateHistory } from '../../../simulator/history-files';
import { createKnex } from '../../../infra/db';
import { createTemporalClient } from '../../../infra/temporal';
import { batchWorkflow, type BatchSummary } from '../../../batch/workflow';
import {
  createBucketWith,
  deleteBucket,
  finalBatchState,
  pendingActivityTypes,
  runBatch,
} from '../../support/batch';
import { sigkill, startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { createDatabase, dropDatabase, isolatedConfig, uniqueSuffix } from '../../support/isolated-env';
import { outage, restartStack, type StackService } from '../../support/stack-control';
import { workflowBundleFile } from '../../support/stream';
import { startTestWorker } from '../../support/test-worker';

// Activity names of the per-object chain's first and last steps.
const EXTRACT = /^(stageObject|extract)/;
const LOAD = /^load(Object)?$/;

interface FaultCase {
  name: string;
  service: StackService;
  during: RegExp;
  /** The worker dies too, in the same moment. */
  withWorker?: boolean;
}

const CASES: FaultCase[] = [
  { name: 'PostgreSQL killed during an extract', service: 'postgres', during: EXTRACT },
  { name: 'PostgreSQL killed during a load', service: 'postgres', during: LOAD },
  { name: 'the S3 server killed during an extract', service: 's3', during: EXTRACT },
  { name: 'the Temporal server killed during a run', service: 'temporal', during: LOAD },
  { name: 'the worker and PostgreSQL killed together', service: 'postgres', during: LOAD, withWorker: true },
];

describe('faults: a service of the stack killed during a batch run', function () {
  this.timeout(600_000);
  const clean = isolatedConfig('fault-batch-clean');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-faults-'));
  const source = `s3://${clean.s3.bucket}/`;
  let bundle: string;
  let cleanSummary: BatchSummary;
  let expected: Awaited<ReturnType<typeof finalBatchState>>;

  before(async () => {
    await generateHistory({
      rows: 400_000,
      files: 4,
      seed: 15,
      out: dir,
      startDate: '2023-03-01',
      days: 30,
      sites: [0, 1, 2, 3, 4, 5],
    });
    await createBucketWith(clean, dir, fs.readdirSync(dir));
    await createDatabase(clean.databaseUrl);
    bundle = await workflowBundleFile();
    const tw = await startTestWorker(clean);
    try {
      cleanSummary = await runBatch(tw.env.client, clean, { source });
    } finally {
      await tw.stop();
    }
    const knex = createKnex(clean.databaseUrl, 2);
    try {
      expected = await finalBatchState(knex);
    } finally {
      await knex.destroy();
    }
  });
  after(async () => {
    await restartStack(); // whatever a failed case left down
    await dropDatabase(clean.databaseUrl);
    await deleteBucket(clean);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`recovers by itself from ${c.name}, with the tables of a clean run`, async () => {
      const cfg = { ...isolatedConfig(`fault-batch-${c.service}`), s3: clean.s3 };
      await createDatabase(cfg.databaseUrl);
      const client = await createTemporalClient(cfg.temporal);
      const startWorker = () => startEntryPoint('worker.ts', cfg, [], { WORKFLOW_BUNDLE_PATH: bundle });
      let worker: RunningProcess = startWorker();
      try {
        await waitForOutput(worker, /polling task queue/);
        const workflowId = `batch-fault-${c.service}-${uniqueSuffix()}`;
        const handle = await client.workflow.start(batchWorkflow, {
          taskQueue: cfg.temporal.taskQueue,
          workflowId,
          args: [{ source }],
        });
        const deadline = Date.now() + 120_000;
        while (!(await pendingActivityTypes(client.workflow, workflowId)).some((t) => c.during.test(t))) {
          assert.ok(Date.now() < deadline, `never saw an activity matching ${c.during} running`);
          await new Promise((r) => setTimeout(r, 25));
        }
        await new Promise((r) => setTimeout(r, 300));
        const killedWorker = c.withWorker === true ? sigkill(worker) : undefined;
        await outage(c.service, 2_000);
        if (killedWorker !== undefined) {
          await killedWorker;
          worker = startWorker();
        }

        const summary = await handle.result();
        assert.equal(worker.child.exitCode, null, `the worker exited:\n${worker.output()}`);
        assert.equal(summary.read, cleanSummary.read);
        assert.equal(summary.read, summary.loaded + summary.rejected);
        assert.deepEqual(summary.rejectedByReason, cleanSummary.rejectedByReason);
        const knex = createKnex(cfg.databaseUrl, 2);
        try {
          const actual = await finalBatchState(knex);
          assert.equal(actual.ratings.length, expected.ratings.length);
          assert.deepEqual(actual, expected);
          const ledger = await knex('pipeline_run').where({ kind: 'batch' }).select('status', 'read_count');
          assert.deepEqual(ledger, [{ status: 'completed', read_count: cleanSummary.read }]);
          // The report's counts move in the load's transaction: an outage leaves them equal to the rows.
          assert.deepEqual(await countMismatches(knex), [], 'interaction_count differs from the rows');
        } finally {
          await knex.destroy();
        }
      } finally {
        if (worker.child.exitCode === null) await sigkill(worker);
        await client.connection.close();
        await dropDatabase(cfg.databaseUrl);
      }
    });
  }
});
