// `npm run bench:stream-memory`: the bridge's memory while it drains a compressed backlog. Kafka's own Java
// producer fills a topic of many partitions with kiosk presses under zstd and under lz4; then the bridge (as
// deployed: compiled, its image's heap cap) and the worker drain it, and the bench records the bridge's peak
// resident memory against its ECS task's, the drain's time, and that every press is stored once. See
// bench/README.md, "Memory under a compressed backlog".
import type { Knex } from 'knex';
import os from 'node:os';
import path from 'node:path';
import { loadBridgeSettings } from '../bridge/settings';
import type { Config } from '../infra/config';
import { createKnex } from '../infra/db';
import { createTemporalClient } from '../infra/temporal';
import { KioskTraffic, REAL_NOISE } from '../simulator/kiosk-traffic';
import { spawnNode, waitForOutput } from '../test/support/child-process';
import { seedRealExhibitions } from '../test/support/exhibitions';
import { createDatabase, dropDatabase, isolatedConfig } from '../test/support/isolated-env';
import { produceWithJava, type JavaCodec } from '../test/support/java-producer';
import { createTopic, deleteTopic } from '../test/support/kafka-topics';
import { streamWorkflowId } from '../contracts/stream';
import {
  Cleanup,
  cleanUpOnSignals,
  compiledProject,
  countArg,
  describeMachine,
  exitOnError,
  parseOptions,
  progress,
  round,
  RssSampler,
  sleep,
  startWorkerProcess,
  stopProcess,
  writeResult,
} from './common';
import { yesterdayAtTen } from './stream-kafka';
import { DEPLOYED_BRIDGE_HEAP_MB, BRIDGE_TASK_MEMORY_MIB } from './worker-launch';

const USAGE = `Usage: npm run bench:stream-memory [-- options]

For each codec: fills a topic of its own with kiosk presses (the simulator's format and noise) through Kafka's
Java console producer (its default batching, linger.ms 50), then drains it through the bridge (compiled, with
the deployed heap cap) and the worker, and records the bridge's peak resident memory (sampled every 100 ms and
the kernel's high-water mark), the drain's time, and the rows stored against the presses produced. Writes
bench/results/stream-memory-*.json.

Options:
  --messages N        presses per codec (default 3,000,000)
  --partitions N      partitions of the topic (default 16)
  --codecs LIST       comma-separated Java producer codecs (default zstd,lz4)
  --bridge-heap-mb N  the bridge's --max-old-space-size (default ${DEPLOYED_BRIDGE_HEAP_MB}, as deployed; 0: Node's default)
  --label TEXT        a word recorded with the result (e.g. before, after)
  --help              this text

Bridge settings come from the environment as in production (STREAM_FETCH_* and the others).`;

const cleanup = new Cleanup();
const JAVA_CHUNK = 250_000;

/** Fills the topic with `total` presses through the Java producer; returns how many are noise. */
async function fillWithJava(cfg: Config, total: number, codec: JavaCodec, seed: number): Promise<number> {
  const traffic = new KioskTraffic(seed, REAL_NOISE);
  const start = yesterdayAtTen();
  let noisy = 0;
  for (let sent = 0; sent < total;) {
    const count = Math.min(JAVA_CHUNK, total - sent);
    const values = Array.from({ length: count }, (_, k) => {
      const press = traffic.next(start + sent + k);
      if (press.fault !== null) noisy++;
      return press.value;
    });
    await produceWithJava(cfg, values, codec, {}, 600_000);
    sent += count;
    progress(`  ${sent.toLocaleString('en-GB')} produced (${codec})`);
  }
  return noisy;
}

/** Rows stored for the topic, every offset counted once whichever table holds it, and how many offsets repeat. */
async function storedRows(knex: Knex, topic: string): Promise<{ rows: number; distinct: number }> {
  const r = await knex.raw<{ rows: { rows: string; distinct: string }[] }>(
    `select count(*) as rows, count(distinct (source_partition, source_offset)) as distinct
       from (select source_partition, source_offset from rating_interaction where source_topic = :topic
             union all
             select source_partition, source_offset from request_interaction where source_topic = :topic
             union all
             select source_partition, source_offset from rejected_interaction where source_topic = :topic) s`,
    { topic },
  );
  return { rows: Number(r.rows[0]!.rows), distinct: Number(r.rows[0]!.distinct) };
}

