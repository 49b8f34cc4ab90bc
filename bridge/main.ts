// `npm run bridge`: runs the Kafka-to-Temporal bridge until SIGTERM or SIGINT.
import { ConfigError, loadConfig } from '../infra/config';
import { startBridge, type RunningBridge } from './bridge';
import { describeKafkaError } from '../infra/kafka';
import { describeBridgeVariables, loadBridgeSettings } from './settings';
import { loadDotEnv } from '../infra/dotenv';
import {
  createJsonLogger,
  logProcessWarnings,
  maskSecrets,
  secretValues,
  type JsonLogger,
} from '../infra/log';
import { startBridgeOps } from '../ops/bridge-ops';

const HELP = `Usage: npm run bridge [-- --help]

Consumes the Kafka topic KAFKA_TOPIC as consumer group KAFKA_GROUP_ID and delivers its records, in batches,
to one streaming workflow per partition (stream-<topic>-<partition>) with signal-with-start. A Kafka offset
is committed only after Temporal accepted the records up to it; a partition is paused while its workflow is
behind, or stopped because its offsets went backwards (see \`kiosk stream status\`). Each signal
carries the topic's id: a topic deleted and created again starts new chains. SIGTERM or SIGINT: finish the
signal in flight, commit, leave the group, exit 0.

Connection settings are the project's (see .env.example). Tuning, with defaults:
${describeBridgeVariables()}

Operations: BRIDGE_METRICS_ADDRESS (default 127.0.0.1:9465) serves /metrics (kiosk_stream_lag_messages and
kiosk_stream_last_stored_offset per partition), /healthz and /readyz (Kafka, Temporal and PostgreSQL answer;
503 otherwise). Logs are JSON, one object per line on stdout.

While Kafka or Temporal refuses (unreachable, a wrong password or CA) the bridge keeps trying, from 1 s
doubling to a minute, logging the reason each time; /readyz answers 503 with it meanwhile.

Exit codes: 0 after a clean stop, 1 when the consumer fails for good, 2 for invalid configuration.`;

const SHUTDOWN_GRACE_MS = 30_000;
const PROGRESS_EVERY_MS = 10_000;

const MIB = 1024 * 1024;

function reportProgress(bridge: RunningBridge, log: JsonLogger): () => void {
  let previous = '';
  let previousSizing = '';
  const timer = setInterval(() => {
    const parts = bridge.progress().map((p) => `p${p.partition}@${p.lastOffset} (${p.messages} msgs)`);
    const paused = bridge.pausedPartitions();
    const line = `delivered ${parts.join(', ') || 'nothing yet'}${paused.length ? `; paused [${paused.join(', ')}]` : ''}`;
    if (line !== previous) log.info(`bridge: ${line}`, { partitions: bridge.progress() });
    previous = line;
    // Compressed batches shrink the fetches; the line says by how much, and what the process holds meanwhile.
    const sizing = bridge.fetchSizing();
    const sizingLine =
      `fetch sizing: ${Math.round(sizing.maxBytesPerPartition / 1024)} KiB per partition, ` +
      `${Math.round(sizing.maxBytes / 1024)} KiB per fetch as stored (decoded/stored ${sizing.expansion.toFixed(1)})`;
    if (sizingLine !== previousSizing) {
      const memory = process.memoryUsage();
      log.info(`bridge: ${sizingLine}`, {
        ...sizing,
        rssMiB: Math.round(memory.rss / MIB),
        heapUsedMiB: Math.round(memory.heapUsed / MIB),
      });
    }
    previousSizing = sizingLine;
  }, PROGRESS_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const config = loadConfig(process.env, 'bridge');
  const settings = loadBridgeSettings();
  const secrets = secretValues(config);
  const log = createJsonLogger('bridge', {
    secrets,
    base: { topic: config.kafka.topic },
    level: config.logLevel,
  });
  logProcessWarnings(log);
  // Up before the bridge connects, so /healthz answers and /readyz says which dependency is missing.
  const ops = await startBridgeOps(config, log, (text) => maskSecrets(text, secrets));
  log.info(`bridge: metrics and health on http://${ops.address}`, { metricsAddress: ops.address });
  try {
    return await runBridge(config, settings, log);
  } finally {
    await ops.close();
  }
}

const RETRY_MAX_MS = 60_000;

/**
 * Starts the bridge, trying again (1 s doubling to a minute) while Kafka or Temporal refuses: a wrong password
 * or CA is then one clear error line per attempt and a 503 on /readyz, not a crash loop of restarts.
 * Undefined when stopped first.
 */
async function startWhenReachable(
  config: ReturnType<typeof loadConfig>,
  settings: ReturnType<typeof loadBridgeSettings>,
  log: JsonLogger,
  stopRequested: Promise<string>,
): Promise<RunningBridge | undefined> {
  let stopped = false;
  void stopRequested.then(() => (stopped = true));
  for (let delayMs = 1000; ; delayMs = Math.min(delayMs * 2, RETRY_MAX_MS)) {
    try {
      return await startBridge(config, settings, (line, fields, level = 'info') =>
        log[level](`bridge: ${line}`, fields),
      );
    } catch (err) {
      const reason = (describeKafkaError(err, config.kafka) as Error).message;
      log.error(`bridge: cannot start: ${reason}; trying again in ${delayMs / 1000}s`);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((r) => (timer = setTimeout(r, delayMs))), stopRequested]);
    clearTimeout(timer);
    if (stopped) return undefined;
  }
}

async function runBridge(
  config: ReturnType<typeof loadConfig>,
  settings: ReturnType<typeof loadBridgeSettings>,
  log: JsonLogger,
): Promise<number> {
  const stopRequested = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const bridge = await startWhenReachable(config, settings, log, stopRequested);
  if (bridge === undefined) {
    log.info('bridge: stopped before it could start');
    return 0;
  }
  const stopProgress = reportProgress(bridge, log);

  const outcome = await new Promise<{ signal: string } | { error: Error }>((resolve) => {
    void stopRequested.then((signal) => resolve({ signal }));
    bridge.failed.catch((error: Error) => resolve({ error }));
  });
  stopProgress();
  if ('signal' in outcome) log.info(`bridge: ${outcome.signal}: finishing the batch in hand, then stopping`);

  const grace = setTimeout(() => {
    log.error(`bridge: did not stop within ${SHUTDOWN_GRACE_MS / 1000}s; exiting`);
    process.exit(1);
  }, SHUTDOWN_GRACE_MS);
  grace.unref();
  await bridge.stop();
  if ('error' in outcome) {
    log.error(`bridge: ${outcome.error.message}`);
    return 1;
  }
  log.info('bridge: stopped; offsets committed up to what Temporal accepted');
  return 0;
}

if (require.main === module) {
  loadDotEnv();
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      createJsonLogger('bridge').error(`bridge: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(err instanceof ConfigError ? 2 : 1);
    },
  );
}
