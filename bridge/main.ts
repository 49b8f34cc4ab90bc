// `npm run bridge`: runs the Kafka-to-Temporal bridge until SIGTERM or SIGINT.
import { ConfigError, loadConfig } from '../infra/config';
import { startBridge, type RunningBridge } from './bridge';
import { describeBridgeVariables, loadBridgeSettings } from './settings';
import { loadDotEnv } from '../infra/dotenv';

const HELP = `Usage: npm run bridge [-- --help]

Consumes the Kafka topic KAFKA_TOPIC as consumer group KAFKA_GROUP_ID and delivers its records, in batches,
to one streaming workflow per partition (stream-<topic>-<partition>) with signal-with-start. A Kafka offset
is committed only after Temporal accepted the records up to it; a partition is paused while its workflow is
behind. SIGTERM or SIGINT: finish the signal in flight, commit, leave the group, exit 0.

Connection settings are the project's (see .env.example). Tuning, with defaults:
${describeBridgeVariables()}

Exit codes: 0 after a clean stop, 1 when Kafka or Temporal cannot be reached or the consumer fails for good,
2 for invalid configuration.`;

const SHUTDOWN_GRACE_MS = 30_000;
const PROGRESS_EVERY_MS = 10_000;

function reportProgress(bridge: RunningBridge): () => void {
  let previous = '';
  const timer = setInterval(() => {
    const parts = bridge.progress().map((p) => `p${p.partition}@${p.lastOffset} (${p.messages} msgs)`);
    const paused = bridge.pausedPartitions();
    const line = `delivered ${parts.join(', ') || 'nothing yet'}${paused.length ? `; paused [${paused.join(', ')}]` : ''}`;
    if (line !== previous) console.log(`bridge: ${line}`);
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
  const bridge = await startBridge(config, settings);
  const stopProgress = reportProgress(bridge);

  const outcome = await new Promise<{ signal: string } | { error: Error }>((resolve) => {
    process.once('SIGTERM', () => resolve({ signal: 'SIGTERM' }));
    process.once('SIGINT', () => resolve({ signal: 'SIGINT' }));
    bridge.failed.catch((error: Error) => resolve({ error }));
  });
  stopProgress();
  if ('signal' in outcome)
    console.log(`bridge: ${outcome.signal}: finishing the batch in hand, then stopping`);

  const grace = setTimeout(() => {
    console.error(`bridge: did not stop within ${SHUTDOWN_GRACE_MS / 1000}s; exiting`);
    process.exit(1);
  }, SHUTDOWN_GRACE_MS);
  grace.unref();
  await bridge.stop();
  if ('error' in outcome) {
    console.error(`bridge: ${outcome.error.message}`);
    return 1;
  }
  console.log('bridge: stopped; offsets committed up to what Temporal accepted');
  return 0;
}

if (require.main === module) {
  loadDotEnv();
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`bridge: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(err instanceof ConfigError ? 2 : 1);
    },
  );
}
