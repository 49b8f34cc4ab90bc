// Worker Versioning with the current code as two versions of one deployment, A then B: what a deploy does to
// runs in flight. A batch run started on A stays pinned to A until it ends, although B became current while
// it ran; new runs start on B; a stream chain moves to B at its next workflow task.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateHistory } from '../../../simulator/history-files';
import { readReplayValues } from '../../../simulator/kiosk-publishing';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { createWorker } from '../../../worker';
import pg from 'pg';
import { batchWorkflow } from '../../../batch/workflow';
import { BATCH_WRITE_LOCK_KEY } from '../../../batch/partitions';
import {
  messagesSignal,
  STREAM_WORKFLOW_TYPE,
  streamWorkflowId,
  type StreamMessage,
  type StreamWorkflowInput,
} from '../../../contracts/stream';
import { createBucketWith, deleteBucket } from '../../support/batch';
import { olderWorkersLeft, openPinnedRuns } from '../../../cli/deploy';
import { runVersion, setCurrentVersion, taskQueueRuns } from '../../support/deployments';
import { uniqueSuffix } from '../../support/isolated-env';
import {
  countStored,
  SAMPLE_FILE,
  setUpStream,
  tearDownStream,
  waitUntil,
  type StreamEnv,
} from '../../support/stream';
import { workflowBundle } from '../../support/test-worker';
import { workerDeploymentOptions } from '../../../infra/worker-deployment';

const HISTORY = {
  rows: 100_000,
  files: 4,
  seed: 7,
  startDate: '2023-03-01',
  days: 30,
  sites: [0, 1, 2, 3, 4, 5],
};

