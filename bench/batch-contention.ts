// `npm run bench:batch-contention [-- options]`: the batch beside the stream on a database with years of
// history. (1) The drain of the real stream sample into an empty database and into one holding the history;
// (2) reprocesses of the real files while the stream ingests at a fixed rate and a dashboard refreshes, with
// every activity retry counted from the workflows' histories and those caused by locks called out.
// See bench/README.md.
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureMonths } from '../batch/partitions';
import { buildSnapshot } from '../report/dashboard/snapshot';
import { readReplayValues } from '../simulator/kiosk-publishing';
import { createBucketWith, deleteBucket } from '../test/support/batch';
import { batchWorkflow } from '../batch/workflow';
import { startEntryPoint, waitForOutput } from '../test/support/child-process';
import { SHARED_DATA } from '../test/support/isolated-env';
import { countStored, SAMPLE_FILE, setUpStream, tearDownStream } from '../test/support/stream';
import { measureStreamDrain, type DrainResult } from '../test/support/stream-drain';
import { streamWorkflowId } from '../contracts/stream';
import {
  Cleanup,
  cleanUpOnSignals,
  countArg,
  describeMachine,
  exitOnError,
  median,
  parseOptions,
  progress,
  round,
  sleep,
  startWorkerProcess,
  stopProcess,
  writeResult,
} from './common';
import { producePaced } from './stream-kafka';

const USAGE = `Usage: npm run bench:batch-contention [-- options]

(1) Drains the ${6243} real stream messages (4 partitions, bridge and worker as child processes) into an
empty database and into one holding --history-days of rows (filled by SQL straight into the interaction
tables: the same months, rows and counts a batch history leaves there, without going through the batch),
alternately --repeat times; prints both and their ratio. (2) Loads the four real files, then reprocesses
them back to back while the stream ingests --rate messages per second for --seconds and a dashboard
refreshes every second; counts every activity retry in the batch and stream workflows' histories (all their runs) and
those whose failure was a lock (deadlock, lock timeout). Writes bench/results/batch-contention-latest.json.

Options:
  --history-days N   days of history for the drain (default 1,100; 500 rows a day)
  --repeat N         drains of each database (default 1)
  --rate N           messages per second during the reprocesses (default 500)
  --seconds N        how long the stream ingests at that rate, reprocesses running meanwhile (default 120)
  --skip-drain       part (2) only
  --skip-reprocess   part (1) only
  --help             this text

Targets: the drain with the history at least 0.9x as fast as into an empty database; zero
activity retries caused by locks during the reprocesses.`;

const ROWS_PER_DAY = 500;
const START = '2023-01-01';
const LOCK_FAILURE = /deadlock detected|lock timeout|could not obtain lock|canceling statement due to lock/i;

/** `days` days of batch rows (500 a day over opening hours, every exhibition), straight into the tables. */
async function fillHistory(databaseUrl: string, days: number): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const months = new Set<string>();
    for (let d = 0; d < days; d++) {
      months.add(
        new Date(Date.parse(`${START}T00:00:00Z`) + d * 86_400_000).toISOString().slice(0, 8) + '01',
      );
    }
    await ensureMonths(client, [...months]);
    await client.query(`insert into pipeline_run (run_id, kind, workflow_id, source)
      values ('bench-history', 'batch', 'bench-history', 'bench://history')`);
    const rows = days * ROWS_PER_DAY;
    // Value and kind from a hash of the row number: about 86 % ratings, as in the real files.
    const generated = `
      select g, timestamptz '${START} 09:00:00+00' + (g / ${ROWS_PER_DAY}) * interval '1 day'
                + (g % ${ROWS_PER_DAY}) * interval '68 seconds' as at,
             (select array_agg(exhibition_id order by site) from exhibition) as ids, (g::bigint * 7919) % 100 as p
      from generate_series(0, ${rows - 1}) g`;
    await client.query(`
      insert into rating_interaction (exhibition_id, rating_value, event_at, run_id, source_object, source_line)
      select ids[1 + g % cardinality(ids)], p % 5, at, 'bench-history', 'history/day-' || g / ${ROWS_PER_DAY},
             2 + g % ${ROWS_PER_DAY}
      from (${generated}) r where p < 86`);
    await client.query(`
      insert into request_interaction (exhibition_id, request_value, event_at, run_id, source_object, source_line)
      select ids[1 + g % cardinality(ids)], p % 2, at, 'bench-history', 'history/day-' || g / ${ROWS_PER_DAY},
             2 + g % ${ROWS_PER_DAY}
      from (${generated}) r where p >= 86`);
    await client.query('analyze');
    return rows;
  } finally {
    await client.end();
  }
}