interface CodecRun {
  codec: JavaCodec;
  produced: number;
  noisy: number;
  fillSeconds: number;
  drained: boolean;
  drainSeconds: number;
  messagesPerS: number;
  stored: number;
  storedOnce: boolean;
  bridgeExit: string | null;
  bridgePeakRssMiB: number;
  bridgeHwmMiB: number;
  workerPeakRssMiB: number;
  /** The bridge's progress lines that report its fetch sizing, first and last. */
  fetchSizing: string[];
  bridgeTail?: string;
}

async function drainOne(
  codec: JavaCodec,
  messages: number,
  partitions: number,
  heapMb: number | undefined,
): Promise<CodecRun> {
  const cfg = isolatedConfig(`bench-memory-${codec}`);
  await createTopic(cfg, partitions);
  const forgetTopic = cleanup.add('topic', () => deleteTopic(cfg));
  await createDatabase(cfg.databaseUrl);
  const forgetDatabase = cleanup.add('database', () => dropDatabase(cfg.databaseUrl));
  const knex = createKnex(cfg.databaseUrl, 2);
  const client = await createTemporalClient(cfg.temporal);
  try {
    await seedRealExhibitions(knex);
    progress(
      `${codec}: filling ${cfg.kafka.topic} (${partitions} partitions) with ${messages.toLocaleString('en-GB')} presses`,
    );
    const filling = performance.now();
    const noisy = await fillWithJava(cfg, messages, codec, 17);
    const fillSeconds = round((performance.now() - filling) / 1000, 1);

    const worker = await startWorkerProcess(cfg);
    const forgetWorker = cleanup.add('worker', () => stopProcess(worker));
    const workerRss = new RssSampler(worker.child.pid!);
    const heapFlag = heapMb === undefined ? [] : [`--max-old-space-size=${heapMb}`];
    const bridge = spawnNode(
      ['--enable-source-maps', ...heapFlag, path.join(compiledProject(), 'bridge', 'main.js')],
      cfg,
      { NODE_OPTIONS: '' },
    );
    const forgetBridge = cleanup.add('bridge', () => stopProcess(bridge));
    const bridgeRss = new RssSampler(bridge.child.pid!);
    await waitForOutput(bridge, /bridge: consuming/, 60_000);
    const began = performance.now();
    progress(`${codec}: draining`);

    let drained = false;
    let stored = { rows: 0, distinct: 0 };
    let lastChange = performance.now();
    let lastReport = 0;
    for (;;) {
      const now = await storedRows(knex, cfg.kafka.topic);
      if (now.rows !== stored.rows) lastChange = performance.now();
      stored = now;
      if (stored.distinct >= messages) {
        drained = true;
        break;
      }
      if (bridge.child.exitCode !== null || bridge.child.signalCode !== null) break;
      if (performance.now() - lastChange > 180_000) break;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        progress(
          `  ${stored.distinct.toLocaleString('en-GB')} stored; bridge RSS peak ${bridgeRss.peakMiB} MiB`,
        );
      }
      await sleep(250);
    }
    const drainSeconds = round((performance.now() - began) / 1000, 1);
    const exit = bridge.child.exitCode ?? bridge.child.signalCode;
    const bridgeMemory = bridgeRss.stop();
    const workerMemory = workerRss.stop();
    await stopProcess(bridge);
    forgetBridge();
    for (let p = 0; p < partitions; p++) {
      await client.workflow
        .getHandle(streamWorkflowId(cfg.kafka.topic, p))
        .terminate('bench finished')
        .catch(() => undefined);
    }
    await stopProcess(worker);
    forgetWorker();
    stored = await storedRows(knex, cfg.kafka.topic);
    const sizing = bridge
      .output()
      .split('\n')
      .filter((l) => l.includes('fetch sizing'))
      .map((l) => l.slice(0, 400));
    return {
      codec,
      produced: messages,
      noisy,
      fillSeconds,
      drained,
      drainSeconds,
      messagesPerS: drained ? round(messages / drainSeconds) : 0,
      stored: stored.rows,
      storedOnce: stored.rows === messages && stored.distinct === messages,
      bridgeExit: exit === null ? null : String(exit),
      bridgePeakRssMiB: bridgeMemory.peakRssMiB,
      bridgeHwmMiB: bridgeMemory.hwmMiB,
      workerPeakRssMiB: workerMemory.peakRssMiB,
      fetchSizing: sizing.length > 2 ? [sizing[0]!, sizing[sizing.length - 1]!] : sizing,
      bridgeTail: drained ? undefined : bridge.output().slice(-3000),
    };
  } finally {
    await client.connection.close();
    await knex.destroy();
    await dropDatabase(cfg.databaseUrl);
    forgetDatabase();
    await deleteTopic(cfg);
    forgetTopic();
  }
}

