// Measures the stream's drain rate end to end: a backlog is published first, then a worker and a bridge start
// as child processes, and the clock runs until the last row is in PostgreSQL. For bench/stream.ts, and for
// one-off measurements through main([messages, 'sample' | 'simulated']).
import { connectPublisher } from '../../kafka/publisher';
import { readReplayValues, replayValues } from '../../simulator/kiosk-publishing';
import { simulationStart } from '../../simulator/kiosk-clock';
import { KioskTraffic } from '../../simulator/kiosk-traffic';
import { streamWorkflowId } from '../../contracts/stream';
import { startEntryPoint, waitForOutput, type RunningProcess } from './child-process';
import {
  countStored,
  queryState,
  SAMPLE_FILE,
  setUpStream,
  tearDownStream,
  waitUntil,
  workflowBundleFile,
  type StreamEnv,
} from './stream';

export interface DrainOptions {
  messages: number;
  partitions: number;
  /** 'simulated': generated traffic with the real noise; 'sample': the real sample, repeated as needed. */
  source: 'simulated' | 'sample';
  /** Extra environment for the bridge (tuning variables). */
  bridgeEnv?: Record<string, string>;
  log?: (line: string) => void;
  /** Run on the drain's database before anything is published (e.g. to give it years of history). */
  prepare?: (env: StreamEnv) => Promise<void>;
}

export interface DrainResult {
  messages: number;
  /** From the bridge's start (connections, group join included) to the last row. */
  seconds: number;
  messagesPerSecond: number;
  /** From the group's assignment to the last row. */
  secondsFromJoin: number;
  messagesPerSecondFromJoin: number;
  /** Per partition: runs in the chain, and the largest history of a run (events, bytes). */
  partitions: { partition: number; runs: number; maxHistoryEvents: number; maxHistoryBytes: number }[];
}

function backlog(options: DrainOptions): Buffer[] {
  if (options.source === 'sample') {
    const sample = readReplayValues(SAMPLE_FILE);
    return Array.from({ length: options.messages }, (_, i) => sample[i % sample.length]!);
  }
  const traffic = new KioskTraffic(1);
  const start = simulationStart(Date.now());
  return Array.from({ length: options.messages }, (_, i) => Buffer.from(traffic.next(start + i).value));
}

async function stop(p: RunningProcess | undefined): Promise<void> {
  if (p === undefined || p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  await p.exited;
}

export async function measureStreamDrain(options: DrainOptions): Promise<DrainResult> {
  const log = options.log ?? (() => undefined);
  const env = await setUpStream('drain', options.partitions);
  let worker: RunningProcess | undefined;
  let bridge: RunningProcess | undefined;
  try {
    await options.prepare?.(env);
    const publisher = await connectPublisher(env.cfg.kafka, env.cfg.kafka.topic);
    try {
      const published = await replayValues(publisher, backlog(options));
      log(`published ${options.messages} messages in ${published.seconds.toFixed(1)} s`);
    } finally {
      await publisher.close();
    }
    worker = startEntryPoint('worker.ts', env.cfg, [], { WORKFLOW_BUNDLE_PATH: await workflowBundleFile() });
    await waitForOutput(worker, /polling task queue/, 120_000);
    const started = Date.now();
    bridge = startEntryPoint('bridge/main.ts', env.cfg, [], options.bridgeEnv ?? {});
    await waitForOutput(bridge, /joined group/, 60_000);
    const joined = Date.now();
    await waitUntil(
      'every message stored',
      async () => (await countStored(env.knex, env.cfg.kafka.topic)) >= options.messages,
      30 * 60_000,
      200,
    );
    const done = Date.now();
    const seconds = (done - started) / 1000;
    const secondsFromJoin = (done - joined) / 1000;
    log(`drained in ${seconds.toFixed(1)} s (${Math.round(options.messages / seconds)} msg/s)`);

    const partitions: DrainResult['partitions'] = [];
    for (let p = 0; p < options.partitions; p++) {
      const state = await queryState(env, p);
      let maxHistoryEvents = 0;
      let maxHistoryBytes = 0;
      const query = `WorkflowId = '${streamWorkflowId(env.cfg.kafka.topic, p)}'`;
      for await (const run of env.client.workflow.list({ query })) {
        maxHistoryEvents = Math.max(maxHistoryEvents, run.historyLength);
        maxHistoryBytes = Math.max(maxHistoryBytes, run.historySize ?? 0);
      }
      partitions.push({ partition: p, runs: state.chainRuns, maxHistoryEvents, maxHistoryBytes });
    }
    return {
      messages: options.messages,
      seconds,
      messagesPerSecond: Math.round(options.messages / seconds),
      secondsFromJoin,
      messagesPerSecondFromJoin: Math.round(options.messages / secondsFromJoin),
      partitions,
    };
  } finally {
    await stop(bridge);
    await stop(worker);
    await tearDownStream(env);
  }
}

/** One measurement from the command line: [messages] [sample|simulated]. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const messages = Number(argv[0] ?? 100_000);
  const source = argv[1] === 'sample' ? 'sample' : 'simulated';
  const result = await measureStreamDrain({ messages, partitions: 4, source, log: console.error });
  console.log(JSON.stringify(result, null, 2));
}
