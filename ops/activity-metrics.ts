// A worker interceptor that times the load activities and counts retried attempts of every activity, so no
// activity body needs to know about metrics for these two.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { activityRetriesTotal, loadSeconds, type RowSource } from '../infra/metrics';

/** The activities that make rows final, and the source whose rows they load. */
export const LOAD_ACTIVITIES: Readonly<Record<string, RowSource>> = {
  loadObject: 'batch',
  loadStreamMessages: 'stream',
  loadStreamBlocks: 'stream',
};

export const activityMetricsInterceptor: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const { activityType, attempt } = ctx.info;
      if (attempt > 1) {
        activityRetriesTotal.inc({ activity: activityType });
        // The context logger adds the workflow id, run id and activity to the JSON line.
        ctx.log.warn(`attempt ${attempt} of ${activityType}`, { attempt });
      }
      const source = LOAD_ACTIVITIES[activityType];
      if (source === undefined) return next(input);
      const stop = loadSeconds.startTimer({ source });
      try {
        return await next(input);
      } finally {
        stop();
      }
    },
  },
});
