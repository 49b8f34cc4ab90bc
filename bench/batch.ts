// `npm run bench:batch [-- --rows N]`: the whole batch workflow against `psql \copy` of the same rows into the
// same tables, and against the original pipeline's row-by-row INSERTs, in one run. See bench/README.md.
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateHistory } from '../simulator/history-files';
import type { ExhibitionMetadata } from '../domain/exhibition';
import { realExhibitions } from '../test/support/exhibitions';
import type { Config } from '../infra/config';
import { createS3Client } from '../infra/s3';
import { createTemporalClient } from '../infra/temporal';
import { createDatabase, dropDatabase, isolatedConfig, uniqueSuffix } from '../test/support/isolated-env';
import { batchProgressQuery, batchWorkflow, type BatchSummary } from '../batch/workflow';
import {
  fingerprint,
  prepareBaselineFiles,
  seedBaselineDatabase,
  timePsqlCopy,
  timeRowByRow,
  type BaselineFiles,
  type FinalTable,
  type TableFingerprint,
} from './batch-baselines';
import {
  activityTimings,
  Cleanup,
  cleanUpOnSignals,
  countArg,
  CpuMeter,
  describeMachine,
  exitOnError,
  median,
  parseOptions,
  progress,
  round,
  RssSampler,
  stackProcesses,
  startWorkerProcess,
  stopProcess,
  writeResult,
  type ActivityTiming,
} from './common';
import { DEPLOYED_WORKER_HEAP_MB, type WorkerLaunch } from './worker-launch';

const USAGE = `Usage: npm run bench:batch [-- options]

Times the whole batch workflow (the compiled worker, run as the image runs it, in a child process; the
workflow started with the Temporal client, timed from start to its result, which comes after the last
commit) on generated history CSVs in versitygw, and in the same run loads the same judged rows with psql
\\copy into the same tables of a fresh database, and a sample with single-row autocommit INSERTs (the
original Python pipeline). Writes bench/results/batch-latest.json (batch-memory-latest.json with --pipeline-only).

Options:
  --rows N            data rows in all (default 1,000,000)
  --files N           objects the rows are split over (default 4)
  --repeat N          rounds of baseline + pipeline, median reported (default 3)
  --row-by-row N      rows for the row-by-row baseline (default 20,000; 0 skips it)
  --max-parallel N    the workflow's maxParallel (default: the workflow's own)
  --pipeline-only     skip both baselines (memory runs on big inputs; results in batch-memory-*.json)
  --worker-heap-mb N  the worker's --max-old-space-size (default ${DEPLOYED_WORKER_HEAP_MB}, as deployed; 0 leaves
                      Node's default, a share of the machine's memory)
  --worker-from-source  run worker.ts through tsx instead of the compiled worker
  --baseline-raw      the baselines' accepted rows carry their lines' raw bytes, as the pipeline's rows do
                      (by default they leave the column empty); the row fingerprints then compare them too
  --keep-data         keep the generated files in the temp folder (their path is printed)
  --help              this text

Targets: pipeline >= 0.6 x psql \\copy; worker peak RSS < 300 MB at 1 GB. Row-by-row is for
information only (bound by the disk's commit latency).`;

const SITES = [0, 1, 2, 3, 4, 5];

interface Round {
  copy?: { seconds: number; rowsPerS: number };
  pipeline: {
    seconds: number;
    rowsPerS: number;
    peakRssMiB: number;
    sampledPeakMiB: number;
    hwmMiB: number;
    cpuSeconds: Record<string, number>;
    activities: Record<string, ActivityTiming>;
    sameRowsAsCopy?: boolean;
  };
  rowByRow?: { rows: number; seconds: number; rowsPerS: number };
  ratioToCopy?: number;
  ratioToRowByRow?: number;
}

