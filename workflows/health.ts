import { proxyActivities } from '@temporalio/workflow';
import type { HealthActivities } from '../activities/health';
import { HEALTH_CHECK } from '../contracts/activity-policies';

const { checkDependencies } = proxyActivities<HealthActivities>(HEALTH_CHECK);

/** A round trip through the worker: proves that a worker polls the queue and reaches its dependencies. */
export async function healthCheck(): Promise<Awaited<ReturnType<HealthActivities['checkDependencies']>>> {
  return checkDependencies();
}
