// `rejects list | show | export | replay`: inspect what validation turned away, and re-admit what today's
// catalogue and rules accept. Reads page through the table by id, so years of rejects never sit in memory.
import { stringify } from 'csv-stringify';
import fs from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Knex } from 'knex';
import {
  describeSource,
  eachReject,
  rejectById,
  type RejectFilter,
  type RejectRow,
} from '../replay/reject-store';
import { escapeRaw, hexView } from '../domain/raw-view';
import { REASON_DESCRIPTIONS, isReasonCode } from '../domain/reasons';
import { loadConfig } from '../infra/config';
import { createKnex } from '../infra/db';
import { checkDatabase, describeDatabaseError } from '../report/database';
import { isIsoDate, parseDateRange } from '../report/range';
import { KioskPipeline } from '../contracts/search-attributes';
import { describeFilter, rejectReplay, type ReplaySummary } from '../replay/workflow';
import { connectOrExplain, requireWorker, webUiLink } from './temporal-preflight';

interface FilterFlags {
  reason?: string;
  source?: 'batch' | 'stream';
  from?: string;
  to?: string;
}

function reasonCode(value: string): string {
  if (!isReasonCode(value))
    throw new InvalidArgumentError(
      `not a reason code; one of: ${Object.keys(REASON_DESCRIPTIONS).join(', ')}`,
    );
  return value;
}

function isoDate(value: string): string {
  if (!isIsoDate(value)) throw new InvalidArgumentError('expected a date YYYY-MM-DD.');
  return value;
}

function toFilter(flags: FilterFlags): RejectFilter {
  const range = parseDateRange(flags.from, flags.to);
  return { reason: flags.reason, source: flags.source, ...range };
}

async function withDatabase<T>(fn: (knex: Knex) => Promise<T>): Promise<T> {
  const cfg = loadConfig();
  await checkDatabase(cfg.databaseUrl);
  const knex = createKnex(cfg.databaseUrl, 1);
  try {
    return await fn(knex);
  } catch (err) {
    // PostgreSQL's errors carry a severity; the command's own (a missing id, a file it cannot write) do not.
    throw typeof err === 'object' && err !== null && 'severity' in err
      ? describeDatabaseError(cfg.databaseUrl, err)
      : err;
  } finally {
    await knex.destroy();
  }
}

/** Writes a chunk, waiting when the destination's buffer is full (bounded memory on big exports). */
async function write(out: Writable, chunk: unknown): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

function summaryJson(r: RejectRow) {
  return {
    id: r.id,
    source: r.sourceObject !== null ? 'batch' : 'stream',
    sourceObject: r.sourceObject,
    sourceLine: r.sourceLine,
    topic: r.sourceTopic,
    partition: r.sourcePartition,
    offset: r.sourceOffset,
    reasons: r.reasons,
    runId: r.runId,
    rejectedAt: r.rejectedAt.toISOString(),
    rawLength: r.rawLength ?? r.raw.length,
    rawTruncated: r.rawLength !== null,
  };
}

interface ListFlags extends FilterFlags {
  json?: boolean;
  limit: number;
}

async function listRejects(flags: ListFlags): Promise<void> {
  const filter = toFilter(flags);
  await withDatabase(async (knex) => {
    let shown = 0;
    for await (const r of eachReject(knex, filter, Math.min(flags.limit, 1000))) {
      if (shown === flags.limit) {
        if (!flags.json) console.error(`(more than ${flags.limit}; raise --limit or use rejects export)`);
        break;
      }
      shown++;
      if (flags.json)
        await write(process.stdout, `${JSON.stringify({ ...summaryJson(r), raw: escapeRaw(r.raw) })}\n`);
      else {
        const raw = escapeRaw(r.raw);
        await write(
          process.stdout,
          `${String(r.id).padStart(8)}  ${r.rejectedAt.toISOString()}  ${r.reasons.join(',').padEnd(24)}  ` +
            `${describeSource(r)}  ${raw.length > 80 ? `${raw.slice(0, 80)}…` : raw}\n`,
        );
      }
    }
    if (!flags.json && shown === 0) console.error('no rejects match');
  });
}

async function showReject(idText: string): Promise<void> {
  const id = Number(idText);
  if (!Number.isSafeInteger(id) || id < 1)
    throw new Error(`reject id must be a positive integer, got '${idText}'`);
  await withDatabase(async (knex) => {
    const r = await rejectById(knex, id);
    if (r === undefined)
      throw new Error(`no reject with id ${id} (it may have been replayed into the interactions)`);
    const run = await knex('pipeline_run')
      .where({ run_id: r.runId })
      .first<{ kind: string; workflow_id: string } | undefined>('kind', 'workflow_id');
    const lines = [
      `reject      ${r.id}`,
      `source      ${describeSource(r)}`,
      `run         ${r.runId} (${run?.kind ?? '?'} ${run?.workflow_id ?? ''})`,
      `rejected at ${r.rejectedAt.toISOString()}`,
      ...r.reasons.map(
        (code, i) =>
          `${i === 0 ? 'reasons    ' : '           '} ${code}: ${isReasonCode(code) ? REASON_DESCRIPTIONS[code] : '(unknown code)'}`,
      ),
      `raw         ${r.raw.length} bytes${r.rawLength !== null ? ` kept of ${r.rawLength} (the rest was not stored)` : ''}`,
      `text        ${escapeRaw(r.raw)}`,
      'hex',
      ...hexView(r.raw).map((l) => `  ${l}`),
    ];
    console.log(lines.join('\n'));
  });
}

interface ExportFlags extends FilterFlags {
  out: string;
  format?: 'csv' | 'jsonl';
}

