// Every activity the worker registers, built over injected dependencies: the composition root above the
// pipelines (batch, stream, replay), beside workflows/index.ts, the workflow bundle's.
import type { ActivityDeps } from '../infra/activity-deps';
import { createBatchActivities } from '../batch/activities';
import { createHealthActivities } from './health';
import { createReplayActivities } from '../replay/activities';
import { createStreamActivities } from '../stream/load';
import { createStreamRereadActivities } from '../stream/reread';
import { createStreamTopicActivities } from '../stream/topic';

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
