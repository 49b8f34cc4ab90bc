// One batch run over many small objects (default 5,000): the workflow pages them and continues as new; the
// run must end with exact counts and one ledger row. Prints the time, objects per second and executions.
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';
import { createKnex } from '../infra/db';
import { createDatabase, dropDatabase, isolatedConfig, uniqueSuffix } from '../test/support/isolated-env';
import { smallObjects } from '../test/support/small-objects';
import { startTestWorker } from '../test/support/test-worker';
import { batchWorkflow } from '../batch/workflow';
import {
  Cleanup,
  cleanUpOnSignals,
  countArg,
  exitOnError,
  parseOptions,
  progress,
  writeResult,
} from './common';

const USAGE = `npm run bench:batch-objects -- [--objects N] [--page-size N] [--parallel N]
  --objects    small history objects in one run (default 5000, at most 16000)
  --page-size  objects per page (default 100, the workflow's default)
  --parallel   objects extracted at once (default 2)`;

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2), ['objects', 'page-size', 'parallel'], [], USAGE);
  const n = countArg('objects', opts.objects as string | undefined, 5000);
  const pageSize = countArg('page-size', opts['page-size'] as string | undefined, 100);
  const parallel = countArg('parallel', opts.parallel as string | undefined, 2);
  const cfg = isolatedConfig('bench-objects');
  const { dir, read, rejected } = smallObjects(n);
  // Interrupted (a timeout, Ctrl-C): the run is terminated and everything it made removed.
  const cleanup = new Cleanup();
  cleanUpOnSignals(cleanup);
  cleanup.add('objects', () => fs.promises.rm(dir, { recursive: true, force: true }));
  await createDatabase(cfg.databaseUrl);
  cleanup.add('database', () => dropDatabase(cfg.databaseUrl));
  const knex = createKnex(cfg.databaseUrl, 2);
  cleanup.add('knex', () => knex.destroy());
  const tw = await startTestWorker(cfg);
  cleanup.add('worker', () => tw.stop());
  try {
    progress(`${n} objects in ${dir}; running the batch`);
    const started = performance.now();
    const workflowId = `bench-objects-${uniqueSuffix()}`;
    const handle = await tw.env.client.workflow.start(batchWorkflow, {
      taskQueue: cfg.temporal.taskQueue,
      workflowId,
      args: [{ source: pathToFileURL(dir).href + '/', pageSize, maxParallel: parallel }],
    });
    const forgetRun = cleanup.add('run', () => handle.terminate('bench interrupted'));
    const summary = await handle.result();
    forgetRun();
    const seconds = (performance.now() - started) / 1000;
    const ledgerRows = await knex('pipeline_run').count<{ n: string }[]>({ n: '*' });
    const exact =
      summary.objects === n &&
      summary.read === read &&
      summary.rejected === rejected &&
      summary.loaded === read - rejected &&
      Number(ledgerRows[0]?.n) === 1;
    const result = {
      objects: n,
      seconds: Number(seconds.toFixed(1)),
      objectsPerSecond: Number((n / seconds).toFixed(1)),
      executions: summary.runs,
      read: summary.read,
      loaded: summary.loaded,
      rejected: summary.rejected,
      exact,
    };
    const file = writeResult('batch-objects', result);
    console.log(
      `batch-objects: ${n} objects in ${result.seconds} s (${result.objectsPerSecond}/s), ` +
        `${summary.runs} executions, counts ${exact ? 'exact' : 'WRONG'} -> ${file}`,
    );
    if (!exact)
      throw new Error(`counts differ: ${JSON.stringify({ expected: { read, rejected }, summary })}`);
  } finally {
    await cleanup.run();
  }
}

main().catch(exitOnError('batch-objects'));
