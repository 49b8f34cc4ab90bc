// `deploy`: the Worker Deployment steps of a release (terraform/README.md, "Later deployments"). A new version's
// workers poll without getting work until `deploy promote` makes it current; the previous version keeps the runs
// pinned to it, and `deploy drained` says when it has none left and its workers can go.
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Command } from 'commander';
import { loadConfig } from '../infra/config';
import { deploymentName } from '../infra/worker-deployment';
import { contractBlockers, type GateState } from './contract-gate';
import { NotYetError, UsageError } from './exit';
import { connectOrExplain } from './temporal-preflight';

export interface DeploymentTarget {
  client: Client;
  namespace: string;
  deploymentName: string;
}

export interface DeploymentStatus {
  currentBuildId: string | null;
  rampingBuildId: string | null;
  versions: { buildId: string; createdAt: string | null; drainage: string | null; openPinnedRuns: number }[];
}

const Drainage = temporal.api.enums.v1.VersionDrainageStatus;

const quoted = (text: string): string => `'${text.replace(/'/g, "\\'")}'`;

/** Runs pinned to a version that are still open: while there are any, its workers must keep running. */
export async function openPinnedRuns(t: DeploymentTarget, buildId: string): Promise<number> {
  const { count } = await t.client.workflow.count(
    `TemporalWorkerDeploymentVersion = ${quoted(`${t.deploymentName}:${buildId}`)} ` +
      `AND TemporalWorkflowVersioningBehavior = 'Pinned' AND ExecutionStatus = 'Running'`,
  );
  return count;
}

/** The build ids the deployment knows (none when no versioned worker ever polled it). */
async function knownBuildIds(t: DeploymentTarget): Promise<string[]> {
  try {
    const { workerDeploymentInfo: info } = await t.client.workflowService.describeWorkerDeployment({
      namespace: t.namespace,
      deploymentName: t.deploymentName,
    });
    return (info?.versionSummaries ?? []).map((v) => v.deploymentVersion?.buildId ?? '');
  } catch (err) {
    // gRPC NOT_FOUND: no worker of this deployment has polled yet.
    if (isGrpcServiceError(err) && Number(err.code) === 5) return [];
    throw err;
  }
}

export async function deploymentStatus(t: DeploymentTarget): Promise<DeploymentStatus> {
  const { workerDeploymentInfo: info } = await t.client.workflowService.describeWorkerDeployment({
    namespace: t.namespace,
    deploymentName: t.deploymentName,
  });
  const routing = info?.routingConfig;
  const versions = [];
  for (const v of info?.versionSummaries ?? []) {
    const buildId = v.deploymentVersion?.buildId ?? '';
    const seconds = v.createTime?.seconds;
    versions.push({
      buildId,
      createdAt: seconds == null ? null : new Date(Number(seconds) * 1000).toISOString(),
      drainage: v.drainageInfo?.status ? (Drainage[v.drainageInfo.status] ?? null) : null,
      openPinnedRuns: await openPinnedRuns(t, buildId),
    });
  }
  return {
    currentBuildId: routing?.currentDeploymentVersion?.buildId || null,
    rampingBuildId: routing?.rampingDeploymentVersion?.buildId || null,
    versions,
  };
}

/**
 * Makes a version current: new runs, stream chains and unversioned runs go to its workers from their next task.
 * The server refuses a version whose workers have not polled every task queue of the current one.
 */
export async function promoteVersion(t: DeploymentTarget, buildId: string): Promise<string | null> {
  const r = await t.client.workflowService.setWorkerDeploymentCurrentVersion({
    namespace: t.namespace,
    deploymentName: t.deploymentName,
    buildId,
    identity: 'kiosk-pipeline deploy promote',
  });
  return r.previousDeploymentVersion?.buildId || null;
}

const TaskQueueType = temporal.api.enums.v1.TaskQueueType;

