// The workflow bundle's entry point: every workflow type the worker serves.
import { setWorkflowOptions } from '@temporalio/workflow';
import { streamPartition } from './stream';

export { healthCheck } from './health';
export { batchWorkflow, batchProgressQuery } from './batch';
export { streamPartition };
export { rejectReplay } from './reject-replay';

// Versioned workers pin runs to their version (infra/worker-deployment.ts). A stream chain never ends, so it
// would keep its version alive forever: it moves to the current version at its next workflow task instead.
// Pinned chains could move at continue-as-new (initialVersioningBehavior), but server 1.29.1 keeps them pinned.
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, streamPartition);
