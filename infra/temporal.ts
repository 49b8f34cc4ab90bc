import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { Config } from './config';
import { dataConverter } from './payload-codec';

/**
 * What the client and the worker's native connection are given: address, API key and TLS (a private CA, a
 * server name other than the address's host, and the client pair for mTLS), and a profile's gRPC headers.
 */
export function temporalConnectionOptions(t: Config['temporal']): {
  address: string;
  apiKey?: string;
  tls?: TLSConfig;
  metadata?: Record<string, string>;
} {
  const o = t.tlsOptions;
  const tls: TLSConfig | undefined = !t.tls
    ? undefined
    : {
        ...(o?.serverName !== undefined ? { serverNameOverride: o.serverName } : {}),
        ...(o?.serverCa !== undefined ? { serverRootCACertificate: o.serverCa } : {}),
        ...(o?.clientCert !== undefined && o.clientKey !== undefined
          ? { clientCertPair: { crt: o.clientCert, key: o.clientKey } }
          : {}),
      };
  return {
    address: t.address,
    ...(t.apiKey !== undefined ? { apiKey: t.apiKey } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(t.metadata !== undefined ? { metadata: t.metadata } : {}),
  };
}

export async function connectTemporal(t: Config['temporal']): Promise<Connection> {
  return Connection.connect({ ...temporalConnectionOptions(t), connectTimeout: '5s' });
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
