// The workflow bundle's entry point: every workflow type the worker serves (the composition root above the
// pipelines, beside activities/index.ts).
import { setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import { streamPartition } from '../stream/workflow';

export { healthCheck } from './health';
export { batchWorkflow, batchProgressQuery } from '../batch/workflow';
export { streamPartition };
export { rejectReplay } from '../replay/workflow';

// Versioned workers pin runs to their version (infra/worker-deployment.ts). A stream chain never ends, so it
// would keep its version alive forever: it moves to the current version at its next workflow task instead.
// (Pinned chains move at continue-as-new only from server 1.32: README, "Deployment".) Only a versioned worker
// may declare a behavior (the server refuses it from others); a run begun by an unversioned one keeps the
// worker's default until it continues as new. Read once per run, from history: deterministic. (Unversioned
// workers report a build id of their own, but no deployment name.)
setWorkflowOptions(
  () => ({
    versioningBehavior: workflowInfo().currentDeploymentVersion?.deploymentName ? 'AUTO_UPGRADE' : undefined,
  }),
  streamPartition,
);
