// The bridge's operations side on BRIDGE_METRICS_ADDRESS: per partition, how far the database is behind the
// Kafka log (read when Prometheus scrapes), and readiness of Kafka, Temporal and PostgreSQL. It keeps its own
// small connections, so it answers (503) even while the bridge itself cannot start.
import type { Connection } from '@temporalio/client';
import type { Admin } from 'kafkajs';
import { lastStoredOffsets } from '../infra/stream-offsets';
import { Gauge } from 'prom-client';
import type { Config } from '../infra/config';
import { createKnex } from '../infra/db';
import { createKafka, describeKafkaError } from '../infra/kafka';
import type { JsonLogger } from '../infra/log';
import { registry } from '../infra/metrics';
import { connectTemporal } from '../infra/temporal';
import { startOpsServer, type OpsServer } from './server';
import { STATUS_EVERY_MS } from './status-log';

export const streamLag = new Gauge({
  name: 'kiosk_stream_lag_messages',
  help: 'Messages in the Kafka log not yet stored: log end offset minus (last stored offset + 1)',
  labelNames: ['topic', 'partition'] as const,
  registers: [registry],
});

export const lastStoredOffset = new Gauge({
  name: 'kiosk_stream_last_stored_offset',
  help: 'Highest Kafka offset stored as an interaction or a reject, per partition',
  labelNames: ['topic', 'partition'] as const,
  registers: [registry],
});

/** A lazily (re)opened resource: a failed open is retried by the next use. */
function lazy<T>(open: () => Promise<T>, onDrop: (value: T) => Promise<void>) {
  let current: Promise<T> | undefined;
  return {
    get: () =>
      (current ??= open().catch((err: Error) => {
        current = undefined;
        throw err;
      })),
    async drop() {
      const held = current;
      current = undefined;
      if (held) await held.then(onDrop, () => undefined);
    },
  };
}

export async function startBridgeOps(
  config: Config,
  log: JsonLogger,
  redact: (t: string) => string,
  statusEveryMs = STATUS_EVERY_MS,
) {
  const { topic } = config.kafka;
  const knex = createKnex(config.databaseUrl, 2);
  const admin = lazy<Admin>(
    async () => {
      // One attempt per use: a refused login or certificate then reaches /readyz within its deadline.
      const a = createKafka(config.kafka, '-ops', { probe: true }).admin();
      await a.connect();
      return a;
    },
    (a) => a.disconnect(),
  );
  const temporal = lazy<Connection>(
    () => connectTemporal(config.temporal),
    (c) => c.close(),
  );

  const refreshLag = async () => {
    const ends = await (await admin.get()).fetchTopicOffsets(topic);
    const stored = await lastStoredOffsets(
      knex,
      topic,
      ends.map((e) => e.partition),
    );
    streamLag.reset();
    lastStoredOffset.reset();
    for (const e of ends) {
      const labels = { topic, partition: String(e.partition) };
      const last = stored.get(e.partition);
      // Nothing stored yet: everything still retained in the log is waiting.
      const next = last === undefined ? Number(e.low) : last + 1;
      streamLag.set(labels, Number(e.high) - next);
      if (last !== undefined) lastStoredOffset.set(labels, last);
    }
  };

  // The minute's status line for CloudWatch (terraform/alarms.tf): the largest lag and each partition's.
  const status = setInterval(() => {
    refreshLag().then(
      async () => {
        const lag = (await streamLag.get()).values;
        const stored = (await lastStoredOffset.get()).values;
        log.info('stream status', {
          event: 'stream_status',
          maxLagMessages: Math.max(0, ...lag.map((v) => v.value)),
          partitions: [...lag]
            .sort((a, b) => Number(a.labels.partition) - Number(b.labels.partition))
            .map((v) => ({
              partition: Number(v.labels.partition),
              lagMessages: v.value,
              lastStoredOffset: stored.find((x) => x.labels.partition === v.labels.partition)?.value ?? null,
            })),
        });
      },
      (err: unknown) => log.warn('status: the stream lag could not be read', { error: err }),
    );
  }, statusEveryMs);
  status.unref();

  const server: OpsServer = await startOpsServer({
    address: config.metrics.bridgeAddress,
    redact,
    warn: (message) => log.warn(`metrics listener: ${message}`),
    checks: {
      kafka: async () => {
        try {
          return await (await admin.get()).fetchTopicOffsets(topic);
        } catch (err) {
          // A refused login or certificate says which setting to fix.
          throw describeKafkaError(err, config.kafka);
        }
      },
      temporal: async () => (await temporal.get()).workflowService.getSystemInfo({}),
      postgres: () => knex.raw('select 1'),
    },
    metrics: async () => {
      try {
        await refreshLag();
      } catch (err) {
        streamLag.reset();
        lastStoredOffset.reset();
        log.warn('metrics: the stream lag could not be read', { error: err });
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  });

  return {
    address: server.address,
    async close() {
      clearInterval(status);
      await server.close();
      await Promise.all([admin.drop(), temporal.drop(), knex.destroy()]);
    },
  };
}