interface Retries {
  runs: number;
  /** Activity attempts after the first, by activity type. */
  retries: Record<string, number>;
  /** Of those, the ones whose previous attempt failed on a lock. */
  lockRetries: number;
  lockFailures: string[];
}

/** Every retry of every activity in every run of these workflows, from their histories. */
async function countRetries(client: Client, workflowIds: string[]): Promise<Retries> {
  const out: Retries = { runs: 0, retries: {}, lockRetries: 0, lockFailures: [] };
  for (const id of workflowIds) {
    for await (const run of client.workflow.list({ query: `WorkflowId = '${id}'` })) {
      out.runs++;
      const history = await client.workflow.getHandle(id, run.runId).fetchHistory();
      const types = new Map<number, string>();
      for (const e of history.events ?? []) {
        const scheduled = e.activityTaskScheduledEventAttributes;
        if (scheduled) types.set(Number(e.eventId), scheduled.activityType?.name ?? '?');
        const started = e.activityTaskStartedEventAttributes;
        const failed = e.activityTaskFailedEventAttributes;
        // A started event records its attempt and the failure of the attempt before; a failed one the last.
        const failure = started && (started.attempt ?? 1) > 1 ? started.lastFailure : failed?.failure;
        if (failure === undefined || failure === null) continue;
        const type = types.get(Number(started?.scheduledEventId ?? failed?.scheduledEventId)) ?? '?';
        out.retries[type] = (out.retries[type] ?? 0) + (started ? (started.attempt ?? 1) - 1 : 0);
        const text = `${failure.message ?? ''} ${failure.cause?.message ?? ''}`;
        if (LOCK_FAILURE.test(text)) {
          out.lockRetries++;
          out.lockFailures.push(`${type}: ${text.trim().slice(0, 200)}`);
        }
      }
    }
  }
  return out;
}

