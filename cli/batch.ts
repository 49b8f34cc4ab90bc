// `batch run` and `batch reprocess`: start the batch workflow for a source (all of it, named objects, or the
// objects that landed in a date window), optionally wait with progress, and print the run's summary.
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { openObjectStore } from '../batch/object-store';
import { loadConfig, type Config } from '../infra/config';
import { createS3Client } from '../infra/s3';
import { batchProgressQuery, batchWorkflow, type BatchInput, type BatchSummary } from '../batch/workflow';
import { connectOrExplain, requireWorker, webUiLink } from './temporal-preflight';
import { registerBatchRunCommands } from './batch-runs';
import { UsageError } from './exit';
import { parseWindowBound, WINDOW_BOUND_FORMAT, windowIsBackwards } from '../domain/date-window';

interface BatchFlags {
  source?: string;
  key?: string[];
  from?: string;
  to?: string;
  all?: boolean;
  wait?: boolean;
  json?: boolean;
  parallel?: number;
}

export function windowBoundArg(value: string): string {
  const bound = parseWindowBound(value);
  if (bound === undefined) throw new InvalidArgumentError(`expected ${WINDOW_BOUND_FORMAT}`);
  return bound;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
}

export function defaultSource(cfg: Config): string {
  return `s3://${cfg.s3.bucket}/${cfg.s3.prefix}`;
}

/** Workflow ids name the business unit and the day: batch-2026-11-27-203512 or reprocess-2026-11-27-203512. */
export function batchWorkflowId(kind: 'batch' | 'reprocess', now = new Date()): string {
  const iso = now.toISOString();
  return `${kind}-${iso.slice(0, 10)}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

const fmt = (n: number) => n.toLocaleString('en-GB');

export function formatSummary(s: BatchSummary, link: string): string {
  const reasons = Object.entries(s.rejectedByReason)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ${fmt(n)}`)
    .join(' · ');
  const rows: [string, string][] = [
    ['workflow', `${s.workflowId}  (run ${s.runId})`],
    ['source', s.source + (s.from || s.to ? `  landed ${s.from ?? '…'} .. ${s.to ?? '…'}` : '')],
    ['objects', `${fmt(s.objects)} (${fmt(s.skipped)} unchanged since their last load, skipped)`],
    ['read', fmt(s.read)],
    [
      'loaded',
      `${fmt(s.loaded)}  ratings ${fmt(s.ratingRows)} · assistance ${fmt(s.assistanceRows)} · emergency ${fmt(s.emergencyRows)}`,
    ],
    ['rejected', `${fmt(s.rejected)}${reasons ? `  ${reasons}` : ''}`],
    ...s.failedMetadata.map((f): [string, string] => ['bad metadata', `${f.uri}: ${f.problems.join('; ')}`]),
    ['Web UI', link],
  ];
  return rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n');
}

async function checkSource(cfg: Config, source: string): Promise<void> {
  const s3 = createS3Client(cfg.s3);
  try {
    await openObjectStore(source, s3).list();
  } catch (err) {
    throw new Error(`source ${source}: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    s3.destroy();
  }
}

async function waitWithProgress(
  handle: WorkflowHandle<typeof batchWorkflow>,
  quiet: boolean,
): Promise<BatchSummary> {
  let last = '';
  const timer = setInterval(() => {
    handle
      .query(batchProgressQuery)
      .then((p) => {
        const line = `${p.phase}: objects ${p.objectsLoaded}/${p.objectsTotal} · read ${fmt(p.read)} · loaded ${fmt(p.loaded)} · rejected ${fmt(p.rejected)}`;
        if (line !== last && !quiet) process.stderr.write(`${line}\n`);
        last = line;
      })
      .catch(() => undefined); // the workflow may not have run its first task yet
  }, 1000);
  try {
    return await handle.result();
  } finally {
    clearInterval(timer);
  }
}

export async function startBatch(
  client: Client,
  cfg: Config,
  input: BatchInput,
  workflowId: string,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof batchWorkflow>> {
  const scope = input.keys?.length ? `${input.keys.length} named objects` : 'all objects';
  return client.workflow.start(batchWorkflow, {
    taskQueue: cfg.temporal.taskQueue,
    workflowId,
    args: [input],
    staticSummary: `${input.reprocess ? 'Reprocess' : 'Batch load'} of ${scope} from ${input.source}`,
    staticDetails:
      `source: \`${input.source}\`\n\nkeys: ${input.keys?.join(', ') || 'all'}\n\n` +
      `landed: ${input.from ?? '…'} .. ${input.to ?? '…'}`,
  });
}

