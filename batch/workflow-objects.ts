// One page of a batch run's objects through the chain extract -> validate -> transform -> load, each step an
// activity of its own (retried on its own, visible in the Web UI) that passes staging tables by name, never
// rows. The first object goes through the first three steps alone, then up to `maxParallel` at once; loads
// run one by one in key order. The batch workflow owns paging, the ledger and cleanup; this module owns the
// per-object chain.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { BatchActivities } from './activities';
import type { BatchObject, ObjectLoadResult } from '../contracts/batch';
import { BATCH_OBJECT_STEP } from '../contracts/activity-policies';
import { activityFailedWith, FailureType } from '../contracts/failures';

const bulk = proxyActivities<BatchActivities>(BATCH_OBJECT_STEP);

// Runs recorded before this patch staged the first two objects together.
const FIRST_ALONE_PATCH = 'batch-first-object-staged-alone';

// A load that finds its staging lost (PostgreSQL restarted and emptied the unlogged tables) redoes the chain
// from extract, at most this many times.
const CHAIN_ATTEMPTS = 3;

interface Staged {
  stem: string;
  lines: number;
  header: boolean;
}

async function stage(runId: string, object: BatchObject): Promise<Staged> {
  const { stem, lines } = await bulk.extractObject({ runId, object });
  const { header } = await bulk.validateObject({ stem });
  await bulk.transformObject({ stem });
  return { stem, lines, header };
}

/** Loads one staged object; redoes its chain when its staging was lost. */
async function load(runId: string, object: BatchObject, staging: Promise<Staged>): Promise<ObjectLoadResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { stem, lines, header } = await staging;
      return await bulk.loadObject({ runId, object, stem, staged: { lines, header } });
    } catch (err) {
      if (!activityFailedWith(err, FailureType.StagingLost) || attempt >= CHAIN_ATTEMPTS) throw err;
      staging = stage(runId, object);
    }
  }
}

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
  const stages = new Map<number, Promise<Staged>>();
  const startStage = (i: number, object: BatchObject) => {
    const p = stage(runId, object);
    p.catch(() => undefined); // observed when its turn to load comes
    stages.set(i, p);
  };
  let next = 0;
  const stageUpTo = (end: number) => {
    for (; next < objects.length && next < end; next++) startStage(next, objects[next]!);
  };
  try {
    // Loads are the run's critical path: the first one starts sooner when its object's chain has the worker
    // and the database to itself; the next one is staged while it loads (bench/README.md).
    if (objects.length > 1 && maxParallel > 1 && patched(FIRST_ALONE_PATCH)) {
      stageUpTo(1);
      await stages.get(0); // a chain that failed fails the page now, with nothing else started
    }
    for (let i = 0; i < objects.length; i++) {
      stageUpTo(i + maxParallel);
      onLoaded(await load(runId, objects[i]!, stages.get(i)!));
    }
  } catch (err) {
    await Promise.allSettled(stages.values());
    throw err;
  }
}