async function uploadFolder(cfg: Config, dir: string, names: readonly string[]): Promise<void> {
  const s3 = createS3Client(cfg.s3);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: cfg.s3.bucket }));
    for (const name of names) {
      // Multipart, streamed from disk: objects can be far bigger than we want to hold in memory.
      await new Upload({
        client: s3,
        params: { Bucket: cfg.s3.bucket, Key: name, Body: fs.createReadStream(path.join(dir, name)) },
        partSize: 16 * 1024 * 1024,
        queueSize: 2,
      }).done();
    }
  } finally {
    s3.destroy();
  }
}

async function deleteBucket(cfg: Config): Promise<void> {
  const s3 = createS3Client(cfg.s3);
  try {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: cfg.s3.bucket, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? [])
        await s3.send(new DeleteObjectCommand({ Bucket: cfg.s3.bucket, Key: o.Key }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    await s3.send(new DeleteBucketCommand({ Bucket: cfg.s3.bucket }));
  } finally {
    s3.destroy();
  }
}

async function runCopyBaseline(
  exhibitions: ExhibitionMetadata[],
  ids: Map<number, number>,
  baseline: BaselineFiles,
  cleanup: Cleanup,
): Promise<{ seconds: number; fingerprint: Record<FinalTable, TableFingerprint> }> {
  const cfg = isolatedConfig('bench-copy');
  await createDatabase(cfg.databaseUrl);
  const forgetDatabase = cleanup.add('copy database', () => dropDatabase(cfg.databaseUrl));
  try {
    await seedBaselineDatabase(cfg.databaseUrl, exhibitions, ids);
    const seconds = await timePsqlCopy(cfg.databaseUrl, baseline);
    return { seconds, fingerprint: await fingerprint(cfg.databaseUrl, baseline.rawInRows) };
  } finally {
    await dropDatabase(cfg.databaseUrl);
    forgetDatabase();
  }
}

async function runRowByRow(
  exhibitions: ExhibitionMetadata[],
  ids: Map<number, number>,
  baseline: BaselineFiles,
  cleanup: Cleanup,
): Promise<number> {
  const cfg = isolatedConfig('bench-rowbyrow');
  await createDatabase(cfg.databaseUrl);
  const forgetDatabase = cleanup.add('row-by-row database', () => dropDatabase(cfg.databaseUrl));
  try {
    await seedBaselineDatabase(cfg.databaseUrl, exhibitions, ids);
    return await timeRowByRow(cfg.databaseUrl, baseline);
  } finally {
    await dropDatabase(cfg.databaseUrl);
    forgetDatabase();
  }
}

async function runPipeline(
  bucketCfg: Config,
  maxParallel: number | undefined,
  launch: WorkerLaunch,
  cleanup: Cleanup,
  rawInRows: boolean,
): Promise<{
  seconds: number;
  summary: BatchSummary;
  memory: ReturnType<RssSampler['stop']>;
  cpuSeconds: Record<string, number>;
  activities: Record<string, ActivityTiming>;
  fingerprint: Record<FinalTable, TableFingerprint>;
}> {
  const cfg: Config = { ...isolatedConfig('bench-batch'), s3: bucketCfg.s3 };
  await createDatabase(cfg.databaseUrl);
  const forgetDatabase = cleanup.add('pipeline database', () => dropDatabase(cfg.databaseUrl));
  const client = await createTemporalClient(cfg.temporal);
  const worker = await startWorkerProcess(cfg, launch);
  const forgetWorker = cleanup.add('worker', () => stopProcess(worker));
  try {
    const sampler = new RssSampler(worker.child.pid!);
    const cpu = new CpuMeter({ worker: { pid: worker.child.pid!, tree: false }, ...stackProcesses() });
    const began = performance.now();
    const handle = await client.workflow.start(batchWorkflow, {
      taskQueue: cfg.temporal.taskQueue,
      workflowId: `bench-batch-${uniqueSuffix()}`,
      args: [{ source: `s3://${cfg.s3.bucket}/`, maxParallel }],
    });
    const forgetWorkflow = cleanup.add('workflow', () => handle.terminate('bench interrupted'));
    const beat = setInterval(() => {
      handle.query(batchProgressQuery).then(
        (p) =>
          progress(
            `  ${p.objectsLoaded} of ${p.objectsTotal} objects loaded, ${p.loaded.toLocaleString('en-GB')} rows; ` +
              `worker RSS peak so far ${sampler.peakMiB} MiB`,
          ),
        () => undefined,
      );
    }, 30_000);
    let summary: BatchSummary;
    try {
      summary = await handle.result();
    } finally {
      clearInterval(beat);
      forgetWorkflow();
    }
    const seconds = (performance.now() - began) / 1000;
    const memory = sampler.stop();
    const cpuSeconds = cpu.stop();
    const activities = activityTimings(await handle.fetchHistory());
    return {
      seconds,
      summary,
      memory,
      cpuSeconds,
      activities,
      fingerprint: await fingerprint(cfg.databaseUrl, rawInRows),
    };
  } finally {
    await stopProcess(worker);
    forgetWorker();
    await client.connection.close();
    await dropDatabase(cfg.databaseUrl);
    forgetDatabase();
  }
}

async function main(): Promise<void> {
  const o = parseOptions(
    process.argv.slice(2),
    ['rows', 'files', 'repeat', 'row-by-row', 'max-parallel', 'worker-heap-mb'],
    ['pipeline-only', 'keep-data', 'worker-from-source', 'baseline-raw'],
    USAGE,
  );
  const rows = countArg('rows', o.rows as string | undefined, 1_000_000);
  const files = countArg('files', o.files as string | undefined, 4);
  const repeat = countArg('repeat', o.repeat as string | undefined, 3);
  const pipelineOnly = o['pipeline-only'] === true;
  const baselineRaw = o['baseline-raw'] === true;
  const rowByRowRows = pipelineOnly
    ? 0
    : countArg('row-by-row', o['row-by-row'] as string | undefined, 20_000, 0);
  const heapMb = countArg(
    'worker-heap-mb',
    o['worker-heap-mb'] as string | undefined,
    DEPLOYED_WORKER_HEAP_MB,
    0,
  );
  const launch: WorkerLaunch = {
    compiled: o['worker-from-source'] !== true,
    heapMb: heapMb === 0 ? undefined : heapMb,
  };
  const maxParallel =
    o['max-parallel'] === undefined ? undefined : countArg('max-parallel', o['max-parallel'] as string, 1);

  const bucketCfg = isolatedConfig('bench-batch');
  const machine = describeMachine(bucketCfg.databaseUrl.replace(/\/[^/]*$/, '/postgres'));
  const cleanup = new Cleanup();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-bench-batch-'));
  if (o['keep-data'] !== true)
    cleanup.add('temp folder', () => fs.promises.rm(dir, { recursive: true, force: true }));
  cleanUpOnSignals(cleanup);

  try {
    progress(`generating ${rows.toLocaleString('en-GB')} rows in ${files} objects into ${dir}`);
    const dataDir = path.join(dir, 'data');
    const names = await generateHistory(
      { rows, files, seed: 7, out: dataDir, startDate: '2023-03-01', days: 30, sites: SITES },
      (n) => {
        if (n % 1_000_000 === 0) progress(`  ${n.toLocaleString('en-GB')} rows written`);
      },
    );
    const csvs = names.filter((n) => n.endsWith('.csv'));
    const inputBytes = csvs.reduce((sum, n) => sum + fs.statSync(path.join(dataDir, n)).size, 0);
    progress(`uploading ${(inputBytes / 2 ** 20).toFixed(1)} MiB to bucket ${bucketCfg.s3.bucket}`);
    cleanup.add('bucket', () => deleteBucket(bucketCfg));
    await uploadFolder(bucketCfg, dataDir, names);

    // In object-key order, as the workflow lists and upserts them: the identity ids then come out the same.
    const exhibitions = realExhibitions(dataDir);
    // A fresh database gives the exhibitions identity ids 1.. in upsert order (checked when seeding).
    const ids = new Map(exhibitions.map((e, i) => [e.site, i + 1]));
    let baseline: BaselineFiles | undefined;
    if (!pipelineOnly) {
      progress('judging the same rows for the baselines (same validation module, same DUPLICATE rule)');
      baseline = await prepareBaselineFiles(
        dir,
        csvs.map((n) => ({ file: path.join(dataDir, n), uri: `s3://${bucketCfg.s3.bucket}/${n}` })),
        ids,
        rowByRowRows,
        (n) => {
          if (n % 1_000_000 === 0) progress(`  ${n.toLocaleString('en-GB')} rows judged`);
        },
        baselineRaw,
      );
    }

    const rounds: Round[] = [];
    let mismatch: string | undefined;
    for (let r = 1; r <= repeat; r++) {
      const round_: Partial<Round> = {};
      let copyPrint: Record<FinalTable, TableFingerprint> | undefined;
      if (baseline) {
        progress(`round ${r}/${repeat}: psql \\copy baseline`);
        const copy = await runCopyBaseline(exhibitions, ids, baseline, cleanup);
        round_.copy = { seconds: round(copy.seconds, 3), rowsPerS: round(rows / copy.seconds) };
        copyPrint = copy.fingerprint;
        progress(`  ${round_.copy.rowsPerS.toLocaleString('en-GB')} rows/s (${round_.copy.seconds} s)`);
      }
      progress(`round ${r}/${repeat}: batch workflow`);
      const p = await runPipeline(bucketCfg, maxParallel, launch, cleanup, baselineRaw);
      if (p.summary.read !== rows) throw new Error(`the workflow read ${p.summary.read} rows, not ${rows}`);
      const same =
        copyPrint === undefined ? undefined : JSON.stringify(copyPrint) === JSON.stringify(p.fingerprint);
      if (same === false) {
        mismatch = `pipeline ${JSON.stringify(p.fingerprint)} vs copy ${JSON.stringify(copyPrint)}`;
      }
      round_.pipeline = {
        seconds: round(p.seconds, 3),
        rowsPerS: round(rows / p.seconds),
        ...p.memory,
        cpuSeconds: p.cpuSeconds,
        activities: p.activities,
        sameRowsAsCopy: same,
      };
      progress(
        `  ${round_.pipeline.rowsPerS.toLocaleString('en-GB')} rows/s (${round_.pipeline.seconds} s), ` +
          `worker peak RSS ${p.memory.peakRssMiB} MiB` +
          (same === undefined
            ? ''
            : same
              ? ', same rows as the copy baseline'
              : ', ROWS DIFFER from the baseline'),
      );
      if (baseline && rowByRowRows > 0) {
        progress(`round ${r}/${repeat}: row-by-row baseline (${rowByRowRows.toLocaleString('en-GB')} rows)`);
        const seconds = await runRowByRow(exhibitions, ids, baseline, cleanup);
        round_.rowByRow = {
          rows: rowByRowRows,
          seconds: round(seconds, 3),
          rowsPerS: round(rowByRowRows / seconds),
        };
        progress(`  ${round_.rowByRow.rowsPerS.toLocaleString('en-GB')} rows/s`);
      }
      if (round_.copy) round_.ratioToCopy = round(round_.pipeline.rowsPerS / round_.copy.rowsPerS, 3);
      if (round_.rowByRow)
        round_.ratioToRowByRow = round(round_.pipeline.rowsPerS / round_.rowByRow.rowsPerS, 1);
      rounds.push(round_ as Round);
    }

    machine.loadAverage.end = round(os.loadavg()[0]!, 2);
    const med = (f: (r: Round) => number | undefined) => {
      const values = rounds.map(f).filter((v): v is number => v !== undefined);
      return values.length === 0 ? undefined : median(values);
    };
    const peakRss = Math.max(...rounds.map((r) => r.pipeline.peakRssMiB));
    // CPU seconds per 100k rows read of each process the pipeline's rounds ran on (PostgreSQL: its whole tree).
    const cpuPer100k = Object.fromEntries(
      Object.keys(rounds[0]!.pipeline.cpuSeconds).map((name) => [
        name,
        round(median(rounds.map((r) => ((r.pipeline.cpuSeconds[name] ?? 0) * 1e5) / rows)), 2),
      ]),
    );
    const result = {
      bench: 'batch',
      at: new Date().toISOString(),
      machine,
      input: {
        rows,
        objects: csvs.length,
        bytes: inputBytes,
        mib: round(inputBytes / 2 ** 20, 1),
        accepted: baseline ? baseline.rows.rating_interaction + baseline.rows.request_interaction : undefined,
        rejected: baseline?.rows.rejected_interaction,
      },
      options: {
        repeat,
        maxParallel: maxParallel ?? 'workflow default',
        rowByRowRows,
        baselineRaw,
        worker: { compiled: launch.compiled, heapMb: launch.heapMb ?? 'node default' },
      },
      median: {
        pipelineRowsPerS: med((r) => r.pipeline.rowsPerS),
        copyRowsPerS: med((r) => r.copy?.rowsPerS),
        rowByRowRowsPerS: med((r) => r.rowByRow?.rowsPerS),
        ratioToCopy: med((r) => r.ratioToCopy),
        // The highest of the rounds, next to the ratio: the speed must not be bought with memory.
        workerPeakRssMiB: peakRss,
        cpuSecondsPer100k: cpuPer100k,
        ratioToRowByRow: med((r) => r.ratioToRowByRow),
      },
      workerPeakRssMiB: peakRss,
      sameRowsAsCopy: mismatch === undefined ? (baseline ? true : undefined) : false,
      mismatch,
      targets: {
        ratioToCopy: { want: '>= 0.6', met: (med((r) => r.ratioToCopy) ?? 0) >= 0.6 },
        workerPeakRss: {
          want: '< 300 MB for a 1 GB input',
          inputMiB: round(inputBytes / 2 ** 20, 1),
          peakMB: round(peakRss * 1.048576, 1),
          // Judged only on an input of about 1 GB (npm run bench:batch -- --rows 42600000 --pipeline-only).
          met: inputBytes >= 0.95e9 ? peakRss * 1.048576 < 300 : undefined,
        },
      },
      rounds,
    };
    // A pipeline-only run is a memory run on a big input: kept apart from the comparison's results.
    const file = writeResult(pipelineOnly ? 'batch-memory' : 'batch', result);
    const m = result.median;
    const fmt = (n: number | undefined) => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-GB'));
    console.log(
      `bench:batch ${rows.toLocaleString('en-GB')} rows (${result.input.mib} MiB, ${csvs.length} objects), median of ${repeat}: ` +
        `pipeline ${fmt(m.pipelineRowsPerS)} rows/s, psql \\copy ${fmt(m.copyRowsPerS)} rows/s ` +
        `(ratio ${m.ratioToCopy ?? 'n/a'}, worker peak RSS ${peakRss} MiB), ` +
        `row-by-row ${fmt(m.rowByRowRowsPerS)} rows/s (x${m.ratioToRowByRow ?? 'n/a'}); CPU s per 100k rows ` +
        `${Object.entries(m.cpuSecondsPer100k)
          .map(([name, s]) => `${name} ${s}`)
          .join(', ')}; load ${machine.loadAverage.start}->${machine.loadAverage.end}; ` +
        `${path.relative(process.cwd(), file)}`,
    );
    if (mismatch !== undefined) {
      console.error(`bench:batch: the pipeline's rows differ from the baseline's: ${mismatch}`);
      process.exitCode = 1;
    }
  } finally {
    await cleanup.run();
  }
}

main().catch(exitOnError('bench:batch'));
