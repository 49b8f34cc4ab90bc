import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { HEALTH_CHECK } from './activity-policies';

const { checkDependencies } = proxyActivities<Activities>(HEALTH_CHECK);

/** A round trip through the worker: proves that a worker polls the queue and reaches its dependencies. */
export async function healthCheck(): Promise<Awaited<ReturnType<Activities['checkDependencies']>>> {
  return checkDependencies();
}