/** The deployment's versions and the task queue's pollers, as the contract gate weighs them. */
async function gateState(t: DeploymentTarget, taskQueue: string): Promise<GateState> {
  let currentBuildId: string | null = null;
  const versions = [];
  try {
    const { workerDeploymentInfo: info } = await t.client.workflowService.describeWorkerDeployment({
      namespace: t.namespace,
      deploymentName: t.deploymentName,
    });
    currentBuildId = info?.routingConfig?.currentDeploymentVersion?.buildId || null;
    for (const v of info?.versionSummaries ?? []) {
      const buildId = v.deploymentVersion?.buildId ?? '';
      versions.push({ buildId, openPinnedRuns: await openPinnedRuns(t, buildId) });
    }
  } catch (err) {
    // gRPC NOT_FOUND: no worker of this deployment has polled yet.
    if (!(isGrpcServiceError(err) && Number(err.code) === 5)) throw err;
  }
  const pollers: GateState['pollers'] = [];
  const kinds = [
    ['workflow', TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
    ['activity', TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
  ] as const;
  for (const [kind, taskQueueType] of kinds) {
    const described = await t.client.workflowService.describeTaskQueue({
      namespace: t.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType,
    });
    for (const p of described.pollers ?? []) {
      const lastPoll = Number(p.lastAccessTime?.seconds ?? 0) * 1000;
      pollers.push({
        taskQueue,
        kind,
        identity: p.identity ?? '?',
        deploymentName: p.deploymentOptions?.deploymentName || null,
        buildId: p.deploymentOptions?.buildId || null,
        secondsSinceLastPoll: (Date.now() - lastPoll) / 1000,
      });
    }
  }
  return { deploymentName: t.deploymentName, currentBuildId, versions, pollers };
}

/** What holds a contract migration back (see contract-gate.ts); empty when it may run. */
export async function olderWorkersLeft(t: DeploymentTarget, taskQueue: string): Promise<string[]> {
  return contractBlockers(await gateState(t, taskQueue));
}

export async function withTarget<T>(
  name: string | undefined,
  fn: (t: DeploymentTarget) => Promise<T>,
): Promise<T> {
  const cfg = loadConfig();
  const client = await connectOrExplain(cfg);
  try {
    return await fn({
      client,
      namespace: cfg.temporal.namespace,
      deploymentName: name ?? deploymentName(process.env),
    });
  } finally {
    await client.connection.close();
  }
}

export function registerDeployCommands(program: Command): void {
  const deploy = program
    .command('deploy')
    .description(
      'Worker Deployment steps of a release: status, promote a version, wait for the old one to drain',
    )
    .option('--deployment <name>', 'Worker Deployment (default TEMPORAL_DEPLOYMENT_NAME or kiosk-pipeline)');
  const name = () => deploy.opts<{ deployment?: string }>().deployment;

  deploy
    .command('status')
    .description('the current and ramping versions, and every version with its open pinned runs')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) =>
      withTarget(name(), async (t) => {
        const s = await deploymentStatus(t);
        if (opts.json) {
          console.log(JSON.stringify(s, null, 2));
          return;
        }
        console.log(`deployment ${t.deploymentName}`);
        console.log(`current    ${s.currentBuildId ?? '(unversioned workers)'}`);
        if (s.rampingBuildId !== null) console.log(`ramping    ${s.rampingBuildId}`);
        for (const v of s.versions)
          console.log(
            `version    ${v.buildId}  created ${v.createdAt ?? '?'}  ${v.openPinnedRuns} open pinned runs` +
              (v.drainage ? `  ${v.drainage}` : ''),
          );
      }),
    );
  deploy
    .command('promote <build-id>')
    .description("make a version current (its workers must be polling): the deploy's switch-over")
    .action((buildId: string) =>
      withTarget(name(), async (t) => {
        const previous = await promoteVersion(t, buildId);
        console.log(
          `current version: ${t.deploymentName}:${buildId} (was ${previous ?? 'unversioned workers'})`,
        );
      }),
    );
  deploy
    .command('drained <build-id>')
    .description(
      'is the version drained? exit 0 when no open run is pinned to it (its workers may stop), 3 while runs ' +
        'are still pinned (ask again later), 1 when Temporal cannot answer, 2 for a build id the deployment ' +
        'does not know',
    )
    .option('--json', 'print the answer as one JSON object')
    .action((buildId: string, opts: { json?: boolean }) =>
      withTarget(name(), async (t) => {
        // A mistyped build id has no pinned runs either: answering yes would let the wrong workers go.
        const known = await knownBuildIds(t);
        if (!known.includes(buildId))
          throw new UsageError(
            `${t.deploymentName} has no version ${buildId} (known: ${known.join(', ') || 'none'})`,
          );
        const open = await openPinnedRuns(t, buildId);
        const version = `${t.deploymentName}:${buildId}`;
        if (opts.json) console.log(JSON.stringify({ version, drained: open === 0, openPinnedRuns: open }));
        if (open > 0) throw new NotYetError(`${version} still has ${open} open pinned runs`);
        if (!opts.json) console.log(`${version} has no open pinned runs`);
      }),
    );
}
