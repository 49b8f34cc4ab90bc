// Every activity the worker registers, built over injected dependencies.
import type { ActivityDeps } from './deps';
import { createBatchActivities } from './batch';
import { createHealthActivities } from './health';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHealthActivities(deps),
    ...createBatchActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
