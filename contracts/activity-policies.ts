// Every activity's timeouts and retry policy, in one place, each with the reason for its value. Workflows
// import these instead of writing their own, so an on-call engineer reads here how long a step may take and
// how long a dead dependency is waited for before a run fails (with the dependency's name in its message:
// infra/dependency-errors.ts). Changing a value changes no workflow command: histories still replay.
import {
  ActivityCancellationType,
  type ActivityOptions,
  type LocalActivityOptions,
  type RetryPolicy,
} from '@temporalio/common';
import { FailureType } from './failures';

/**
 * Batch steps: infrastructure faults are retried with backoff from 1 s to 30 s, 12 attempts, so a dependency
 * may be down for about 3.5 minutes (1+2+4+8+16 s, then 30 s six times) before the run fails and says which
 * one. Longer outages are an operator's matter: the run fails visibly and a re-run picks up what is unloaded.
 * A missing bucket, folder or named object is final at once (SourceMissing).
 */
export const BATCH_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 12,
  nonRetryableErrorTypes: [FailureType.SourceMissing],
};

/** The batch's short steps (ledger, metadata, a page of listing, cleanup): seconds of work, 2 minutes' room. */
export const BATCH_STEP: ActivityOptions = { startToCloseTimeout: '2 minutes', retry: BATCH_RETRY };

/**
 * The per-object chain (extract, validate, transform, load): a 1 GB object takes minutes to tens of minutes,
 * so 4 hours bounds only a step that is stuck, while a 10-second heartbeat notices a dead worker in seconds
 * and runs the step again elsewhere. On cancel, wait for the step to stop (it learns of the cancel from a
 * heartbeat), so the cleanup after it sees every staging table it made.
 */
export const BATCH_OBJECT_STEP: ActivityOptions = {
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '10 seconds',
  retry: BATCH_RETRY,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

/**
 * The stream's load: bad data is a result, never an error, so whatever fails here is infrastructure; it is
 * retried without limit (500 ms to 30 s) because nothing may be dropped, and the bridge stops feeding a
 * partition whose workflow falls behind. The start-to-close timeout comes from the workflow's settings
 * (STREAM_LOAD_TIMEOUT_MS, 60 s by default): a killed worker's load is retried after it.
 */
export const STREAM_LOAD_RETRY: RetryPolicy = {
  initialInterval: '500ms',
  backoffCoefficient: 2,
  maximumInterval: '30s',
};

/**
 * The stream's record-block load as a local activity (stream/workflow-patches.ts, loadsBlocksLocally): the
 * worker that runs the workflow runs it, retried as STREAM_LOAD_RETRY in the worker itself (30 s between
 * attempts at most, under the 1-minute threshold past which a retry would wait on a workflow timer), while the
 * worker keeps the workflow task open with heartbeats however long the load takes. A crashed worker's load is
 * run again by the worker that takes the workflow task after its timeout (10 s), sooner than a lost activity's
 * start-to-close timeout (60 s); it cannot duplicate rows (stream/load.ts skips stored offsets). The load does
 * not heartbeat, so nothing is lost by a local activity's not being able to.
 */
export const streamLocalLoad = (startToCloseTimeoutMs: number): LocalActivityOptions => ({
  startToCloseTimeout: startToCloseTimeoutMs,
  retry: STREAM_LOAD_RETRY,
});

/** A new chain's re-read of what Kafka holds past the last stored offset: a bounded read, retried like a load. */
export const STREAM_REREAD: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
};

/** A topic incarnation's source name, and closing a superseded chain's ledger row: one statement each. */
export const STREAM_TOPIC: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: STREAM_LOAD_RETRY,
};

/** One page of a rejects replay (1,000 rejects in one transaction): seconds; retried like a batch step. */
export const REPLAY_PAGE: ActivityOptions = { startToCloseTimeout: '5 minutes', retry: BATCH_RETRY };

/** The page itself beats while its transaction runs: a killed worker's page is retried in seconds. */
export const REPLAY_PAGE_BEATING: ActivityOptions = { ...REPLAY_PAGE, heartbeatTimeout: '10 seconds' };

/** The health check answers an operator who is waiting: three quick attempts, then a failure naming the cause. */
export const HEALTH_CHECK: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
};
