import { Client, Connection } from '@temporalio/client';
import type { Config } from './config';
import { dataConverter } from './payload-codec';

export async function connectTemporal(t: Config['temporal']): Promise<Connection> {
  return Connection.connect({
    address: t.address,
    tls: t.tls ? {} : undefined,
    apiKey: t.apiKey,
    connectTimeout: '5s',
  });
}

/**
 * `onlyOpenWorkflowsAnswer`: a query to a closed workflow fails at once instead of waiting for a worker to
 * replay it (the bridge asks its chains for their lag; a terminated chain has nothing to say).
 */
export async function createTemporalClient(
  t: Config['temporal'],
  options: { onlyOpenWorkflowsAnswer?: boolean } = {},
): Promise<Client> {
  const connection = await connectTemporal(t);
  return new Client({
    connection,
    namespace: t.namespace,
    dataConverter,
    ...(options.onlyOpenWorkflowsAnswer ? { workflow: { queryRejectCondition: 'NOT_OPEN' as const } } : {}),
  });
}
