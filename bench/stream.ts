// `npm run bench:stream [-- --messages N]`: drains a pre-filled topic through the bridge, the streaming
// workflows and their load activity, and in the same run drains the same messages with a direct consumer that
// runs the same validation and load code without Temporal; then a latency run at a fixed rate, produce to
// committed row. See bench/README.md.
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBridgeSettings } from '../bridge/settings';
import type { Config } from '../infra/config';
import { createKnex } from '../infra/db';
import { createTemporalClient } from '../infra/temporal';
import { startEntryPoint, waitForOutput, type RunningProcess } from '../test/support/child-process';
import { seedRealExhibitions } from '../test/support/exhibitions';
import { createDatabase, dropDatabase, isolatedConfig } from '../test/support/isolated-env';
import { stateQuery, streamWorkflowId, type StreamState } from '../contracts/stream';
import {
  Cleanup,
  cleanUpOnSignals,
  countArg,
  CpuMeter,
  describeMachine,
  exitOnError,
  median,
  parseOptions,
  stackProcesses,
  progress,
  quantile,
  round,
  RssSampler,
  sleep,
  startWorkerProcess,
  stopProcess,
  writeResult,
} from './common';
import { startDirectConsumer } from './stream-direct';
import { DEPLOYED_WORKER } from './worker-launch';
import { createTopic, deleteTopic } from '../test/support/kafka-topics';
import { fillTopic, producePaced, type SendLog } from './stream-kafka';

const USAGE = `Usage: npm run bench:stream [-- options]

Fills a topic of its own with realistic kiosk messages (the simulator's format and noise), then times its
drain through the bridge (a bridge/main.ts child process), the streaming workflows and their load activity
(the compiled worker with the image's heap cap, a child process), and the drain of the same messages by a direct consumer (the bridge's Kafka seam
calling the same validation and load code, no Temporal). Then a latency run: messages produced at a fixed
rate through the whole pipeline, each timed from its send to its row being committed. Production settings
(bridge and workflow defaults) throughout. Writes bench/results/stream-latest.json.

Options:
  --messages N     messages pre-filled for the drain (default 500,000)
  --partitions N   partitions of the bench's topics (default 4, as the local stack's topic)
  --repeat N       drain rounds (pipeline and direct back to back), median reported (default 3)
  --rate N         latency run: messages per second (default 1,000)
  --duration S     latency run: seconds measured (default 60)
  --warmup S       latency run: seconds produced first and not measured (default 5)
  --skip-drain     latency run only
  --skip-latency   drain only
  --cpu-prof DIR   the worker and the bridge write V8 CPU profiles into DIR (each stopped with SIGTERM,
                   so they exit cleanly and write them); summarise with bench/profile-summary.ts
  --help           this text

Targets: drain >= 0.85 x the direct consumer and >= 20,000 messages/s; p99 < 500 ms at 1,000/s and < 1 s at
5,000/s; the worker's and the bridge's peak RSS no higher than before (bench/README.md).`;

const POLL_MS = 200;

// What to undo if the bench stops early: the topic, and whatever pipeline or database is running then.
const cleanup = new Cleanup();

interface Ledger {
  read: number;
  loaded: number;
  rejected: number;
}

async function streamLedger(knex: Knex, topic: string): Promise<Ledger> {
  const r = await knex.raw<{ rows: { read: string; loaded: string; rejected: string }[] }>(
    `select coalesce(sum(read_count), 0) as read, coalesce(sum(loaded_count), 0) as loaded,
            coalesce(sum(rejected_count), 0) as rejected
       from pipeline_run where kind = 'stream' and source like ?`,
    [`kafka://${topic}/%`],
  );
  const row = r.rows[0]!;
  return { read: Number(row.read), loaded: Number(row.loaded), rejected: Number(row.rejected) };
}

