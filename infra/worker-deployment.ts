// Worker Versioning (Temporal Worker Deployments): a worker started with a build id polls as one version of the
// deployment; the server sends it only the runs pinned to that version, plus new runs once the version is made
// current (`kiosk deploy promote <build-id>`). Without a build id the worker is unversioned,
// which is what local development and most tests use.
import type { WorkerDeploymentOptions } from '@temporalio/worker';

export const DEFAULT_DEPLOYMENT_NAME = 'kiosk-pipeline';

export interface WorkerDeployment {
  deploymentName: string;
  buildId: string;
}

type Env = Record<string, string | undefined>;

// The server's rules for a version's parts: no '.' in the deployment name (it separates name and build id).
const NAME = /^[A-Za-z0-9_-]{1,100}$/;
const BUILD_ID = /^[A-Za-z0-9_.-]{1,100}$/;

/** TEMPORAL_WORKER_BUILD_ID (unset: unversioned) and TEMPORAL_DEPLOYMENT_NAME (default kiosk-pipeline). */
export function loadWorkerDeployment(env: Env): WorkerDeployment | undefined {
  const buildId = (env.TEMPORAL_WORKER_BUILD_ID ?? '').trim();
  const name = deploymentName(env);
  if (buildId === '') return undefined;
  if (!BUILD_ID.test(buildId)) {
    throw new Error(`TEMPORAL_WORKER_BUILD_ID must be letters, digits, '.', '_' or '-', got '${buildId}'`);
  }
  if (!NAME.test(name)) {
    throw new Error(`TEMPORAL_DEPLOYMENT_NAME must be letters, digits, '_' or '-', got '${name}'`);
  }
  return { deploymentName: name, buildId };
}

/**
 * Runs are pinned to the version they started on unless their workflow type says otherwise
 * (workflows/index.ts): a batch run never meets code it did not start with.
 */
export function workerDeploymentOptions(d: WorkerDeployment): WorkerDeploymentOptions {
  return { version: d, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' };
}

/** The deployment the operator's commands act on: TEMPORAL_DEPLOYMENT_NAME, as the worker reads it. */
export function deploymentName(env: Env): string {
  return (env.TEMPORAL_DEPLOYMENT_NAME ?? '').trim() || DEFAULT_DEPLOYMENT_NAME;
}