async function runCommand(kind: 'batch' | 'reprocess', flags: BatchFlags): Promise<void> {
  const cfg = loadConfig();
  if (flags.from && flags.to && windowIsBackwards(flags.from, flags.to)) {
    throw new UsageError(`--from ${flags.from} is after --to ${flags.to}`);
  }
  if (kind === 'reprocess' && !flags.all && !flags.key?.length && !flags.from && !flags.to) {
    throw new UsageError(
      'reprocess needs --key, --from/--to or --all, so that it never replaces everything by accident',
    );
  }
  const source = flags.source ?? defaultSource(cfg);
  await checkSource(cfg, source);
  const client = await connectOrExplain(cfg);
  try {
    await requireWorker(client, cfg);
    const input: BatchInput = {
      source,
      keys: flags.key,
      from: flags.from,
      to: flags.to,
      reprocess: kind === 'reprocess',
      maxParallel: flags.parallel,
    };
    const handle = await startBatch(client, cfg, input, batchWorkflowId(kind));
    const link = webUiLink(cfg, handle.workflowId, handle.firstExecutionRunId);
    if (!flags.wait) {
      if (flags.json)
        console.log(
          JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, link }),
        );
      else console.log(`started ${handle.workflowId}\nWeb UI: ${link}`);
      return;
    }
    if (!flags.json) process.stderr.write(`started ${handle.workflowId}: ${link}\n`);
    const summary = await waitWithProgress(handle, flags.json === true);
    if (flags.json) {
      const { runId, read, loaded, rejected, rejectedByReason, ratingRows, assistanceRows, emergencyRows } =
        summary;
      console.log(
        JSON.stringify({
          runId,
          workflowId: summary.workflowId,
          read,
          loaded,
          rejected,
          rejectedByReason,
          ratingRows,
          assistanceRows,
          emergencyRows,
          objects: summary.objects,
          skipped: summary.skipped,
        }),
      );
    } else {
      console.log(formatSummary(summary, link));
    }
  } finally {
    await client.connection.close();
  }
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--source <uri>', 's3://bucket/prefix or file:///dir (default: s3://$S3_BUCKET/$S3_PREFIX)')
    .option('--key <name...>', 'only these objects (names relative to the source, or full URIs)')
    .option(
      '--from <date>',
      'only objects that landed on or after this date (YYYY-MM-DD or ISO time)',
      windowBoundArg,
    )
    .option('--to <date>', 'only objects that landed on or before this date (inclusive day)', windowBoundArg)
    .option('--wait', 'wait for the run, showing progress, and print its summary')
    .option('--json', 'print the result as one JSON object')
    .addOption(new Option('--parallel <n>', 'objects extracted at once').argParser(parsePositive));
}

export function registerBatchCommands(program: Command): void {
  const batch = program
    .command('batch')
    .description('load history from S3 (or a folder) through the batch workflow');
  withCommonOptions(batch.command('run'))
    .description('load the source; objects unchanged since their last load are skipped')
    .action((flags: BatchFlags) => runCommand('batch', flags));
  withCommonOptions(batch.command('reprocess'))
    .description('load the chosen objects again, replacing the rows they loaded before')
    .option('--all', 'reprocess every object of the source')
    .action((flags: BatchFlags) => runCommand('reprocess', flags));
  registerBatchRunCommands(batch);
}
