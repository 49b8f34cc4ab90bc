// The soak: a new history object and a batch run every minute and the stream at a steady rate, while one
// random part of the system (a stack service, the worker or the bridge) is SIGKILLed every few minutes and
// brought back. At the end it prints what was expected, stored, duplicated and lost on both paths, the
// activity retries the outages caused, and the worker's and bridge's memory over time.
import type { Client } from '@temporalio/client';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectPublisher, type Publisher } from '../kafka/publisher';
import { generateHistory } from '../simulator/history-files';
import { simulateTraffic } from '../simulator/kiosk-publishing';
import { REAL_NOISE } from '../simulator/kiosk-traffic';
import { seededRandom } from '../simulator/seeded-random';
import type { Config } from '../infra/config';
import { createKnex } from '../infra/db';
import { createTemporalClient } from '../infra/temporal';
import { batchWorkflow } from '../batch/workflow';
import { createBucketWith, deleteBucket } from '../test/support/batch';
import { sigkill, startEntryPoint, waitForOutput, type RunningProcess } from '../test/support/child-process';
import { seedRealExhibitions } from '../test/support/exhibitions';
import { actualBatchRows, expectedFromFiles } from '../test/support/expected-batch';
import { createDatabase, dropDatabase, isolatedConfig, uniqueSuffix } from '../test/support/isolated-env';
import { createTopic, deleteTopic, withKafkaAdmin } from '../test/support/kafka-topics';
import { killService, restartStack } from '../test/support/stack-control';
import { countStored, expectedOutcome, readTopic } from '../test/support/stream';
import {
  countArg,
  describeMachine,
  exitOnError,
  parseOptions,
  progress,
  round,
  sleep,
  workflowBundleFile,
  writeResult,
} from './common';

const USAGE = `Usage: npm run soak -- [options]

Runs the whole pipeline for a while under steady load and random crashes, then checks what it stored.
Uses the running local stack (npm run stack:up) on names of its own, and SIGKILLs its services: do not run
it beside a test suite.

  --minutes N        how long to run the load (default 30)
  --rate N           stream messages per second (default 200)
  --batch-every S    seconds between new history objects and batch runs (default 60)
  --rows N           rows per history object (default 2000)
  --kill-every S     seconds between kills (default 120; 0: no kills)
  --seed N           random seed for the traffic and the victims (default 1)
  --keep             keep the database, bucket and topic afterwards

The result is printed and written to bench/results/soak-latest.json.`;

const VICTIMS = ['postgres', 'kafka', 'temporal', 's3', 'worker', 'bridge'] as const;
type Victim = (typeof VICTIMS)[number];

interface MemorySample {
  atS: number;
  workerMiB: number;
  bridgeMiB: number;
}

