// The workflow bundle's entry point: every workflow type the worker serves.
export { healthCheck } from './health';
export { batchWorkflow, batchProgressQuery } from '../batch/workflow';
export { streamPartition } from '../stream/workflow';
export { rejectReplay } from '../replay/workflow';
