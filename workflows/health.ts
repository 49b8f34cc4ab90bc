import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { checkDependencies } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

/** A round trip through the worker: proves that a worker polls the queue and reaches its dependencies. */
export async function healthCheck(): Promise<Awaited<ReturnType<Activities['checkDependencies']>>> {
  return checkDependencies();
}
