// Worker Deployments driven the way an operator drives them: the `temporal` CLI the stack installed.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../infra/config';

const TEMPORAL_CLI = path.join(
  process.env.KIOSK_CACHE ?? path.join(os.homedir(), '.cache', 'kiosk-pipeline'),
  'bin',
  'temporal',
);

export function temporalCli(cfg: Config, args: string[]): Promise<string> {
  return promisify(execFile)(
    TEMPORAL_CLI,
    ['--address', cfg.temporal.address, '--namespace', cfg.temporal.namespace, ...args],
    { encoding: 'utf8', timeout: 30_000 },
  ).then((r) => r.stdout);
}

/**
 * Makes a version current. The server knows a version only once one of its workers has polled, so this retries
 * until then.
 */
export async function setCurrentVersion(
  cfg: Config,
  deploymentName: string,
  buildId: string,
  timeoutMs = 60_000,
): Promise<void> {
  const args = ['worker', 'deployment', 'set-current-version'];
  args.push('--deployment-name', deploymentName, '--build-id', buildId, '--yes');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await temporalCli(cfg, args);
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