function rssMiB(p: RunningProcess | undefined): number {
  if (p?.child.pid === undefined || p.child.exitCode !== null) return 0;
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p.child.pid}/status`, 'utf8'));
    return m ? round(Number(m[1]) / 1024, 1) : 0;
  } catch {
    return 0;
  }
}

/** Activity attempts beyond the first, over every workflow the soak ran on its task queue. */
async function countRetries(client: Client, cfg: Config): Promise<number> {
  let retries = 0;
  for await (const wf of client.workflow.list({ query: `TaskQueue = '${cfg.temporal.taskQueue}'` })) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    for (const e of history.events ?? []) {
      if ((e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) retries++;
    }
  }
  return retries;
}

async function main(): Promise<void> {
  const opts = parseOptions(
    process.argv.slice(2),
    ['minutes', 'rate', 'batch-every', 'rows', 'kill-every', 'seed'],
    ['keep'],
    USAGE,
  );
  const minutes = countArg('minutes', opts.minutes as string | undefined, 30);
  const rate = countArg('rate', opts.rate as string | undefined, 200);
  const batchEveryS = countArg('batch-every', opts['batch-every'] as string | undefined, 60);
  const rows = countArg('rows', opts.rows as string | undefined, 2000);
  const killEveryS = countArg('kill-every', opts['kill-every'] as string | undefined, 120, 0);
  const seed = countArg('seed', opts.seed as string | undefined, 1, 0);
  const random = seededRandom(seed);

  const cfg = isolatedConfig('soak');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-soak-'));
  await createDatabase(cfg.databaseUrl);
  const machine = describeMachine(cfg.databaseUrl);
  const knex = createKnex(cfg.databaseUrl, 2);
  await seedRealExhibitions(knex);
  await createTopic(cfg, 4);
  await createBucketWith(cfg, dir, []);
  const bundle = await workflowBundleFile();
  const client = await createTemporalClient(cfg.temporal);

  let worker: RunningProcess | undefined;
  let bridge: RunningProcess | undefined;
  const startWorker = async () => {
    worker = startEntryPoint('worker.ts', cfg, [], { WORKFLOW_BUNDLE_PATH: bundle });
    await waitForOutput(worker, /polling task queue/, 120_000);
  };
  const startBridge = async () => {
    bridge = startEntryPoint('bridge/main.ts', cfg, [], {
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    });
    await waitForOutput(bridge, /bridge: consuming/, 120_000);
  };
  await startWorker();
  await startBridge();

  const began = Date.now();
  const endAt = began + minutes * 60_000;
  const elapsedS = () => round((Date.now() - began) / 1000);
  const memory: MemorySample[] = [];
  const memoryTimer = setInterval(
    () => memory.push({ atS: elapsedS(), workerMiB: rssMiB(worker), bridgeMiB: rssMiB(bridge) }),
    10_000,
  );
  const kills: { atS: number; victim: Victim }[] = [];
  const failures: string[] = [];
  const note = (what: string, err: unknown) => {
    const line = `${elapsedS()}s ${what}: ${(err as Error).message.split('\n')[0]}`;
    failures.push(line);
    progress(line);
  };

  // The stream: one second of presses at a time; a send that fails (broker down) is retried a second later.
  // What reached Kafka is read back at the end, so a send that failed half-way still counts exactly.
  const produce = async () => {
    let publisher: Publisher | undefined;
    for (let second = 0; Date.now() < endAt; second++) {
      try {
        publisher ??= await connectPublisher(cfg.kafka, cfg.kafka.topic);
        await simulateTraffic(publisher, {
          rate,
          durationS: 1,
          noise: REAL_NOISE,
          seed: seed * 100_000 + second,
        });
      } catch (err) {
        note('produce', err);
        await publisher?.close().catch(() => undefined);
        publisher = undefined;
        await sleep(1000);
      }
    }
    await publisher?.close().catch(() => undefined);
  };

  // The batch: a new object lands, then a run loads what is not loaded yet (one run at a time, like a
  // schedule that skips overlapping runs).
  const objects: string[] = [];
  let runs = 0;
  let running: Promise<unknown> | undefined;
  const startRun = () => {
    running = client.workflow
      .execute(batchWorkflow, {
        taskQueue: cfg.temporal.taskQueue,
        workflowId: `soak-batch-${uniqueSuffix()}`,
        args: [{ source: `s3://${cfg.s3.bucket}/` }],
      })
      .then(() => runs++)
      .catch((err: unknown) => note('batch run', err))
      .finally(() => (running = undefined));
  };
  const landObject = async (n: number) => {
    const day = path.join(dir, `day-${n}`);
    const start = new Date(Date.UTC(2023, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
    await generateHistory({
      rows,
      files: 1,
      seed: seed + n,
      out: day,
      startDate: start,
      days: 1,
      sites: [0, 1, 2, 3, 4, 5],
    });
    const name = `lmnh_hist_data_${String(n).padStart(5, '0')}.csv`;
    fs.renameSync(path.join(day, 'lmnh_hist_data_0.csv'), path.join(dir, name));
    await createBucketWith(cfg, dir, [name]);
    objects.push(name);
  };
  const batches = async () => {
    for (let n = 0; Date.now() < endAt; n++) {
      try {
        await landObject(n);
      } catch (err) {
        note('land object', err);
      }
      if (running === undefined) startRun();
      await sleep(batchEveryS * 1000);
    }
  };

  const chaos = async () => {
    if (killEveryS === 0) return;
    while (Date.now() + killEveryS * 1000 < endAt) {
      await sleep(killEveryS * 1000);
      const victim = VICTIMS[Math.floor(random() * VICTIMS.length)]!;
      kills.push({ atS: elapsedS(), victim });
      progress(`killing ${victim}`);
      try {
        if (victim === 'worker') {
          if (worker) await sigkill(worker);
          await startWorker();
        } else if (victim === 'bridge') {
          if (bridge) await sigkill(bridge);
          await startBridge();
        } else {
          await killService(victim);
          await sleep(3000);
          await restartStack();
        }
      } catch (err) {
        note(`recover from killing ${victim}`, err);
        await restartStack().catch((e: unknown) => note('restart stack', e));
      }
    }
  };

  progress(
    `soak: ${minutes} min, ${rate} msg/s, an object every ${batchEveryS}s, a kill every ${killEveryS}s`,
  );
  await Promise.all([produce(), batches(), chaos()]);
  progress('load finished; a last batch run and the stream drain');
  while (running !== undefined) await sleep(1000);
  startRun();
  while (running !== undefined) await sleep(1000);

  const produced = await withKafkaAdmin(cfg, async (admin) =>
    (await admin.fetchTopicOffsets(cfg.kafka.topic)).reduce((n, p) => n + Number(p.high), 0),
  );
  const drainDeadline = Date.now() + 300_000;
  while ((await countStored(knex, cfg.kafka.topic)) < produced && Date.now() < drainDeadline)
    await sleep(1000);
  clearInterval(memoryTimer);

  const records = await readTopic(cfg, produced, 120_000);
  const expectedStream = expectedOutcome(records);
  const storedOffsets = await knex.raw<{ rows: { n: number; distinct_n: number }[] }>(
    `select count(*)::int as n, count(distinct (source_partition, source_offset))::int as distinct_n from (
       select source_partition, source_offset from rating_interaction where source_topic = :t
       union all select source_partition, source_offset from request_interaction where source_topic = :t
       union all select source_partition, source_offset from rejected_interaction where source_topic = :t) s`,
    { t: cfg.kafka.topic },
  );
  const streamStored = storedOffsets.rows[0]!;

  const files = objects.map((name) => ({
    uri: `s3://${cfg.s3.bucket}/${name}`,
    text: fs.readFileSync(path.join(dir, name), 'utf8'),
  }));
  const expectedBatch = expectedFromFiles(files, new Set([0, 1, 2, 3, 4, 5]));
  const actualBatch = await actualBatchRows(knex);
  const keyOf = (r: { uri: string; line: number }) => `${r.uri}#${r.line}`;
  const batchKeys = (e: typeof expectedBatch) => [...e.ratings, ...e.requests, ...e.rejects].map(keyOf);
  const wantBatch = new Set(batchKeys(expectedBatch));
  const gotBatchList = batchKeys(actualBatch);
  const gotBatch = new Set(gotBatchList);
  const retries = await countRetries(client, cfg).catch((err: unknown) => {
    note('count retries', err);
    return -1;
  });

  const result = {
    bench: 'soak',
    at: new Date().toISOString(),
    machine: { ...machine, loadAverage: { ...machine.loadAverage, end: round(os.loadavg()[0]!, 2) } },
    settings: { minutes, rate, batchEveryS, rows, killEveryS, seed },
    stream: {
      expected: records.length,
      stored: streamStored.n,
      duplicated: streamStored.n - streamStored.distinct_n,
      lost: records.length - streamStored.distinct_n,
      rejects: expectedStream.invalid.size,
    },
    batch: {
      objects: objects.length,
      runs,
      expected: wantBatch.size,
      stored: gotBatchList.length,
      duplicated: gotBatchList.length - gotBatch.size,
      lost: [...wantBatch].filter((k) => !gotBatch.has(k)).length,
    },
    retries,
    kills,
    failures,
    memory,
    peakMiB: {
      worker: Math.max(0, ...memory.map((m) => m.workerMiB)),
      bridge: Math.max(0, ...memory.map((m) => m.bridgeMiB)),
    },
  };
  const file = writeResult('soak', result);

  for (const p of [bridge, worker]) if (p && p.child.exitCode === null) await sigkill(p);
  await client.connection.close();
  await knex.destroy();
  if (opts.keep !== true) {
    await deleteTopic(cfg).catch(() => undefined);
    await deleteBucket(cfg).catch(() => undefined);
    await dropDatabase(cfg.databaseUrl).catch(() => undefined);
  }
  fs.rmSync(dir, { recursive: true, force: true });

  const s = result.stream;
  const b = result.batch;
  console.log(
    `soak ${minutes} min, ${kills.length} kills (${kills.map((k) => k.victim).join(', ') || 'none'}), ` +
      `${retries} activity retries\n` +
      `  stream: expected ${s.expected}, stored ${s.stored}, duplicated ${s.duplicated}, lost ${s.lost}\n` +
      `  batch:  ${b.objects} objects in ${b.runs} runs; expected ${b.expected} rows, stored ${b.stored}, ` +
      `duplicated ${b.duplicated}, lost ${b.lost}\n` +
      `  memory peak: worker ${result.peakMiB.worker} MiB, bridge ${result.peakMiB.bridge} MiB\n` +
      `  ${file}`,
  );
  if (s.lost + s.duplicated + b.lost + b.duplicated > 0) process.exitCode = 1;
}

main().catch(exitOnError('soak'));