/** Polls the run ledger (updated in the same transaction as the rows) until `expected` messages are stored. */
async function waitForLedger(
  knex: Knex,
  topic: string,
  expected: number,
  began: number,
  failed?: Promise<never>,
): Promise<{ seconds: number; firstRowS: number; ledger: Ledger }> {
  let firstRowS = NaN;
  let lastReport = 0;
  let lastRead = -1;
  let lastChange = performance.now();
  for (;;) {
    const ledger = await streamLedger(knex, topic);
    const now = performance.now();
    if (ledger.read > 0 && Number.isNaN(firstRowS)) firstRowS = (now - began) / 1000;
    if (ledger.read >= expected) return { seconds: (now - began) / 1000, firstRowS, ledger };
    if (ledger.read !== lastRead) {
      lastRead = ledger.read;
      lastChange = now;
    } else if (now - lastChange > 120_000) {
      throw new Error(`stalled at ${ledger.read} of ${expected} messages for 2 minutes`);
    }
    if (now - lastReport > 10_000) {
      lastReport = now;
      const rate = ledger.read / ((now - began) / 1000);
      progress(
        `  ${ledger.read.toLocaleString('en-GB')} of ${expected.toLocaleString('en-GB')} (${Math.round(rate)}/s)`,
      );
    }
    await (failed ? Promise.race([sleep(POLL_MS), failed]) : sleep(POLL_MS));
  }
}

async function freshDatabase(cfg: Config): Promise<Knex> {
  await createDatabase(cfg.databaseUrl);
  const knex = createKnex(cfg.databaseUrl, 2);
  await seedRealExhibitions(knex);
  return knex;
}

/** Config for one pipeline or direct run: its own database, task queue and consumer group, the given topic. */
function runConfig(label: string, topicCfg: Config): Config {
  const own = isolatedConfig(label);
  return { ...own, kafka: { ...topicCfg.kafka, groupId: own.kafka.groupId } };
}

/**
 * Asks each partition's workflow how its chain went (runs, i.e. continue-as-new count + 1, and the last
 * flush), then terminates it: the workflows are long-running by design and would otherwise wait for more.
 */
async function finishStreamWorkflows(client: Client, topic: string, partitions: number) {
  const chains: Pick<StreamState, 'partition' | 'chainRuns' | 'received' | 'carriedOver' | 'lastFlush'>[] =
    [];
  for (let p = 0; p < partitions; p++) {
    const handle = client.workflow.getHandle(streamWorkflowId(topic, p));
    try {
      const s = await client.withDeadline(Date.now() + 5000, () => handle.query(stateQuery));
      chains.push({
        partition: p,
        chainRuns: s.chainRuns,
        received: s.received,
        carriedOver: s.carriedOver,
        lastFlush: s.lastFlush,
      });
      await handle.terminate('bench finished');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) progress(`  workflow ${p}: ${(err as Error).message}`);
    }
  }
  return chains;
}

interface Pipeline {
  cfg: Config;
  knex: Knex;
  worker: RunningProcess;
  bridge: RunningProcess;
  workerRss: RssSampler;
  bridgeRss: RssSampler;
  /** performance.now() when the bridge had joined its group and was consuming. */
  consumingAt: number;
  /** Pauses, resumes and failures the bridge reported, with the (epoch ms) time they were read. */
  events: { at: number; line: string }[];
  stop(): Promise<{
    workerPeakRssMiB: number;
    bridgePeakRssMiB: number;
    cpuSeconds: Record<string, number>;
    workflows: Awaited<ReturnType<typeof finishStreamWorkflows>>;
  }>;
}

/** node flags for the worker and the bridge: --cpu-prof's, when asked for. */
let profileFlags: string[] = [];

