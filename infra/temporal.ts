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

export async function createTemporalClient(t: Config['temporal']): Promise<Client> {
  const connection = await connectTemporal(t);
  return new Client({ connection, namespace: t.namespace, dataConverter });
}