describe('Worker Versioning: a deploy pins batch runs and moves stream chains', function () {
  this.timeout(180_000);
  let env: StreamEnv;
  const deploymentName = `kiosk-test-${uniqueSuffix()}`;
  const stops: (() => Promise<void>)[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-versioning-'));

  const target = () => ({ client: env.client, namespace: env.cfg.temporal.namespace, deploymentName });

  async function startVersion(buildId: string): Promise<void> {
    const version: WorkerDeploymentVersion = { deploymentName, buildId };
    const { worker, close } = await createWorker(env.cfg, env.cfg.temporal.taskQueue, {
      workflowBundle: await workflowBundle(),
      workerDeploymentOptions: workerDeploymentOptions(version),
    });
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await running;
      await close();
    });
  }

  before(async () => {
    env = await setUpStream('versioning', 1);
    // Objects big enough (4 of 25,000 rows, loaded one at a time) for the run to be in flight at the deploy.
    await generateHistory({ ...HISTORY, out: dir });
    await createBucketWith(
      env.cfg,
      dir,
      fs.readdirSync(dir).filter((f) => f.endsWith('.csv')),
    );
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
    await deleteBucket(env.cfg);
    await tearDownStream(env);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finishes a batch run on the version it started on, and moves the stream chain', async () => {
    const { cfg, client } = env;
    const taskQueue = cfg.temporal.taskQueue;
    await startVersion('A');
    await setCurrentVersion(target(), 'A');

    const messages: StreamMessage[] = readReplayValues(SAMPLE_FILE)
      .slice(0, 200)
      .map((v, offset) => ({ offset, value: v.toString('base64'), timestamp: Date.UTC(2023, 2, 6, 12) }));
    const streamId = streamWorkflowId(cfg.kafka.topic, 0);
    const input: StreamWorkflowInput = { topic: cfg.kafka.topic, partition: 0 };
    const signal = (from: number, to: number) =>
      client.workflow.signalWithStart(STREAM_WORKFLOW_TYPE, {
        workflowId: streamId,
        taskQueue,
        args: [input],
        signal: messagesSignal,
        signalArgs: [{ messages: messages.slice(from, to) }],
      });
    await signal(0, 100);
    await waitUntil(
      'the first messages',
      async () => (await countStored(env.knex, cfg.kafka.topic)) >= 100,
      30_000,
    );

    // Batch loads wait while this session holds their lock, so the run is still open at the deploy however
    // fast this machine is (the 4 objects of 25,000 rows can be loaded before version B has started).
    const holder = new pg.Client({ connectionString: cfg.databaseUrl });
    await holder.connect();
    stops.push(() => holder.end());
    await holder.query(`select pg_advisory_lock(${BATCH_WRITE_LOCK_KEY})`);
    const batch = await client.workflow.start(batchWorkflow, {
      taskQueue,
      workflowId: `batch-pinned-${uniqueSuffix()}`,
      args: [{ source: `s3://${cfg.s3.bucket}/`, maxParallel: 1 }],
    });
    await waitUntil(
      'the batch run to start on A',
      async () => (await runVersion(client, batch.workflowId)).buildId === 'A',
      30_000,
    );

    await startVersion('B');
    await setCurrentVersion(target(), 'B');
    await waitUntil(
      'version A to count the batch run',
      async () => (await openPinnedRuns(target(), 'A')) === 1,
      10_000,
    );
    // A contract migration would wait: a run is pinned to A, and A's worker polls.
    const blockers = await olderWorkersLeft(target(), taskQueue);
    assert.equal(blockers.length, 2, blockers.join('\n'));
    assert.equal(blockers[0], `${deploymentName}:A still has 1 open pinned runs`);
    assert.match(
      blockers[1]!,
      new RegExp(`^a worker of ${deploymentName}:A \\(.+\\) polled task queue ${taskQueue} `),
    );
    await holder.query(`select pg_advisory_unlock(${BATCH_WRITE_LOCK_KEY})`);
    const before = (await batch.fetchHistory()).events?.filter(
      (e) => e.workflowTaskCompletedEventAttributes,
    ).length;

    await signal(100, 200);
    const summary = await batch.result();
    await waitUntil('version A to drain', async () => (await openPinnedRuns(target(), 'A')) === 0, 10_000);
    // Drained, but A's worker still polls: still no contract step.
    const polling = await olderWorkersLeft(target(), taskQueue);
    assert.equal(polling.length, 1, polling.join('\n'));
    assert.match(polling[0]!, new RegExp(`^a worker of ${deploymentName}:A `));
    assert.equal(summary.read, summary.loaded + summary.rejected);
    assert.ok(summary.loaded > 0);
    await waitUntil(
      'every message',
      async () => (await countStored(env.knex, cfg.kafka.topic)) === 200,
      30_000,
    );

    const later = await client.workflow.execute(batchWorkflow, {
      taskQueue,
      workflowId: `batch-new-${uniqueSuffix()}`,
      args: [{ source: `s3://${cfg.s3.bucket}/` }],
    });
    assert.equal(later.loaded, 0, 'every object was loaded by the pinned run');

    const runs = await taskQueueRuns(client, taskQueue);
    const pinned = runs.find((r) => r.workflowId === batch.workflowId)!;
    assert.ok(
      pinned.taskBuildIds.length > (before ?? 0),
      'the pinned run had work left when B became current',
    );
    assert.deepEqual([...new Set(pinned.taskBuildIds)], ['A']);
    assert.deepEqual(await runVersion(client, batch.workflowId), {
      behavior: 'VERSIONING_BEHAVIOR_PINNED',
      buildId: 'A',
    });

    const fresh = runs.find((r) => r.workflowId.startsWith('batch-new-'))!;
    assert.deepEqual([...new Set(fresh.taskBuildIds)], ['B']);

    const stream = runs.filter((r) => r.workflowId === streamId).flatMap((r) => r.taskBuildIds);
    assert.equal(stream[0], 'A');
    assert.equal(stream.at(-1), 'B');
    assert.deepEqual(await runVersion(client, streamId), {
      behavior: 'VERSIONING_BEHAVIOR_AUTO_UPGRADE',
      buildId: 'B',
    });

    assert.deepEqual(
      runs.filter((r) => r.nondeterministic > 0),
      [],
    );
  });
});
