// A deploy with runs in flight, end to end: the previous release's worker (test/fixtures/releases, run as that
// release runs) takes a batch run and the four stream chains under kiosk traffic; the current worker is started
// as a new version of the deployment and made current, and the old worker is stopped the way ECS stops a task.
// Every run must complete, every message and row be stored once, and no workflow task fail on nondeterminism.
// The schema changes in two phases around it: the database starts with the schema of the release in production
// (batch_press as the DUPLICATE registry), the expand step runs while the previous release loads, and the
// contract steps once it is gone: batch_press dropped, then the rows given their raw bytes (an expand step
// held behind it) and batch_line archived; DUPLICATE and every line's raw bytes stay exact across all of it.
// With RECORD_HISTORY=1 it also saves a history of each workflow type run wholly by the previous release
// (test/fixtures/histories/release-<commit>-<type>.history.pb), which release-replay.test.ts replays.
import type { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectPublisher, type Publisher } from '../../../kafka/publisher';
import { generateHistory } from '../../../simulator/history-files';
import { simulateTraffic } from '../../../simulator/kiosk-publishing';
import { REAL_NOISE } from '../../../simulator/kiosk-traffic';
import type { BatchSummary } from '../../../batch/workflow';
import { streamWorkflowId } from '../../../contracts/stream';
import { assertDuplicateExact, assertRawKept, createBucketWith, deleteBucket } from '../../support/batch';
import { sigkill, startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { assertDeterministic, runVersion, setCurrentVersion, taskQueueRuns } from '../../support/deployments';
import { SHARED_DATA, uniqueSuffix } from '../../support/isolated-env';
import { extractRelease, startReleaseWorker, type ExtractedRelease } from '../../support/release';
import { recordIfAsked } from '../../support/replay';
import {
  assertLedger,
  assertStoredExactly,
  assertWorkflowsBalanced,
  countStored,
  CRASH_BRIDGE_ENV,
  expectedOutcome,
  readTopic,
  setUpStream,
  tearDownStream,
  waitUntil,
  workflowBundleFile,
  type StreamEnv,
} from '../../support/stream';

const PARTITIONS = 4;
const RATE = 250;
const SECONDS = 60;
const TOTAL = RATE * SECONDS;
// 16 objects loaded one at a time: each costs its four activities' round trips whatever the machine's speed,
// so the run is still loading when the old worker stops.
const HISTORY = {
  rows: 160_000,
  files: 16,
  seed: 15,
  startDate: '2023-03-01',
  days: 30,
  sites: [0, 1, 2, 3, 4, 5],
};
const NEW_BUILD = 'current';
// This release's two-phase schema changes: the expand step, and the contract step after it with what follows
// it (the next change's expand and contract steps), held together.
const EXPAND = '20261207000300_batch_line_registry';
const CONTRACT = '20261207000400_drop_batch_press';
const HELD = [CONTRACT, '20261207000500_interaction_raw', '20261207000600_batch_line_archive'].join(', ');

/**
 * Runs a workflow by type name, as an operator's client does. When recording, the id is the fixture's name:
 * replays take the file name as the workflow id, and ids derived from it (a child's) must match.
 */
async function execute(client: Client, taskQueue: string, type: string, args: unknown[], fixture?: string) {
  const workflowId = process.env.RECORD_HISTORY === '1' && fixture ? fixture : `${type}-${uniqueSuffix()}`;
  const handle = await client.workflow.start(type, { taskQueue, workflowId, args });
  const result: unknown = await handle.result();
  return { handle, result, fixture };
}

/** The runs of a workflow id, oldest first. */
async function runsOf(client: Client, workflowId: string) {
  const runs = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(w);
  return runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
}

describe('deploy: the current worker over the previous release, with runs in flight', function () {
  this.timeout(600_000);
  const deploymentName = `kiosk-test-${uniqueSuffix()}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-deploy-'));
  let env: StreamEnv;
  let release: ExtractedRelease;
  let publisher: Publisher | undefined;
  const processes: RunningProcess[] = [];

  before(async () => {
    release = extractRelease();
    env = await setUpStream('deploy', PARTITIONS);
    // Back to the schema in production before this release: its migrations from the expand step on undone.
    while ((await env.knex('knex_migrations').pluck('name')).includes(EXPAND)) await env.knex.migrate.down();
    await generateHistory({ ...HISTORY, out: dir });
    const csvs = fs.readdirSync(dir).filter((f) => f.endsWith('.csv'));
    await createBucketWith(env.cfg, dir, csvs, 'generated/');
    await createBucketWith(env.cfg, SHARED_DATA, undefined, 'real/');
    publisher = await connectPublisher(env.cfg.kafka, env.cfg.kafka.topic);
  });
  after(async () => {
    for (const p of processes) if (p.child.exitCode === null) await sigkill(p);
    await publisher?.close();
    await deleteBucket(env.cfg);
    await tearDownStream(env);
    release?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('completes every run, stores everything once and fails no workflow task', async () => {
    const { cfg, client, knex } = env;
    const taskQueue = cfg.temporal.taskQueue;
    // The operator's command, retried until the server has seen the version's workers poll.
    const promote = async (buildId: string): Promise<string> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const run = startEntryPoint('client.ts', cfg, [
          'deploy',
          '--deployment',
          deploymentName,
          'promote',
          buildId,
        ]);
        if ((await run.exited) === 0) return run.output();
        if (Date.now() > deadline) throw new Error(run.output());
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    // The deploy's last step, `db migrate --contract`: its exit code and output.
    const contract = async (): Promise<{ code: number | string; output: string }> => {
      const run = startEntryPoint('client.ts', cfg, ['db', 'migrate', '--contract'], {
        TEMPORAL_DEPLOYMENT_NAME: deploymentName,
      });
      const code = await run.exited;
      return { code, output: run.output() };
    };
    const versionEnv = (buildId: string) => ({
      TEMPORAL_DEPLOYMENT_NAME: deploymentName,
      TEMPORAL_WORKER_BUILD_ID: buildId,
    });

    // The previous release, as deployed: a release that knows Worker Versioning is made the current version.
    const old = startReleaseWorker(release, cfg, versionEnv(release.commit));
    processes.push(old);
    await waitForOutput(old, /polling task queue/, 120_000);
    const oldVersioned = release.versioned;
    if (oldVersioned)
      await setCurrentVersion({ client, namespace: cfg.temporal.namespace, deploymentName }, release.commit);
    const bridge = startEntryPoint('bridge/main.ts', cfg, [], {
      ...CRASH_BRIDGE_ENV,
      STREAM_CONTINUE_AS_NEW_EVENTS: '200',
    });
    processes.push(bridge);
    await waitForOutput(bridge, /bridge: consuming/);

    // Runs the previous release completes on its own: the histories a release adds to the fixtures.
    const fixture = (type: string) => `release-${release.commit}-${type}.history.pb`;
    const recorded = [
      await execute(client, taskQueue, 'healthCheck', [], fixture('healthCheck')),
      await execute(
        client,
        taskQueue,
        'batchWorkflow',
        [{ source: `s3://${cfg.s3.bucket}/real/` }],
        fixture('batchWorkflow'),
      ),
      await execute(
        client,
        taskQueue,
        'rejectReplay',
        [{ filter: { source: 'batch' } }],
        fixture('rejectReplay'),
      ),
    ];

    const producing = simulateTraffic(publisher!, {
      rate: RATE,
      durationS: SECONDS,
      noise: REAL_NOISE,
      seed: 15,
    });
    const batch = await client.workflow.start('batchWorkflow', {
      taskQueue,
      workflowId: `batch-deploy-${uniqueSuffix()}`,
      args: [{ source: `s3://${cfg.s3.bucket}/generated/`, maxParallel: 1 }],
    });
    // The deploy's first step, `db migrate`, while the previous release loads: the expand step only. Not
    // waited for here: the traffic lasts a minute, and the chains must move to the new version within it.
    const expand = startEntryPoint('client.ts', cfg, ['db', 'migrate']);
    // Every chain has continued as new at least once on the old worker before the deploy.
    await waitUntil(
      'every stream chain to continue as new on the previous release',
      async () => {
        for (let p = 0; p < PARTITIONS; p++) {
          if ((await runsOf(client, streamWorkflowId(cfg.kafka.topic, p))).length < 2) return false;
        }
        return true;
      },
      120_000,
      1000,
    );
    const firstStreamRun = (await runsOf(client, streamWorkflowId(cfg.kafka.topic, 0)))[0]!;
    const streamHistory = await client.workflow
      .getHandle(firstStreamRun.workflowId, firstStreamRun.runId)
      .fetchHistory();
    assert.equal((await batch.describe()).status.name, 'RUNNING', 'the batch run should be in flight');
    assert.equal(await expand.exited, 0, expand.output());
    assert.match(expand.output(), new RegExp(`applied: .*${EXPAND}`));
    assert.match(expand.output(), new RegExp(`held \\(contract steps and what follows\\): ${HELD};`));

    // The deploy: the new version polls, becomes current, and the old task gets SIGTERM.
    const bundle = await workflowBundleFile();
    const current = startEntryPoint('worker.ts', cfg, [], {
      WORKFLOW_BUNDLE_PATH: bundle,
      ...versionEnv(NEW_BUILD),
    });
    processes.push(current);
    await waitForOutput(current, new RegExp(`polling task queue .*version ${deploymentName}\\.${NEW_BUILD}`));
    const promoted = await promote(NEW_BUILD);
    assert.match(
      promoted,
      oldVersioned ? /current version: .*:current \(was / : /\(was unversioned workers\)/,
    );
    // Contract steps wait while the previous release's worker still polls (and, when versioned, holds runs).
    const early = await contract();
    assert.equal(early.code, 3, early.output);
    assert.match(
      early.output,
      new RegExp(`contract steps refused, nothing contracted \\(pending: ${HELD}\\)`),
    );
    assert.match(
      early.output,
      oldVersioned
        ? new RegExp(`a worker of ${deploymentName}:${release.commit} `)
        : /an unversioned worker .* polled task queue /,
    );
    // A versioned previous release keeps serving its pinned runs until they end; an unversioned one has none.
    if (!oldVersioned) {
      assert.equal(
        (await batch.describe()).status.name,
        'RUNNING',
        'the batch run should outlive the old worker',
      );
      old.child.kill('SIGTERM');
      assert.equal(await old.exited, 0, old.output());
    }

    // Each chain continues as new under the traffic, and its next run is Auto-Upgrade on the new version.
    await waitUntil(
      'every stream chain to run on the new version',
      async () => {
        for (let p = 0; p < PARTITIONS; p++) {
          await assertDeterministic(client, streamWorkflowId(cfg.kafka.topic, p));
          const v = await runVersion(client, streamWorkflowId(cfg.kafka.topic, p));
          if (v.buildId !== NEW_BUILD || v.behavior !== 'VERSIONING_BEHAVIOR_AUTO_UPGRADE') return false;
        }
        return true;
      },
      SECONDS * 1000,
      1000,
    );

    await waitUntil(
      'the batch run to end',
      async () => {
        await assertDeterministic(client, batch.workflowId);
        return (await batch.describe()).status.name !== 'RUNNING';
      },
      300_000,
      1000,
    );
    const summary = (await batch.result()) as BatchSummary;
    if (oldVersioned) {
      old.child.kill('SIGTERM');
      assert.equal(await old.exited, 0, old.output());
    }
    await producing;

    // The batch run: every generated row stored once, as an interaction or a reject.
    assert.equal(summary.read, HISTORY.rows);
    assert.equal(summary.loaded + summary.rejected, summary.read);
    const stored = await knex.raw<{ rows: { n: string; distinct_lines: string }[] }>(
      `select count(*) as n, count(distinct (source_object, source_line)) as distinct_lines from (
         select source_object, source_line from rating_interaction where source_object like '%generated/%'
         union all select source_object, source_line from request_interaction where source_object like '%generated/%'
         union all select source_object, source_line from rejected_interaction where source_object like '%generated/%'
       ) s`,
    );
    assert.equal(Number(stored.rows[0]!.n), HISTORY.rows);
    assert.equal(Number(stored.rows[0]!.distinct_lines), HISTORY.rows);

    // The stream: every message published stored once, the ledger and the workflows balanced.
    const { topic } = cfg.kafka;
    await waitUntil(
      'every message stored',
      async () => (await countStored(knex, topic)) >= TOTAL,
      120_000,
      500,
    );
    const records = await readTopic(cfg, TOTAL);
    assert.equal(records.length, TOTAL);
    const expected = expectedOutcome(records);
    await assertStoredExactly(knex, topic, expected);
    await assertLedger(knex, topic, expected);
    await waitUntil(
      'the workflows to account for every message',
      () =>
        assertWorkflowsBalanced(env, records).then(
          () => true,
          () => false,
        ),
      30_000,
    );

    // Once the old worker's last long poll has aged out, the contract step runs.
    let last = { code: -1 as number | string, output: '' };
    await waitUntil(
      'db migrate --contract to pass once the previous release is gone',
      async () => (last = await contract()).code === 0,
      180_000,
      10_000,
    ).catch((err: Error) => Promise.reject(new Error(`${err.message}; last answer: ${last.output}`)));
    assert.match(last.output, new RegExp(`applied \\(contract\\): ${HELD}`));
    const registry = await knex.raw<{
      rows: { press: string | null; line: string | null; archive: string | null }[];
    }>(
      `select to_regclass('batch_press')::text as press, to_regclass('batch_line')::text as line,
         to_regclass('batch_line_archive')::text as archive`,
    );
    assert.deepEqual(
      registry.rows[0],
      { press: null, line: null, archive: 'batch_line_archive' },
      'the contract steps dropped batch_press and archived batch_line',
    );
    // Both releases' loads, judged in batch_press and moved by the contract steps: SPEC 3 holds, and every
    // line's raw bytes are where the load finds them.
    await assertDuplicateExact(knex);
    await assertRawKept(knex);
    // A load after it can only use the new registry: the lowest object again, which holds keys others lost.
    const lowest = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.csv'))
      .sort()[0]!;
    const uri = `s3://${cfg.s3.bucket}/generated/${lowest}`;
    const linesOf = async () =>
      (
        await knex.raw<{ rows: { n: number }[] }>(
          `select (select count(*) from rating_interaction where source_object = ?)
             + (select count(*) from request_interaction where source_object = ?)
             + (select count(*) from rejected_interaction where source_object = ?) as n`,
          [uri, uri, uri],
        )
      ).rows[0]!.n;
    const storedBefore = Number(await linesOf());
    const reprocess = await execute(client, taskQueue, 'batchWorkflow', [
      { source: `s3://${cfg.s3.bucket}/generated/`, keys: [lowest], reprocess: true },
    ]);
    const again = reprocess.result as BatchSummary;
    assert.deepEqual(
      [again.read, again.loaded + again.rejected, Number(await linesOf())],
      [storedBefore, storedBefore, storedBefore],
    );
    await assertDuplicateExact(knex);
    await assertRawKept(knex);

    // Where the runs are now: a run started after the deploy is on the new version.
    const after = await execute(client, taskQueue, 'healthCheck', []);
    assert.equal((await runVersion(client, after.handle.workflowId)).buildId, NEW_BUILD);
    // An unversioned release's runs have no version to stay on: they moved at their next task.
    assert.equal(
      (await runVersion(client, batch.workflowId)).buildId,
      oldVersioned ? release.commit : NEW_BUILD,
    );

    // No run failed or stopped, and no workflow task failed on nondeterminism.
    const runs = await taskQueueRuns(client, taskQueue);
    assert.deepEqual(
      runs.filter(
        (r) => r.nondeterministic > 0 || !['COMPLETED', 'CONTINUED_AS_NEW', 'RUNNING'].includes(r.status),
      ),
      [],
    );
    for (const p of [old, current]) assert.doesNotMatch(p.output(), /nondetermini/i);
    // A run the unversioned release began has no behavior of its own: it moved, and stayed on the new version
    // with the worker's default (pinned) until it continued as new.
    const moved = runs.filter((r) => r.taskBuildIds[0] === '' && r.taskBuildIds.includes(NEW_BUILD));
    assert.ok(
      moved.some((r) => r.workflowId === batch.workflowId),
      'the batch run moved',
    );
    if (!oldVersioned) {
      for (const r of moved) {
        assert.deepEqual(await runVersion(client, r.workflowId, r.runId), {
          behavior: 'VERSIONING_BEHAVIOR_PINNED',
          buildId: NEW_BUILD,
        });
      }
    }
    assert.ok(runs.filter((r) => r.type === 'streamPartition').every((r) => r.status !== 'COMPLETED'));

    for (const { handle, fixture: name } of recorded) recordIfAsked(name!, await handle.fetchHistory());
    // A stream run's commands do not depend on its workflow id.
    recordIfAsked(fixture('streamPartition'), streamHistory);
    console.log(
      `      ${runs.length} runs on ${taskQueue}; batch: ${summary.loaded} loaded, ${summary.rejected} rejected; ` +
        `stream: ${TOTAL} messages, ${expected.invalid.size} rejects`,
    );
  });
});
