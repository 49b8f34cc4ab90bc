// Worker Deployments in tests: switching versions with the operator's command (cli/deploy.ts), and what the
// server says about each run's version and about the workers that completed its workflow tasks.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { promoteVersion, type DeploymentTarget } from '../../cli/deploy';

/**
 * Makes a version current. The server knows a version only once one of its workers has polled, so this retries
 * until then.
 */
export async function setCurrentVersion(
  t: DeploymentTarget,
  buildId: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await promoteVersion(t, buildId);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export interface RunVersion {
  behavior: string | undefined;
  buildId: string | undefined;
}

/** The versioning behavior and build id a run has now (both undefined while it is unversioned). */
export async function runVersion(client: Client, workflowId: string, runId?: string): Promise<RunVersion> {
  const d = await client.workflow.getHandle(workflowId, runId).describe();
  const info = d.raw.workflowExecutionInfo?.versioningInfo;
  const behavior = info?.behavior ? temporal.api.enums.v1.VersioningBehavior[info.behavior] : undefined;
  return { behavior, buildId: info?.deploymentVersion?.buildId ?? undefined };
}

export interface TaskQueueRun {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  nondeterministic: number;
  /** Build ids of the workers that completed its workflow tasks, in order ('' for unversioned workers). */
  taskBuildIds: string[];
}

const NONDETERMINISM =
  temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR;

/** Every run on the task queue, with its workflow tasks that failed on nondeterminism and who completed them. */
export async function taskQueueRuns(client: Client, taskQueue: string): Promise<TaskQueueRun[]> {
  const runs: TaskQueueRun[] = [];
  for await (const w of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    const events = history.events ?? [];
    runs.push({
      workflowId: w.workflowId,
      runId: w.runId,
      type: w.type,
      status: w.status.name,
      nondeterministic: events.filter((e) => e.workflowTaskFailedEventAttributes?.cause === NONDETERMINISM)
        .length,
      taskBuildIds: events
        .filter((e) => e.workflowTaskCompletedEventAttributes)
        .map((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? ''),
    });
  }
  return runs;
}

/** Fails at once when a workflow task of the run failed on nondeterminism: the run would retry it forever. */
export async function assertDeterministic(client: Client, workflowId: string, runId?: string): Promise<void> {
  const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  const failed = events.find((e) => e.workflowTaskFailedEventAttributes?.cause === NONDETERMINISM);
  if (failed) {
    const message = failed.workflowTaskFailedEventAttributes?.failure?.message ?? '';
    throw new Error(`${workflowId}: a workflow task failed on nondeterminism: ${message}`);
  }
}