/** A worker and a bridge as child processes on a fresh database (production settings), consuming `topicCfg`. */
async function startPipeline(label: string, topicCfg: Config, partitions: number): Promise<Pipeline> {
  const cfg = runConfig(label, topicCfg);
  const knex = await freshDatabase(cfg);
  const forgetDatabase = cleanup.add('pipeline database', () => dropDatabase(cfg.databaseUrl));
  const client = await createTemporalClient(cfg.temporal);
  const worker = await startWorkerProcess(cfg, DEPLOYED_WORKER, profileFlags);
  const forgetWorker = cleanup.add('worker', () => stopProcess(worker));
  const workerRss = new RssSampler(worker.child.pid!);
  const bridgeEnv: Record<string, string> =
    profileFlags.length > 0
      ? { NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', ...profileFlags].join(' ').trim() }
      : {};
  const bridge = startEntryPoint('bridge/main.ts', cfg, [], bridgeEnv);
  const forgetBridge = cleanup.add('bridge', () => stopProcess(bridge));
  // The bridge's notable moments (pauses for backpressure or continue-as-new), timed, to explain latency spikes.
  const events: { at: number; line: string }[] = [];
  bridge.child.stdout?.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      if (/paus|resum|caught up|fail|restart/i.test(line)) {
        events.push({ at: performance.timeOrigin + performance.now(), line: line.trim() });
      }
    }
  });
  await waitForOutput(bridge, /bridge: consuming/, 60_000);
  const consumingAt = performance.now();
  const bridgeRss = new RssSampler(bridge.child.pid!);
  const cpu = new CpuMeter({
    worker: { pid: worker.child.pid!, tree: false },
    bridge: { pid: bridge.child.pid!, tree: false },
    ...stackProcesses(),
  });
  return {
    cfg,
    knex,
    worker,
    bridge,
    workerRss,
    bridgeRss,
    consumingAt,
    events,
    stop: async () => {
      const memory = {
        workerPeakRssMiB: workerRss.stop().peakRssMiB,
        bridgePeakRssMiB: bridgeRss.stop().peakRssMiB,
        cpuSeconds: cpu.stop(),
        workflows: [] as Awaited<ReturnType<typeof finishStreamWorkflows>>,
      };
      try {
        await stopProcess(bridge);
        forgetBridge();
        memory.workflows = await finishStreamWorkflows(client, cfg.kafka.topic, partitions);
        await stopProcess(worker);
        forgetWorker();
      } finally {
        await client.connection.close();
        await knex.destroy();
        await dropDatabase(cfg.databaseUrl);
        forgetDatabase();
      }
      return memory;
    },
  };
}

interface DrainRun {
  cpuSeconds?: Record<string, number>;
  seconds: number;
  messagesPerS: number;
  firstRowS: number;
  ledger: Ledger;
}

async function drainPipeline(
  topicCfg: Config,
  partitions: number,
  messages: number,
): Promise<DrainRun & { workerPeakRssMiB: number; bridgePeakRssMiB: number }> {
  const p = await startPipeline('bench-stream-pipeline', topicCfg, partitions);
  let result;
  try {
    result = await waitForLedger(p.knex, topicCfg.kafka.topic, messages, p.consumingAt);
  } catch (err) {
    progress(
      `  bridge output:\n${p.bridge.output().slice(-2000)}\n  worker output:\n${p.worker.output().slice(-2000)}`,
    );
    await p.stop();
    throw err;
  }
  const memory = await p.stop();
  return { ...result, messagesPerS: round(messages / result.seconds), ...memory };
}

async function drainDirect(topicCfg: Config, messages: number): Promise<DrainRun> {
  const cfg = runConfig('bench-stream-direct', topicCfg);
  const knex = await freshDatabase(cfg);
  const forgetDatabase = cleanup.add('direct database', () => dropDatabase(cfg.databaseUrl));
  try {
    const direct = await startDirectConsumer(cfg, loadBridgeSettings());
    const began = performance.now();
    const cpu = new CpuMeter({
      'bench (direct consumer)': { pid: process.pid, tree: false },
      ...stackProcesses(),
    });
    try {
      const result = await waitForLedger(knex, topicCfg.kafka.topic, messages, began, direct.failed);
      return { ...result, messagesPerS: round(messages / result.seconds), cpuSeconds: cpu.stop() };
    } finally {
      await direct.stop();
    }
  } finally {
    await knex.destroy();
    await dropDatabase(cfg.databaseUrl);
    forgetDatabase();
  }
}

/** Per partition, the highest offset committed, read at `pollStart` (a row is committed before the read). */
type Visibility = Map<number, { at: number; offset: number }[]>;

