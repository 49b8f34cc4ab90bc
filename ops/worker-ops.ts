// The worker's operations side: the Temporal runtime's logs as JSON lines and its metrics on a private
// loopback port, merged with the pipeline's own metrics on WORKER_METRICS_ADDRESS with /healthz and /readyz.
import {
  DefaultLogger,
  Runtime,
  type LogEntry,
  type NativeConnection,
  type Worker,
} from '@temporalio/worker';
import type { Knex } from 'knex';
import net from 'node:net';
import type { JsonLogger, LogFields, LogLevel } from '../infra/log';
import { registry } from '../infra/metrics';
import { refreshPressGauges } from './press-gauges';
import { startOpsServer, type OpsServer } from './server';

const LEVELS: Record<LogEntry['level'], LogLevel> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

const RUNTIME_LEVELS: Record<LogLevel, 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
};

/** The SDK's metadata, renamed to the project's field names; the task token is an opaque credential. */
export function runtimeLogFields(meta: Record<string, unknown> = {}): LogFields {
  const { workflowRunId, runId, activityType, taskToken: _token, ...rest } = meta;
  const fields: LogFields = { ...rest };
  if (runId ?? workflowRunId) fields.runId = runId ?? workflowRunId;
  if (activityType !== undefined) fields.activity = activityType;
  return fields;
}

async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Installs the process's Temporal runtime: SDK, workflow and activity logs (Core's too) through the JSON
 * logger, and the SDK's Prometheus exporter on a free loopback port. Call once, before any connection.
 * Returns that exporter's address.
 */
export async function installWorkerRuntime(logger: JsonLogger, level: LogLevel = 'info'): Promise<string> {
  const address = `127.0.0.1:${await freeLoopbackPort()}`;
  const sdkLevel = RUNTIME_LEVELS[level];
  Runtime.install({
    logger: new DefaultLogger(sdkLevel, (entry) =>
      logger.log(LEVELS[entry.level], entry.message, runtimeLogFields(entry.meta)),
    ),
    telemetryOptions: {
      // Core's INFO is chatty (every poller): it starts at WARN unless LOG_LEVEL asks for debug.
      logging: { filter: { core: level === 'info' ? 'WARN' : sdkLevel, other: 'ERROR' }, forward: {} },
      metrics: {
        prometheus: { bindAddress: address, countersTotalSuffix: true, useSecondsForDurations: true },
      },
    },
  });
  return address;
}

export async function startWorkerOps(options: {
  address: string;
  temporalMetricsAddress: string;
  knex: Knex;
  connection: NativeConnection;
  worker: Worker;
  logger: JsonLogger;
  redact: (text: string) => string;
}): Promise<OpsServer> {
  const { knex, connection, worker, logger } = options;
  return startOpsServer({
    address: options.address,
    redact: options.redact,
    warn: (message) => logger.warn(`metrics listener: ${message}`),
    checks: {
      worker: () =>
        worker.getState() === 'RUNNING'
          ? Promise.resolve()
          : Promise.reject(new Error(`worker is ${worker.getState()}`)),
      temporal: () => connection.workflowService.getSystemInfo({}),
      postgres: () => knex.raw('select 1'),
    },
    metrics: async () => {
      try {
        await refreshPressGauges(knex);
      } catch (err) {
        logger.warn('metrics: the press gauges could not be read', { error: err });
      }
      const [own, temporal] = await Promise.all([
        registry.metrics(),
        fetch(`http://${options.temporalMetricsAddress}/metrics`).then(
          (r) => r.text(),
          (err: unknown) => {
            // The pipeline's own metrics are still worth serving.
            logger.warn("metrics: the Temporal SDK's exporter did not answer", { error: err });
            return '';
          },
        ),
      ]);
      return { contentType: registry.contentType, body: `${own}\n${temporal}` };
    },
  });
}
