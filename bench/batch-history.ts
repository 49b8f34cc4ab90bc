// `npm run bench:batch-history [-- --history-days 1100]`: whether a database grown over years of daily
// objects stays as fast as a new one. Loads the history, then a few more days, and compares that with the
// same days into an empty database; times every report section over the whole history. See bench/README.md.
import type { Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateHistory } from '../simulator/history-files';
import { createKnex } from '../infra/db';
import { loadReportData } from '../report/data';
import { parseDateRange } from '../report/range';
import { createBucketWith, deleteBucket, runBatch } from '../test/support/batch';
import { createDatabase, dropDatabase, isolatedConfig } from '../test/support/isolated-env';
import { startTestWorker, type TestWorker } from '../test/support/test-worker';
import type { Config } from '../infra/config';
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
  writeResult,
} from './common';

const USAGE = `Usage: npm run bench:batch-history [-- options]

Generates --history-days days of kiosk history (one object a day by default) and --extra-days more, loads the
history with the batch workflow, then loads the extra days on top of it (first run, then reprocesses), and
the same extra days into an empty database; prints the ratio of the two, the relations in the database, and
the time of every report section over the whole history. Writes bench/results/batch-history-latest.json.

Options:
  --history-days N     days of history (default 1,100)
  --history-objects N  objects the history is split over (default: one a day)
  --extra-days N       days loaded on top, one object each (default 5)
  --rows-per-day N     rows in a day (default 500)
  --repeat N           loads of the extra days in each database, median reported (default 3)
  --help               this text

Targets (the issue's): extra days on the history <= 1.2 x into an empty database; every report section over
the whole history < 1 s.`;

const SITES = [0, 1, 2, 3, 4, 5];
const START = '2023-01-01';

const addDays = (iso: string, days: number) =>
  new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const began = performance.now();
  const result = await fn();
  return [(performance.now() - began) / 1000, result];
}

/** Seconds of each load of `source` into `cfg`'s database: a first run, then reprocesses. */
async function loadTimes(tw: TestWorker, cfg: Config, source: string, repeat: number): Promise<number[]> {
  const seconds: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const [s] = await timed(() => runBatch(tw.env.client, cfg, { source, reprocess: i > 0 }));
    seconds.push(round(s, 3));
  }
  return seconds;
}

async function relations(knex: Knex): Promise<number> {
  const r = await knex.raw<{ rows: { n: number }[] }>(
    `select count(*)::int as n from pg_class where relnamespace = 'public'::regnamespace`,
  );
  return r.rows[0]!.n;
}

