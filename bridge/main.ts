// `npm run bridge`: runs the Kafka-to-Temporal bridge until SIGTERM or SIGINT.
import { ConfigError, loadConfig } from '../infra/config';
import { startBridge, type RunningBridge } from './bridge';
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
behind, or stopped because its offsets went backwards (see \`npm run client -- stream status\`). Each signal
carries the topic's id: a topic deleted and created again starts new chains. SIGTERM or SIGINT: finish the
signal in flight, commit, leave the group, exit 0.

Connection settings are the project's (see .env.example). Tuning, with defaults:
${describeBridgeVariables()}

Operations: BRIDGE_METRICS_ADDRESS (default 127.0.0.1:9465) serves /metrics (kiosk_stream_lag_messages and
kiosk_stream_last_stored_offset per partition), /healthz and /readyz (Kafka, Temporal and PostgreSQL answer;
503 otherwise). Logs are JSON, one object per line on stdout.

Exit codes: 0 after a clean stop, 1 when Kafka or Temporal cannot be reached or the consumer fails for good,
2 for invalid configuration.`;

const SHUTDOWN_GRACE_MS = 30_000;
const PROGRESS_EVERY_MS = 10_000;

function reportProgress(bridge: RunningBridge, log: JsonLogger): () => void {
  let previous = '';
  const timer = setInterval(() => {
    const parts = bridge.progress().map((p) => `p${p.partition}@${p.lastOffset} (${p.messages} msgs)`);
    const paused = bridge.pausedPartitions();
    const line = `delivered ${parts.join(', ') || 'nothing yet'}${paused.length ? `; paused [${paused.join(', ')}]` : ''}`;
    if (line !== previous) log.info(`bridge: ${line}`, { partitions: bridge.progress() });
    previous = line;
  }, PROGRESS_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const config = loadConfig();
  const settings = loadBridgeSettings();
  const secrets = secretValues(config);
  const log = createJsonLogger('bridge', { secrets, base: { topic: config.kafka.topic } });
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

async function runBridge(
  config: ReturnType<typeof loadConfig>,
  settings: ReturnType<typeof loadBridgeSettings>,
  log: JsonLogger,
): Promise<number> {
  const bridge = await startBridge(config, settings, (line, fields, level = 'info') =>
    log[level](`bridge: ${line}`, fields),
  );
  const stopProgress = reportProgress(bridge, log);

  const outcome = await new Promise<{ signal: string } | { error: Error }>((resolve) => {
    process.once('SIGTERM', () => resolve({ signal: 'SIGTERM' }));
    process.once('SIGINT', () => resolve({ signal: 'SIGINT' }));
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
