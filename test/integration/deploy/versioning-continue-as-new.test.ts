// What the stack's Temporal server does with a run pinned to version A that continues as new asking to
// upgrade (initialVersioningBehavior AUTO_UPGRADE) after B became current: the new run starts on B. Server
// 1.29.1 (Temporal CLI 1.5.1) kept it on A; the stack's server decides whether a pinned stream chain could
// move at continue-as-new (README, "Deployment").
import type { Client } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import assert from 'node:assert/strict';
import { createTemporalClient } from '../../../infra/temporal';
import { workerDeploymentOptions } from '../../../infra/worker-deployment';
import { runVersion, setCurrentVersion, taskQueueRuns } from '../../support/deployments';
import { isolatedConfig, uniqueSuffix } from '../../support/isolated-env';
import { waitUntil } from '../../support/stream';

const WORKFLOW_TYPE = 'pinnedThenContinued';

describe('Worker Versioning: a pinned run continuing as new with initialVersioningBehavior AUTO_UPGRADE', function () {
  this.timeout(180_000);
  const cfg = isolatedConfig('can-upgrade');
  const { namespace, taskQueue } = cfg.temporal;
  const deploymentName = `kiosk-can-${uniqueSuffix()}`;
  const stops: (() => Promise<void>)[] = [];
  let client: Client;
  let bundle: WorkflowBundleWithSourceMap;

  async function startVersion(buildId: string): Promise<void> {
    const connection = await NativeConnection.connect({ address: cfg.temporal.address });
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowBundle: bundle,
      workerDeploymentOptions: workerDeploymentOptions({ deploymentName, buildId }),
    });
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await running;
      await connection.close();
    });
  }

  before(async () => {
    client = await createTemporalClient(cfg.temporal);
    bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../support/workflow-can-upgrade'),
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (m) => console.error(m),
      },
    });
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
    await client?.connection.close();
  });

  it('starts the new run on the current version', async () => {
    const target = { client, namespace, deploymentName };
    await startVersion('A');
    await setCurrentVersion(target, 'A');
    const workflowId = `can-upgrade-${uniqueSuffix()}`;
    const first = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [0] });
    await waitUntil(
      'the first run pinned to A',
      async () => (await runVersion(client, workflowId, first.firstExecutionRunId)).buildId === 'A',
      60_000,
    );
    assert.equal(
      (await runVersion(client, workflowId, first.firstExecutionRunId)).behavior,
      'VERSIONING_BEHAVIOR_PINNED',
    );

    await startVersion('B');
    await setCurrentVersion(target, 'B');
    await first.signal('proceed');
    const latest = client.workflow.getHandle(workflowId);
    await waitUntil(
      'the run after continue-as-new',
      async () => (await latest.describe()).runId !== first.firstExecutionRunId,
      60_000,
    );
    await latest.signal('proceed');
    assert.equal(await latest.result(), 1);

    const runs = await taskQueueRuns(client, taskQueue);
    const byRun = new Map(runs.map((r) => [r.runId, r.taskBuildIds]));
    const second = (await latest.describe()).runId;
    assert.deepEqual(new Set(byRun.get(first.firstExecutionRunId)), new Set(['A']));
    assert.deepEqual(new Set(byRun.get(second)), new Set(['B']), 'the continued run stayed on A');
  });
});
