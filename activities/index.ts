// Every activity the worker registers, built over injected dependencies.
import type { ActivityDeps } from './deps';
import { createBatchActivities } from './batch';
import { createHealthActivities } from './health';
import { createReplayActivities } from './reject-replay';
import { createStreamActivities } from './stream-load';
import { createStreamRereadActivities } from './stream-reread';
import { createStreamTopicActivities } from './stream-topic';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createHealthActivities(deps),
    ...createBatchActivities(deps),
    ...createStreamActivities(deps),
    ...createReplayActivities(deps),
    ...createStreamRereadActivities(deps),
    ...createStreamTopicActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
