// The stack's TLS side (scripts/stack.sh): its CA and certificates, Kafka's SASL_SSL listener and users, and
// the PostgreSQL role allowed only over TLS. Names and local-only passwords are the stack script's.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../infra/config';
import { REPO_ROOT } from './isolated-env';
import { waitForOutput, type RunningProcess } from './child-process';

export const TLS_DIR = path.join(process.env.STACK_DIR ?? path.join(REPO_ROOT, '.stack'), 'tls');
/** The CA that signed the stack's server certificates, and one that signed nothing of the stack's. */
export const STACK_CA = path.join(TLS_DIR, 'ca.pem');
export const OTHER_CA = path.join(TLS_DIR, 'other-ca.pem');
export const CLIENT_CERT = path.join(TLS_DIR, 'client.pem');
export const CLIENT_KEY = path.join(TLS_DIR, 'client.key');
export const SERVER_CERT = path.join(TLS_DIR, 'server.pem');
export const SERVER_KEY = path.join(TLS_DIR, 'server.key');

export const KAFKA_SASL_SSL_BROKER = `127.0.0.1:${process.env.STACK_KAFKA_SASL_SSL_PORT ?? '9094'}`;
export const KAFKA_SCRAM_USER = { username: 'kiosk-scram', password: 'kiosk-scram-local' };
export const PG_TLS_ROLE = { user: 'kiosk_tls', password: 'kiosk-tls-local' };

/** The variables that point the Kafka clients at the SASL_SSL listener as SCRAM-SHA-512. */
export function kafkaSaslSslEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: KAFKA_SASL_SSL_BROKER,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: KAFKA_SCRAM_USER.username,
    KAFKA_SASL_PASSWORD: KAFKA_SCRAM_USER.password,
    KAFKA_SSL_CA: STACK_CA,
    ...overrides,
  };
}

/** The config's Kafka, over the SASL_SSL listener, for the harness's own clients. */
export function saslSslKafka(cfg: Config): Config['kafka'] {
  return {
    ...cfg.kafka,
    brokers: [KAFKA_SASL_SSL_BROKER],
    ssl: true,
    sslCa: fs.readFileSync(STACK_CA, 'utf8'),
    sasl: { mechanism: 'scram-sha-512', ...KAFKA_SCRAM_USER },
  };
}

/** The address a worker or bridge process serves /readyz on, from its start-up log line. */
export async function opsAddress(p: RunningProcess): Promise<string> {
  await waitForOutput(p, /"metricsAddress":"[^"]+"/, 120_000);
  return /"metricsAddress":"([^"]+)"/.exec(p.output())![1]!;
}

export async function readyz(address: string): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`http://${address}/readyz`);
  const body = (await res.json()) as { checks?: Record<string, string> };
  return { status: res.status, checks: body.checks ?? {} };
}