const CSV_COLUMNS = [
  'id',
  'source',
  'sourceObject',
  'sourceLine',
  'topic',
  'partition',
  'offset',
  'reasons',
  'runId',
  'rejectedAt',
  'rawLength',
  'rawTruncated',
  'rawBase64',
];

async function exportRejects(flags: ExportFlags): Promise<void> {
  const format =
    flags.format ?? (/\.jsonl?$/i.test(flags.out) ? 'jsonl' : /\.csv$/i.test(flags.out) ? 'csv' : undefined);
  if (format === undefined)
    throw new Error(`cannot tell the format from '${flags.out}': name it .csv or .jsonl, or pass --format`);
  const filter = toFilter(flags);
  await withDatabase(async (knex) => {
    const file = fs.createWriteStream(flags.out);
    const csv = format === 'csv' ? stringify({ header: true, columns: CSV_COLUMNS }) : undefined;
    csv?.pipe(file);
    const sink: Writable = csv ?? file;
    let n = 0;
    try {
      for await (const r of eachReject(knex, filter)) {
        const row = { ...summaryJson(r), rawBase64: r.raw.toString('base64') };
        await write(sink, csv ? { ...row, reasons: row.reasons.join(' ') } : `${JSON.stringify(row)}\n`);
        n++;
      }
    } finally {
      sink.end();
      await finished(file);
    }
    console.error(`${n} rejects written to ${flags.out} (${format})`);
  });
}

interface ReplayFlags {
  reason?: string;
  from?: string;
  to?: string;
  pageSize?: number;
  json?: boolean;
}

async function replayRejects(flags: ReplayFlags): Promise<void> {
  const filter = toFilter(flags);
  const cfg = loadConfig();
  const client = await connectOrExplain(cfg);
  try {
    await requireWorker(client, cfg);
    const iso = new Date().toISOString();
    const workflowId = `replay-${iso.slice(0, 10)}-${iso.slice(11, 19).replace(/:/g, '')}`;
    const handle = await client.workflow.start(rejectReplay, {
      taskQueue: cfg.temporal.taskQueue,
      workflowId,
      args: [{ filter, pageSize: flags.pageSize }],
      typedSearchAttributes: [{ key: KioskPipeline, value: 'replay' }],
      staticSummary: describeFilter(filter),
    });
    const link = webUiLink(cfg, handle.workflowId, handle.firstExecutionRunId);
    if (!flags.json) process.stderr.write(`started ${workflowId}: ${link}\n`);
    const s: ReplaySummary = await handle.result();
    if (flags.json) {
      console.log(
        JSON.stringify({
          workflowId: s.workflowId,
          runId: s.ledgerRunId,
          examined: s.examined,
          admitted: s.loaded,
          pages: s.pages,
          batchObjectsReprocessed: s.batch.objects - s.batch.failedObjects.length,
          batchAdmitted: s.batch.admitted,
          batchObjectsFailed: s.batch.failedObjects,
        }),
      );
    } else {
      console.log(
        `examined ${s.examined} stream rejects in ${s.pages} pages and reprocessed ` +
          `${s.batch.objects - s.batch.failedObjects.length} objects holding batch rejects; admitted ${s.loaded} ` +
          `into the interaction tables (run ${s.ledgerRunId})`,
      );
      if (s.batch.failedObjects.length > 0) {
        console.log(`could not reprocess (their rejects stay): ${s.batch.failedObjects.join(', ')}`);
        process.exitCode = 1;
      }
    }
  } finally {
    await client.connection.close();
  }
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}

function withFilters(cmd: Command, source = true): Command {
  cmd.option('--reason <code>', 'only rejects carrying this reason code', reasonCode);
  if (source)
    cmd.addOption(
      new Option('--source <source>', 'only batch or only stream rejects').choices(['batch', 'stream']),
    );
  return cmd
    .option('--from <date>', 'rejected on or after this day, YYYY-MM-DD on the Europe/London clock', isoDate)
    .option('--to <date>', 'rejected on or before this day, YYYY-MM-DD on the Europe/London clock', isoDate);
}

export function registerRejectsCommands(program: Command): void {
  const rejects = program.command('rejects').description('inspect, export and replay rejected presses');
  withFilters(rejects.command('list'))
    .description('list rejects, oldest first, raw values shown with control and non-UTF-8 bytes escaped')
    .option('--json', 'one JSON object per reject, per line')
    .option('--limit <n>', 'at most this many', positive, 100)
    .action((flags: ListFlags) => listRejects(flags));
  rejects
    .command('show <id>')
    .description('one reject: source, run, reasons, and its raw bytes as escaped text and as hex')
    .action((id: string) => showReject(id));
  withFilters(rejects.command('export'))
    .description('write the selected rejects to a file, raw bytes in base64 (streamed; any size)')
    .requiredOption('--out <file>', 'the file to write (.csv or .jsonl)')
    .addOption(
      new Option('--format <format>', 'csv or jsonl (default: from the file name)').choices(['csv', 'jsonl']),
    )
    .action((flags: ExportFlags) => exportRejects(flags));
  withFilters(rejects.command('replay'), false)
    .description(
      "start a workflow that re-judges the selected rejects against today's exhibitions and rules and moves the " +
        'ones now valid into the interaction tables, exactly once: stream rejects page by page (FUTURE_AT judged ' +
        'against the time the reject was stored), batch rejects by reprocessing the objects that hold them',
    )
    .option('--page-size <n>', 'rejects per page and per transaction', positive, 1000)
    .option('--json', 'print the result as one JSON object')
    .action((flags: ReplayFlags) => replayRejects(flags));
}