async function main(): Promise<void> {
  const o = parseOptions(
    process.argv.slice(2),
    ['history-days', 'history-objects', 'extra-days', 'rows-per-day', 'repeat'],
    [],
    USAGE,
  );
  const days = countArg('history-days', o['history-days'] as string | undefined, 1100);
  const historyObjects = countArg('history-objects', o['history-objects'] as string | undefined, days);
  const extraDays = countArg('extra-days', o['extra-days'] as string | undefined, 5);
  const rowsPerDay = countArg('rows-per-day', o['rows-per-day'] as string | undefined, 500);
  const repeat = countArg('repeat', o.repeat as string | undefined, 3);

  const bucket = isolatedConfig('bench-history');
  const empty: Config = {
    ...isolatedConfig('bench-history-empty'),
    s3: bucket.s3,
    temporal: bucket.temporal,
  };
  const machine = describeMachine(bucket.databaseUrl.replace(/\/[^/]*$/, '/postgres'));
  const cleanup = new Cleanup();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-bench-history-'));
  cleanup.add('temp folder', () => fs.promises.rm(dir, { recursive: true, force: true }));
  cleanUpOnSignals(cleanup);
  try {
    progress(`generating ${days} days in ${historyObjects} objects, then ${extraDays} days in ${extraDays}`);
    const historyDir = path.join(dir, 'history');
    const extraDir = path.join(dir, 'extra');
    const common = { seed: 11, startDate: START, sites: SITES };
    const historyNames = await generateHistory({
      ...common,
      rows: days * rowsPerDay,
      files: historyObjects,
      days,
      out: historyDir,
    });
    const extraNames = await generateHistory({
      ...common,
      rows: extraDays * rowsPerDay,
      files: extraDays,
      days: extraDays,
      startDate: addDays(START, days),
      out: extraDir,
    });
    cleanup.add('bucket', () => deleteBucket(bucket));
    progress('uploading');
    await createBucketWith(bucket, historyDir, historyNames, 'history/');
    await createBucketWith(bucket, extraDir, extraNames, 'extra/');
    const historySource = `s3://${bucket.s3.bucket}/history/`;
    const extraSource = `s3://${bucket.s3.bucket}/extra/`;

    await createDatabase(bucket.databaseUrl);
    cleanup.add('history database', () => dropDatabase(bucket.databaseUrl));
    await createDatabase(empty.databaseUrl);
    cleanup.add('empty database', () => dropDatabase(empty.databaseUrl));
    // One in-process worker per database (activities reach the database of their worker's config).
    progress(`the ${extraDays} extra days into an empty database`);
    const emptyWorker = await startTestWorker(empty);
    const forgetEmptyWorker = cleanup.add('worker', () => emptyWorker.stop());
    const emptyTimes = await loadTimes(emptyWorker, empty, extraSource, repeat);
    await emptyWorker.stop();
    forgetEmptyWorker();
    progress(`  ${emptyTimes.join(' s, ')} s`);
    const tw = await startTestWorker(bucket);
    cleanup.add('worker', () => tw.stop());
    const knex = createKnex(bucket.databaseUrl, 2);
    cleanup.add('knex', () => knex.destroy());
    progress(`the history: ${(days * rowsPerDay).toLocaleString('en-GB')} rows in ${historyObjects} objects`);
    const [historySeconds, history] = await timed(() =>
      runBatch(tw.env.client, bucket, { source: historySource, maxParallel: 2 }),
    );
    progress(`  ${round(historySeconds, 1)} s, ${round(history.read / historySeconds)} rows/s`);
    progress(`the ${extraDays} extra days on top of the history`);
    const onHistoryTimes = await loadTimes(tw, bucket, extraSource, repeat);
    progress(`  ${onHistoryTimes.join(' s, ')} s`);

    const range = parseDateRange(START, addDays(START, days + extraDays - 1));
    const reportTimes: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const [s] = await timed(() => loadReportData(knex, range));
      reportTimes.push(round(s, 3));
    }
    const ratio = round(median(onHistoryTimes) / median(emptyTimes), 3);
    const result = {
      bench: 'batch-history',
      at: new Date().toISOString(),
      machine: { ...machine, loadAverage: { ...machine.loadAverage, end: round(os.loadavg()[0]!, 2) } },
      input: { days, historyObjects, extraDays, rowsPerDay, historyRows: history.read },
      history: { seconds: round(historySeconds, 1), rowsPerS: round(history.read / historySeconds) },
      extraDays: { emptySeconds: emptyTimes, onHistorySeconds: onHistoryTimes, ratio },
      reportAllSectionsSeconds: reportTimes,
      relationsInPublic: await relations(knex),
      targets: {
        ratio: { want: '<= 1.2', met: ratio <= 1.2 },
        report: { want: '< 1 s', met: median(reportTimes) < 1 },
      },
    };
    const file = writeResult('batch-history', result);
    console.log(
      `bench:batch-history ${days} days (${historyObjects} objects): ${extraDays} days on the history ` +
        `${median(onHistoryTimes)} s vs empty ${median(emptyTimes)} s (ratio ${ratio}); every report section ` +
        `over the history ${median(reportTimes)} s; ${result.relationsInPublic} relations; ` +
        `load ${machine.loadAverage.start}->${result.machine.loadAverage.end}; ${path.relative(process.cwd(), file)}`,
    );
  } finally {
    await cleanup.run();
  }
}

main().catch(exitOnError('bench:batch-history'));