async function drains(days: number, repeat: number) {
  const empty: DrainResult[] = [];
  const history: DrainResult[] = [];
  const messages = readReplayValues(SAMPLE_FILE).length;
  for (let i = 0; i < repeat; i++) {
    progress(`drain ${i + 1}/${repeat}: ${messages} messages into an empty database`);
    empty.push(await measureStreamDrain({ messages, partitions: 4, source: 'sample' }));
    progress(`  ${round(empty.at(-1)!.secondsFromJoin, 1)} s from the group join`);
    progress(`drain ${i + 1}/${repeat}: the same into ${days} days of history`);
    history.push(
      await measureStreamDrain({
        messages,
        partitions: 4,
        source: 'sample',
        prepare: async (env) => {
          const [s, rows] = await timed(() => fillHistory(env.cfg.databaseUrl, days));
          progress(`  history: ${rows.toLocaleString('en-GB')} rows in ${round(s, 1)} s`);
        },
      }),
    );
    progress(`  ${round(history.at(-1)!.secondsFromJoin, 1)} s from the group join`);
  }
  const e = median(empty.map((d) => d.secondsFromJoin));
  const h = median(history.map((d) => d.secondsFromJoin));
  return {
    messages,
    historyDays: days,
    historyRows: days * ROWS_PER_DAY,
    emptySecondsFromJoin: empty.map((d) => round(d.secondsFromJoin, 2)),
    historySecondsFromJoin: history.map((d) => round(d.secondsFromJoin, 2)),
    emptySecondsFromStart: empty.map((d) => round(d.seconds, 2)),
    historySecondsFromStart: history.map((d) => round(d.seconds, 2)),
    /** Rate with the history over rate into the empty database (>= 0.9 wanted). */
    ratio: round(e / h, 3),
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const began = performance.now();
  const result = await fn();
  return [(performance.now() - began) / 1000, result];
}

/** Refreshes the dashboard's snapshot every second until stopped; counts refreshes, errors, slowest. */
function dashboardLoop(knex: Knex) {
  const stats = { refreshes: 0, errors: [] as string[], slowestS: 0 };
  let running = true;
  const done = (async () => {
    while (running) {
      const began = performance.now();
      try {
        await buildSnapshot(knex, {});
        stats.refreshes++;
      } catch (err) {
        stats.errors.push((err as Error).message);
      }
      stats.slowestS = Math.max(stats.slowestS, (performance.now() - began) / 1000);
      await sleep(1000);
    }
  })();
  return {
    stats,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function reprocessUnderStream(rate: number, seconds: number, cleanup: Cleanup) {
  const env = await setUpStream('contention', 4);
  cleanup.add('stream env', () => tearDownStream(env));
  await createBucketWith(env.cfg, SHARED_DATA);
  cleanup.add('bucket', () => deleteBucket(env.cfg));
  const worker = await startWorkerProcess(env.cfg);
  cleanup.add('worker', () => stopProcess(worker));
  const bridge = startEntryPoint('bridge/main.ts', env.cfg);
  cleanup.add('bridge', () => stopProcess(bridge));
  await waitForOutput(bridge, /bridge: consuming/, 60_000);
  const source = `s3://${env.cfg.s3.bucket}/`;
  const batchIds: string[] = [];
  const batch = async (reprocess: boolean) => {
    const workflowId = `bench-contention-${batchIds.length}-${Date.now().toString(36)}`;
    batchIds.push(workflowId);
    const [s, summary] = await timed(() =>
      env.client.workflow.execute(batchWorkflow, {
        taskQueue: env.cfg.temporal.taskQueue,
        workflowId,
        args: [{ source, reprocess }],
      }),
    );
    return { seconds: round(s, 2), read: summary.read, loaded: summary.loaded, rejected: summary.rejected };
  };
  progress('first load of the real files');
  const first = await batch(false);
  progress(`the stream at ${rate} msg/s for ${seconds} s, the dashboard every second, reprocesses meanwhile`);
  const dashboard = dashboardLoop(env.knex);
  let producing = true;
  const producer = producePaced(env.cfg, 4, rate, seconds, 5).finally(() => {
    producing = false;
  });
  await sleep(3000);
  const runs = [];
  while (producing) {
    runs.push(await batch(true));
    progress(`  reprocess ${runs.length}: ${runs.at(-1)!.seconds} s`);
  }
  const produced = await producer;
  await dashboard.stop();
  progress(`produced ${produced.sent} messages in ${round(produced.seconds, 1)} s; waiting for the stream`);
  const began = performance.now();
  while ((await countStored(env.knex, env.cfg.kafka.topic)) < produced.sent) {
    if (performance.now() - began > 300_000)
      throw new Error('the stream did not store every message in 5 min');
    await sleep(500);
  }
  const streamIds = Array.from({ length: 4 }, (_, p) => streamWorkflowId(env.cfg.kafka.topic, p));
  const retries = await countRetries(env.client, [...batchIds, ...streamIds]);
  return {
    rate,
    produced: produced.sent,
    producedSeconds: round(produced.seconds, 1),
    firstLoad: first,
    reprocesses: runs,
    dashboard: { ...dashboard.stats, slowestS: round(dashboard.stats.slowestS, 3) },
    retries,
  };
}

async function main(): Promise<void> {
  const o = parseOptions(
    process.argv.slice(2),
    ['history-days', 'repeat', 'rate', 'seconds'],
    ['skip-drain', 'skip-reprocess'],
    USAGE,
  );
  const days = countArg('history-days', o['history-days'] as string | undefined, 1100);
  const repeat = countArg('repeat', o.repeat as string | undefined, 1);
  const rate = countArg('rate', o.rate as string | undefined, 500);
  const seconds = countArg('seconds', o.seconds as string | undefined, 120);
  const cleanup = new Cleanup();
  cleanUpOnSignals(cleanup);
  const machine = describeMachine(
    (process.env.DATABASE_URL ?? 'postgres://kiosk:kiosk@127.0.0.1:55432/kiosk').replace(
      /\/[^/]*$/,
      '/postgres',
    ),
  );
  try {
    const drain = o['skip-drain'] ? undefined : await drains(days, repeat);
    const contention = o['skip-reprocess'] ? undefined : await reprocessUnderStream(rate, seconds, cleanup);
    const result = {
      bench: 'batch-contention',
      at: new Date().toISOString(),
      machine: { ...machine, loadAverage: { ...machine.loadAverage, end: round(os.loadavg()[0]!, 2) } },
      drain,
      contention,
      targets: {
        drainRatio: drain && { want: '>= 0.9', met: drain.ratio >= 0.9 },
        lockRetries: contention && { want: '0', met: contention.retries.lockRetries === 0 },
      },
    };
    const file = writeResult('batch-contention', result);
    console.log(
      `bench:batch-contention` +
        (drain
          ? ` drain ${drain.messages} msgs: empty ${median(drain.emptySecondsFromJoin)} s, ${days} days of ` +
            `history ${median(drain.historySecondsFromJoin)} s (ratio ${drain.ratio});`
          : '') +
        (contention
          ? ` ${contention.reprocesses.length} reprocesses under ${rate} msg/s: ${contention.retries.lockRetries} lock retries, ` +
            `all retries ${JSON.stringify(contention.retries.retries)}, dashboard ${contention.dashboard.refreshes} ` +
            `refreshes, ${contention.dashboard.errors.length} errors;`
          : '') +
        ` load ${machine.loadAverage.start}->${result.machine.loadAverage.end}; ${path.relative(process.cwd(), file)}`,
    );
  } finally {
    await cleanup.run();
  }
}

main().catch(exitOnError('bench:batch-contention'));