async function main(): Promise<void> {
  const o = parseOptions(
    process.argv.slice(2),
    ['messages', 'partitions', 'codecs', 'bridge-heap-mb', 'label'],
    [],
    USAGE,
  );
  const messages = countArg('messages', o.messages as string | undefined, 3_000_000);
  const partitions = countArg('partitions', o.partitions as string | undefined, 16);
  const heap = countArg(
    'bridge-heap-mb',
    o['bridge-heap-mb'] as string | undefined,
    DEPLOYED_BRIDGE_HEAP_MB,
    0,
  );
  const codecs = ((o.codecs as string | undefined) ?? 'zstd,lz4').split(',') as JavaCodec[];
  const machine = describeMachine(
    isolatedConfig('bench-memory').databaseUrl.replace(/\/[^/]*$/, '/postgres'),
  );
  cleanUpOnSignals(cleanup);
  try {
    const runs: CodecRun[] = [];
    for (const codec of codecs) {
      const run = await drainOne(codec, messages, partitions, heap === 0 ? undefined : heap);
      progress(
        `${codec}: ${run.drained ? `drained in ${run.drainSeconds} s (${run.messagesPerS}/s)` : `NOT drained (bridge exit ${run.bridgeExit})`}; ` +
          `stored ${run.stored.toLocaleString('en-GB')} of ${messages.toLocaleString('en-GB')}; bridge peak RSS ${run.bridgePeakRssMiB} MiB`,
      );
      runs.push(run);
    }
    machine.loadAverage.end = round(os.loadavg()[0]!, 2);
    const peak = Math.max(...runs.map((r) => r.bridgePeakRssMiB));
    const result = {
      bench: 'stream-memory',
      label: o.label,
      at: new Date().toISOString(),
      machine,
      input: {
        messages,
        partitions,
        codecs,
        producer: 'Kafka ConsoleProducer 4.1.1, linger.ms 50, acks all',
      },
      bridge: {
        compiled: true,
        heapMb: heap === 0 ? 'node default' : heap,
        taskMemoryMiB: BRIDGE_TASK_MEMORY_MIB,
      },
      settings: loadBridgeSettings(),
      targets: {
        drained: runs.every((r) => r.drained),
        storedOnce: runs.every((r) => r.storedOnce),
        bridgePeakRssMiB: peak,
        underTaskMemory: peak < BRIDGE_TASK_MEMORY_MIB,
      },
      runs,
    };
    const file = writeResult('stream-memory', result);
    console.log(
      `bench:stream-memory ${messages.toLocaleString('en-GB')} presses x ${codecs.join(', ')} over ${partitions} partitions: ` +
        runs
          .map(
            (r) =>
              `${r.codec} ${r.drained ? `${r.messagesPerS}/s` : 'not drained'}, stored ${r.stored}, bridge ${r.bridgePeakRssMiB} MiB`,
          )
          .join('; ') +
        `; bridge task ${BRIDGE_TASK_MEMORY_MIB} MiB; ${path.relative(process.cwd(), file)}`,
    );
    if (!result.targets.drained || !result.targets.storedOnce) process.exitCode = 1;
  } finally {
    await cleanup.run();
  }
}

main().catch(exitOnError('bench:stream-memory'));
