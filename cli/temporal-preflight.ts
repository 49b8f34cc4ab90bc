// Checks made before starting work on Temporal, so the operator gets one clear line instead of a hang:
// the server is reachable, and a worker polls the task queue.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../infra/config';
import { createTemporalClient } from '../infra/temporal';

export async function connectOrExplain(cfg: Config): Promise<Client> {
  try {
    const client = await createTemporalClient(cfg.temporal);
    await client.workflowService.getSystemInfo({});
    return client;
  } catch (err) {
    throw new Error(
      `Temporal is not reachable at ${cfg.temporal.address} (${(err as Error).message.split('\n')[0]}); ` +
        'start the local stack with: npm run stack:up',
    );
  }
}

export async function requireWorker(client: Client, cfg: Config): Promise<void> {
  const described = await client.workflowService.describeTaskQueue({
    namespace: cfg.temporal.namespace,
    taskQueue: { name: cfg.temporal.taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  if ((described.pollers ?? []).length === 0) {
    throw new Error(
      `no worker is polling task queue '${cfg.temporal.taskQueue}' on ${cfg.temporal.address}; ` +
        'start one in another terminal with: npm run worker',
    );
  }
}

export function webUiLink(cfg: Config, workflowId: string, runId?: string): string {
  const base = `${cfg.temporal.uiUrl}/namespaces/${encodeURIComponent(cfg.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