async function pollVisibility(
  knex: Knex,
  topic: string,
  partitions: number,
  until: () => boolean,
): Promise<Visibility> {
  const seen: Visibility = new Map();
  const last = new Map<number, number>();
  const maxOf = (table: string) =>
    `(select max(source_offset) from ${table} where source_topic = :topic and source_partition = p)`;
  while (!until()) {
    const at = performance.timeOrigin + performance.now();
    const r = await knex.raw<{ rows: { p: number; o: string | null }[] }>(
      `select p, greatest(${maxOf('rating_interaction')}, ${maxOf('request_interaction')},
                          ${maxOf('rejected_interaction')}) as o
         from generate_series(0, :last) as p`,
      { topic, last: partitions - 1 },
    );
    for (const row of r.rows) {
      if (row.o === null) continue;
      const offset = Number(row.o);
      if (offset === last.get(row.p)) continue;
      last.set(row.p, offset);
      const list = seen.get(row.p) ?? [];
      list.push({ at, offset });
      seen.set(row.p, list);
    }
    await sleep(50);
  }
  return seen;
}

/** Latency of every message sent at or after `measureFrom`, in ms, sorted. */
/** Per second of the measured run: the worst latency of the messages sent in it, per partition. */
type Timeline = { second: number; worstMs: number[] }[];

/** Latency of every message sent at or after `measureFrom`, in ms, sorted, and the worst per second sent. */
function latencies(
  sends: SendLog,
  seen: Visibility,
  measureFrom: number,
  partitions: number,
): { sorted: number[]; missing: number; timeline: Timeline } {
  const out: number[] = [];
  const timeline: Timeline = [];
  let missing = 0;
  for (const [partition, list] of sends) {
    const visible = seen.get(partition) ?? [];
    let v = 0;
    for (const send of [...list].sort((a, b) => a.baseOffset - b.baseOffset)) {
      for (let offset = send.baseOffset; offset < send.baseOffset + send.count; offset++) {
        while (v < visible.length && visible[v]!.offset < offset) v++;
        if (send.sentAt < measureFrom) continue;
        if (v === visible.length) {
          missing++;
          continue;
        }
        const ms = visible[v]!.at - send.sentAt;
        out.push(ms);
        const second = Math.floor((send.sentAt - measureFrom) / 1000);
        timeline[second] ??= { second, worstMs: new Array<number>(partitions).fill(0) };
        timeline[second].worstMs[partition] = Math.max(timeline[second].worstMs[partition]!, Math.round(ms));
      }
    }
  }
  return { sorted: out.sort((a, b) => a - b), missing, timeline: timeline.filter((t) => t !== undefined) };
}

interface LatencyResult {
  rate: number;
  durationS: number;
  warmupS: number;
  measured: number;
  producedPerS: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  workerPeakRssMiB: number;
  bridgePeakRssMiB: number;
  cpuSeconds: Record<string, number>;
  workflows: Awaited<ReturnType<typeof finishStreamWorkflows>>;
  /** Seconds of the measured run in which some message took over 2 s (worst per partition). */
  slowSeconds: Timeline;
  /** The bridge's pauses and resumes, in seconds since the measured run began. */
  bridgeEvents: string[];
}

