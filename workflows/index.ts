// The workflow bundle's entry point: every workflow type the worker serves.
export { healthCheck } from './health';
export { batchWorkflow, batchProgressQuery } from './batch';
export { streamPartition } from './stream';
export { rejectReplay } from './reject-replay';
