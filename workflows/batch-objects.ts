// One page of a batch run's objects through extract and load: up to `maxParallel` objects staged at once,
// loaded one by one in key order (so which of two duplicate rows wins is the same in every run).
// The batch workflow owns paging, the ledger and cleanup; this module owns the per-object chain.
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { BatchObject, ObjectLoadResult } from '../activities/batch-types';
import { batchRetry } from './batch-retry';

// Extract and load stream whole objects (up to gigabytes): long timeouts, short heartbeats so a dead worker
// is noticed in seconds and the step retried on another.
const bulk = proxyActivities<Activities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '10 seconds',
  retry: batchRetry,
  // On cancel, wait for the activity to stop (it learns of it from a heartbeat), so that cleanup after it
  // sees every staging table it made.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/**
 * Loads `objects` in order, calling `onLoaded` after each. On failure, waits for the activities still in
 * flight to settle (so the caller's cleanup sees every staging table) and rethrows.
 */
export async function loadObjects(
  runId: string,
  objects: BatchObject[],
  maxParallel: number,
  onLoaded: (result: ObjectLoadResult) => void,
): Promise<void> {
  const stages = new Map<number, Promise<{ stagingTable: string }>>();
  const startStage = (i: number, object: BatchObject) => {
    const p = bulk.stageObject({ runId, object });
    p.catch(() => undefined); // observed when its turn to load comes
    stages.set(i, p);
  };
  let next = 0;
  try {
    for (let i = 0; i < objects.length; i++) {
      while (next < objects.length && next < i + maxParallel) {
        startStage(next, objects[next]!);
        next++;
      }
      const object = objects[i]!;
      const { stagingTable } = await stages.get(i)!;
      onLoaded(await bulk.loadObject({ runId, object, stagingTable }));
    }
  } catch (err) {
    await Promise.allSettled(stages.values());
    throw err;
  }
}