async function latencyRun(
  partitions: number,
  rate: number,
  duration: number,
  warmup: number,
): Promise<LatencyResult> {
  const topicCfg = isolatedConfig('bench-latency');
  await createTopic(topicCfg, partitions);
  const forgetTopic = cleanup.add('latency topic', () => deleteTopic(topicCfg));
  try {
    const p = await startPipeline('bench-latency', topicCfg, partitions);
    try {
      let done = false;
      const polling = pollVisibility(p.knex, topicCfg.kafka.topic, partitions, () => done);
      const began = performance.timeOrigin + performance.now();
      progress(`latency: producing ${rate}/s for ${warmup} s warm-up + ${duration} s measured`);
      const produced = await producePaced(topicCfg, partitions, rate, warmup + duration, 11);
      progress(
        `  produced ${produced.sent.toLocaleString('en-GB')} in ${produced.seconds.toFixed(1)} s; waiting for the last rows`,
      );
      const deadline = performance.now() + 120_000;
      while ((await streamLedger(p.knex, topicCfg.kafka.topic)).read < produced.sent) {
        if (performance.now() > deadline)
          throw new Error('the latency run did not finish loading within 2 minutes');
        await sleep(POLL_MS);
      }
      await sleep(200);
      done = true;
      const seen = await polling;
      const { sorted, missing, timeline } = latencies(produced.log, seen, began + warmup * 1000, partitions);
      if (missing > 0) throw new Error(`${missing} measured messages were never seen committed`);
      const memory = await p.stop();
      return {
        rate,
        durationS: duration,
        warmupS: warmup,
        measured: sorted.length,
        producedPerS: round(produced.sent / produced.seconds),
        p50Ms: round(quantile(sorted, 0.5)),
        p95Ms: round(quantile(sorted, 0.95)),
        p99Ms: round(quantile(sorted, 0.99)),
        maxMs: round(sorted[sorted.length - 1] ?? NaN),
        ...memory,
        slowSeconds: timeline.filter((t) => t.worstMs.some((ms) => ms > 2000)),
        bridgeEvents: p.events.map((e) => `${round((e.at - began) / 1000 - warmup, 1)} s: ${e.line}`),
      };
    } catch (err) {
      progress(`  bridge output:\n${p.bridge.output().slice(-2000)}`);
      await p.stop().catch(() => undefined);
      throw err;
    }
  } finally {
    await deleteTopic(topicCfg);
    forgetTopic();
  }
}

