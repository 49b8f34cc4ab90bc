// Names the service behind an infrastructure error ("S3 unavailable (127.0.0.1:7070): connect ECONNREFUSED"),
// so that a run that fails after its retries says which dependency was down, not only a socket error.
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor } from '@temporalio/worker';
import type { Config } from './config';

export interface Dependency {
  name: 'PostgreSQL' | 'S3' | 'Kafka' | 'Temporal';
  host: string;
  port: number;
}

const DEFAULT_PORTS: Record<string, number> = {
  'postgres:': 5432,
  'postgresql:': 5432,
  'http:': 80,
  'https:': 443,
};

function endpoint(name: Dependency['name'], url: URL): Dependency {
  return { name, host: url.hostname, port: url.port ? Number(url.port) : (DEFAULT_PORTS[url.protocol] ?? 0) };
}

/** Where each dependency listens, from the configuration: host and port only, never credentials. */
export function dependenciesOf(config: Config): Dependency[] {
  const deps = [endpoint('PostgreSQL', new URL(config.databaseUrl))];
  if (config.s3.endpoint) deps.push(endpoint('S3', new URL(config.s3.endpoint)));
  for (const b of config.kafka.brokers) deps.push(endpoint('Kafka', new URL(`kafka://${b}`)));
  deps.push(endpoint('Temporal', new URL(`grpc://${config.temporal.address}`)));
  return deps;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const sameHost = (a: string, b: string) => a === b || (LOOPBACK.has(a) && LOOPBACK.has(b));

interface ErrorShape {
  message?: unknown;
  code?: unknown;
  address?: unknown;
  port?: unknown;
  $metadata?: unknown;
}

// SQLSTATE classes 08 (connection exception) and 57P0x (server shutting down, starting up, crashed).
const PG_UNAVAILABLE = /^(08...|57P0[1-4])$/;
const PG_CONNECTION_LOST = /^(Connection terminated|Knex: Timeout acquiring a connection)/;

/** The dependency an error came from, when it says so by its socket address or its client's shape. */
export function failingDependency(err: unknown, deps: readonly Dependency[]): Dependency | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as ErrorShape;
  if (typeof e.address === 'string' && typeof e.port === 'number') {
    const byAddress = deps.find((d) => d.port === e.port && sameHost(d.host, e.address as string));
    if (byAddress) return byAddress;
  }
  const pick = (name: Dependency['name']) =>
    deps.find((d) => d.name === name) ?? { name, host: '?', port: 0 };
  if (e.$metadata !== undefined) return pick('S3'); // every AWS SDK error carries $metadata
  if (typeof e.code === 'string' && PG_UNAVAILABLE.test(e.code)) return pick('PostgreSQL');
  if (typeof e.message === 'string' && PG_CONNECTION_LOST.test(e.message)) return pick('PostgreSQL');
  return undefined;
}

/** The same error with the dependency's name in front; failures that say they are final pass unchanged. */
export function withDependencyName(err: unknown, deps: readonly Dependency[]): unknown {
  if (err instanceof ApplicationFailure) return err;
  const dep = failingDependency(err, deps);
  if (dep === undefined) return err;
  const original = err as Error;
  const named = new Error(`${dep.name} unavailable (${dep.host}:${dep.port}): ${original.message}`, {
    cause: err,
  });
  named.stack = original.stack;
  return named;
}

/** An activity interceptor that names the dependency behind every infrastructure failure. */
export function dependencyNamingInterceptor(
  config: Config,
): () => { inbound: ActivityInboundCallsInterceptor } {
  const deps = dependenciesOf(config);
  return () => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          throw withDependencyName(err, deps);
        }
      },
    },
  });
}

// Node's codes for a certificate the client does not trust (chain, issuer, name, dates).
const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A TLS refusal of the server's certificate, as a sentence naming the setting that holds the CA. */
export function explainTlsRefusal(err: unknown, service: string, setting: string): unknown {
  // Clients wrap the socket's error (kafkajs as originalError, others as cause).
  let inner = err as { code?: unknown; message?: unknown; originalError?: unknown; cause?: unknown } | null;
  for (let depth = 0; depth < 4 && inner && !TLS_TRUST_CODES.has(String(inner.code)); depth++) {
    inner = inner.originalError ?? inner.cause ?? null;
  }
  const code = inner?.code;
  if (typeof code !== 'string' || !TLS_TRUST_CODES.has(code)) return err;
  const named = new Error(
    `${service}'s TLS certificate is not trusted (${String(inner?.message)}, ${code}): ` +
      `${setting} must hold the CA that signed it, for the host name connected to`,
    { cause: err },
  );
  return Object.assign(named, { code });
}