async function main(): Promise<void> {
  const o = parseOptions(
    process.argv.slice(2),
    ['messages', 'partitions', 'repeat', 'rate', 'duration', 'warmup', 'cpu-prof'],
    ['skip-drain', 'skip-latency'],
    USAGE,
  );
  const messages = countArg('messages', o.messages as string | undefined, 500_000);
  const partitions = countArg('partitions', o.partitions as string | undefined, 4);
  const repeat = countArg('repeat', o.repeat as string | undefined, 3);
  const rate = countArg('rate', o.rate as string | undefined, 1000);
  const duration = countArg('duration', o.duration as string | undefined, 60);
  const warmup = countArg('warmup', o.warmup as string | undefined, 5, 0);
  const profileDir = o['cpu-prof'] as string | undefined;
  if (profileDir !== undefined) {
    fs.mkdirSync(profileDir, { recursive: true });
    profileFlags = ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`];
  }
  const topicCfg = isolatedConfig('bench-stream');
  const machine = describeMachine(topicCfg.databaseUrl.replace(/\/[^/]*$/, '/postgres'));
  cleanUpOnSignals(cleanup);

  try {
    type PipelineDrain = Awaited<ReturnType<typeof drainPipeline>>;
    const rounds: { pipeline: PipelineDrain; direct: DrainRun; ratio: number }[] = [];
    let input: Record<string, number> | undefined;
    let mismatch: string | undefined;
    if (o['skip-drain'] !== true) {
      await createTopic(topicCfg, partitions);
      cleanup.add('topic', () => deleteTopic(topicCfg));
      progress(
        `filling topic ${topicCfg.kafka.topic} (${partitions} partitions) with ${messages.toLocaleString('en-GB')} messages`,
      );
      const fill = await fillTopic(topicCfg, partitions, messages, 5, (n) =>
        progress(`  ${n.toLocaleString('en-GB')} sent`),
      );
      input = { messages, partitions, noisy: fill.noisy, fillSeconds: round(fill.seconds, 1) };
      for (let r = 1; r <= repeat; r++) {
        // Alternate which goes first, so neither always gets the warmer page cache or the quieter minute.
        const order = r % 2 === 1 ? (['pipeline', 'direct'] as const) : (['direct', 'pipeline'] as const);
        const got: Partial<(typeof rounds)[number]> = {};
        for (const which of order) {
          progress(
            `round ${r}/${repeat}: ${which === 'pipeline' ? 'bridge + workflows + load' : 'direct consumer (no Temporal)'}`,
          );
          if (which === 'pipeline') got.pipeline = await drainPipeline(topicCfg, partitions, messages);
          else got.direct = await drainDirect(topicCfg, messages);
          const run = which === 'pipeline' ? got.pipeline! : got.direct!;
          progress(
            `  ${run.messagesPerS.toLocaleString('en-GB')} messages/s (${round(run.seconds, 1)} s; first row after ${round(run.firstRowS, 2)} s)`,
          );
        }
        const { pipeline, direct } = got as Required<typeof got>;
        if (
          pipeline.ledger.loaded !== direct.ledger.loaded ||
          pipeline.ledger.rejected !== direct.ledger.rejected
        ) {
          mismatch = `pipeline ${JSON.stringify(pipeline.ledger)} vs direct ${JSON.stringify(direct.ledger)}`;
        }
        rounds.push({ pipeline, direct, ratio: round(pipeline.messagesPerS / direct.messagesPerS, 3) });
      }
    }
    let latency: LatencyResult | undefined;
    if (o['skip-latency'] !== true) latency = await latencyRun(partitions, rate, duration, warmup);

    machine.loadAverage.end = round(os.loadavg()[0]!, 2);
    const med = (f: (r: (typeof rounds)[number]) => number) =>
      rounds.length ? median(rounds.map(f)) : undefined;
    const pipelineRate = med((r) => r.pipeline.messagesPerS);
    const ratio = med((r) => r.ratio);
    // Where the time goes: CPU seconds of each process per 100,000 messages, the median over the rounds.
    const per100k = (side: 'pipeline' | 'direct') => {
      const names = new Set(rounds.flatMap((r) => Object.keys(r[side].cpuSeconds ?? {})));
      return Object.fromEntries(
        [...names].map((n) => [
          n,
          round(median(rounds.map((r) => ((r[side].cpuSeconds?.[n] ?? 0) * 1e5) / messages)), 2),
        ]),
      );
    };
    const cpuPer100k = rounds.length
      ? { pipeline: per100k('pipeline'), direct: per100k('direct') }
      : undefined;
    // The latency targets: p99 under 500 ms at 1,000 msg/s, under 1 s at 5,000 msg/s.
    const p99Limit = rate <= 1000 ? 500 : 1000;
    const result = {
      bench: 'stream',
      at: new Date().toISOString(),
      machine,
      input,
      settings: loadBridgeSettings(),
      worker: DEPLOYED_WORKER,
      median: {
        pipelineMessagesPerS: pipelineRate,
        directMessagesPerS: med((r) => r.direct.messagesPerS),
        ratio,
      },
      cpuPer100k,
      latency,
      sameOutcome: mismatch === undefined,
      mismatch,
      targets: {
        ratioToDirect: { want: '>= 0.85', met: ratio === undefined ? undefined : ratio >= 0.85 },
        drainRate: {
          want: '>= 20,000 messages/s',
          met: pipelineRate === undefined ? undefined : pipelineRate >= 20_000,
        },
        p99: {
          want: `< ${p99Limit.toLocaleString('en-GB')} ms at ${rate.toLocaleString('en-GB')}/s`,
          met: latency === undefined || rate > 5000 ? undefined : latency.p99Ms < p99Limit,
        },
      },
      rounds,
    };
    const file = writeResult('stream', result);
    const fmt = (n: number | undefined) => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-GB'));
    console.log(
      `bench:stream ${
        input
          ? `${messages.toLocaleString('en-GB')} messages, ${partitions} partitions, median of ${repeat}: ` +
            `pipeline ${fmt(pipelineRate)}/s, direct ${fmt(result.median.directMessagesPerS)}/s (ratio ${ratio}); ` +
            `CPU s per 100k: pipeline ${JSON.stringify(cpuPer100k?.pipeline)}, direct ${JSON.stringify(cpuPer100k?.direct)}; `
          : ''
      }` +
        (latency
          ? `latency at ${rate}/s: p50 ${latency.p50Ms} ms, p95 ${latency.p95Ms} ms, p99 ${latency.p99Ms} ms; `
          : '') +
        `load ${machine.loadAverage.start}->${machine.loadAverage.end}; ${path.relative(process.cwd(), file)}`,
    );
    if (mismatch !== undefined) {
      console.error(
        `bench:stream: the pipeline and the direct consumer stored different outcomes: ${mismatch}`,
      );
      process.exitCode = 1;
    }
  } finally {
    await cleanup.run();
  }
}

main().catch(exitOnError('bench:stream'));
