// `rejects list | show | export | replay`: inspect what validation turned away, and re-admit what today's
// catalogue and rules accept. Reads page through the table by id, so years of rejects never sit in memory.
import { stringify } from 'csv-stringify';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Knex } from 'knex';
import {
  batchObjectsOfRejects,
  describeSource,
  eachReject,
  idWindow,
  rejectById,
  rejectPage,
  type RejectFilter,
  type RejectRow,
} from '../replay/reject-store';
import { judgeAgain } from '../replay/activities';
import { exhibitionIdsBySite } from '../catalogue/exhibitions';
import { escapeRaw, hexView } from '../domain/raw-view';
import { REASON_DESCRIPTIONS, isReasonCode } from '../domain/reasons';
import { loadConfig } from '../infra/config';
import { createKnex } from '../infra/db';
import { checkDatabase, describeDatabaseError } from '../report/database';
import { parseDateRange } from '../report/range';
import { isIsoDate } from '../domain/date-window';
import { KioskPipeline } from '../contracts/search-attributes';
import { describeFilter, rejectReplay, replayProgressQuery, type ReplaySummary } from '../replay/workflow';
import { connectOrExplain, requireWorker, webUiLink } from './temporal-preflight';
import { UsageError } from './exit';
import { OUT_HELP, openOutput, parseS3Target, writeChunk } from './output';

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

/** At most one line a second on stderr: long work shows it is alive without flooding a log. */
function progressLine(): (line: string, force?: boolean) => void {
  let last = 0;
  let lastLine = '';
  return (line, force = false) => {
    const now = Date.now();
    if (line === lastLine || (!force && now - last < 1000)) return;
    last = now;
    lastLine = line;
    process.stderr.write(`${line}\n`);
  };
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
        await writeChunk(process.stdout, `${JSON.stringify({ ...summaryJson(r), raw: escapeRaw(r.raw) })}\n`);
      else {
        const raw = escapeRaw(r.raw);
        await writeChunk(
          process.stdout,
          `${String(r.id).padStart(8)}  ${r.rejectedAt.toISOString()}  ${r.reasons.join(',').padEnd(24)}  ` +
            `${describeSource(r)}  ${raw.length > 80 ? `${raw.slice(0, 80)}…` : raw}\n`,
        );
      }
    }
    if (!flags.json && shown === 0) console.error('no rejects match');
  });
}

function rejectId(text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 1) throw new InvalidArgumentError('expected a positive integer');
  return id;
}

async function showReject(id: number, flags: { json?: boolean }): Promise<void> {
  await withDatabase(async (knex) => {
    const r = await rejectById(knex, id);
    if (r === undefined)
      throw new Error(`no reject with id ${id} (it may have been replayed into the interactions)`);
    const run = await knex('pipeline_run')
      .where({ run_id: r.runId })
      .first<{ kind: string; workflow_id: string } | undefined>('kind', 'workflow_id');
    if (flags.json) {
      console.log(
        JSON.stringify({
          ...summaryJson(r),
          runKind: run?.kind ?? null,
          workflowId: run?.workflow_id ?? null,
          reasonDescriptions: r.reasons.map((code) =>
            isReasonCode(code) ? REASON_DESCRIPTIONS[code] : null,
          ),
          raw: escapeRaw(r.raw),
          rawBase64: r.raw.toString('base64'),
        }),
      );
      return;
    }
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

function exportFormat(flags: ExportFlags): 'csv' | 'jsonl' {
  const name = flags.out.startsWith('s3://') ? parseS3Target(flags.out).key : flags.out;
  const format =
    flags.format ?? (/\.jsonl?$/i.test(name) ? 'jsonl' : /\.csv$/i.test(name) ? 'csv' : undefined);
  if (format === undefined)
    throw new UsageError(
      `cannot tell the format from '${flags.out}': name it .csv or .jsonl, or pass --format`,
    );
  return format;
}

async function exportRejects(flags: ExportFlags): Promise<void> {
  const format = exportFormat(flags);
  const filter = toFilter(flags);
  const progress = progressLine();
  await withDatabase(async (knex) => {
    const out = openOutput(flags.out, loadConfig, format === 'csv' ? 'text/csv' : 'application/x-ndjson');
    const csv = format === 'csv' ? stringify({ header: true, columns: CSV_COLUMNS }) : undefined;
    // The stringifier's output reaches the target through a pipeline, so a failing target fails the writes.
    const piped = csv ? pipeline(csv, out.stream, { end: out.stream !== process.stdout }) : undefined;
    piped?.catch(() => undefined);
    const sink: Writable = csv ?? out.stream;
    let n = 0;
    try {
      for await (const r of eachReject(knex, filter)) {
        const row = { ...summaryJson(r), rawBase64: r.raw.toString('base64') };
        await writeChunk(sink, csv ? { ...row, reasons: row.reasons.join(' ') } : `${JSON.stringify(row)}\n`);
        n++;
        progress(`rejects export: ${n.toLocaleString('en-GB')} written`);
      }
      if (csv) {
        csv.end();
        await piped;
      }
      await out.close();
    } catch (err) {
      await out.abort();
      throw err;
    }
    console.error(`${n} rejects written to ${out.description} (${format})`);
  });
}

interface ReplayFlags {
  reason?: string;
  from?: string;
  to?: string;
  pageSize?: number;
  json?: boolean;
  dryRun?: boolean;
}

export interface ReplayPreview {
  examined: number;
  /** Stream rejects today's catalogue and rules accept: what the replay would move. */
  wouldAdmit: number;
  wouldAdmitByReason: Record<string, number>;
  /** Objects the replay would reprocess for their batch rejects (a reprocess judges their every line again). */
  batchObjects: { uri: string; rejects: number }[];
}

/**
 * What `rejects replay` would do, in one read-only transaction: the same id window, pages and verdicts as
 * the replay's activities, nothing moved and no run opened.
 */
async function previewReplay(knex: Knex, filter: RejectFilter, pageSize: number): Promise<ReplayPreview> {
  const progress = progressLine();
  return knex.transaction(
    async (trx) => {
      const window = await idWindow(trx, filter);
      const exhibitions = await exhibitionIdsBySite(trx);
      const preview: ReplayPreview = { examined: 0, wouldAdmit: 0, wouldAdmitByReason: {}, batchObjects: [] };
      const streamOnly: RejectFilter = { ...filter, source: 'stream' };
      for (let afterId = window.afterId; ;) {
        const rows = await rejectPage(trx, streamOnly, { afterId, untilId: window.untilId, limit: pageSize });
        for (const r of rows) {
          preview.examined++;
          if (judgeAgain(r, exhibitions) === undefined) continue;
          preview.wouldAdmit++;
          for (const code of r.reasons)
            preview.wouldAdmitByReason[code] = (preview.wouldAdmitByReason[code] ?? 0) + 1;
        }
        progress(`rejects replay --dry-run: examined ${preview.examined}, would admit ${preview.wouldAdmit}`);
        if (rows.length < pageSize) break;
        afterId = rows[rows.length - 1]!.id;
      }
      if (filter.source !== 'stream') preview.batchObjects = await batchObjectsOfRejects(trx, filter, window);
      return preview;
    },
    { readOnly: true },
  );
}

async function dryRunReplay(flags: ReplayFlags): Promise<void> {
  const filter = toFilter(flags);
  const p = await withDatabase((knex) => previewReplay(knex, filter, flags.pageSize ?? 1000));
  if (flags.json) {
    console.log(JSON.stringify({ dryRun: true, ...p }));
    return;
  }
  const reasons = Object.entries(p.wouldAdmitByReason)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  console.log(
    `dry run (nothing written): examined ${p.examined} stream rejects; ${p.wouldAdmit} would be admitted` +
      (reasons ? ` (they carry ${reasons})` : ''),
  );
  const held = p.batchObjects.reduce((sum, o) => sum + o.rejects, 0);
  console.log(
    p.batchObjects.length === 0
      ? 'no batch rejects selected'
      : `${p.batchObjects.length} objects holding ${held} batch rejects would be reprocessed (each line judged ` +
          `again): ${p.batchObjects.map((o) => o.uri).join(', ')}`,
  );
}

async function replayRejects(flags: ReplayFlags): Promise<void> {
  if (flags.dryRun) return dryRunReplay(flags);
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
    process.stderr.write(`started ${workflowId}: ${link}\n`);
    const progress = progressLine();
    const timer = setInterval(() => {
      handle
        .query(replayProgressQuery)
        .then((p) =>
          progress(
            p.done
              ? `examined ${p.examined} stream rejects, admitted ${p.admitted}; reprocessing objects holding batch rejects`
              : `examined ${p.examined} stream rejects in ${p.pages} pages, admitted ${p.admitted}`,
          ),
        )
        .catch(() => undefined); // before its first task, or between two runs of the chain
    }, 1000);
    let s: ReplaySummary;
    try {
      s = await handle.result();
    } finally {
      clearInterval(timer);
    }
    progress(`examined ${s.examined} stream rejects in ${s.pages} pages, admitted ${s.admitted}`, true);
    const failed = s.batch.failedObjects;
    if (flags.json) {
      console.log(
        JSON.stringify({
          workflowId: s.workflowId,
          runId: s.ledgerRunId,
          examined: s.examined,
          admitted: s.loaded,
          pages: s.pages,
          batchObjectsReprocessed: s.batch.objects - failed.length,
          batchAdmitted: s.batch.admitted,
          batchObjectsFailed: failed,
          ok: failed.length === 0,
        }),
      );
    } else {
      console.log(
        `examined ${s.examined} stream rejects in ${s.pages} pages and reprocessed ` +
          `${s.batch.objects - failed.length} objects holding batch rejects; admitted ${s.loaded} ` +
          `into the interaction tables (run ${s.ledgerRunId})`,
      );
    }
    if (failed.length > 0)
      throw new Error(
        `could not reprocess ${failed.length} objects (their rejects stay): ${failed.join(', ')}`,
      );
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
    .command('show')
    .argument('<id>', 'the reject id (rejects list shows it)', rejectId)
    .description('one reject: source, run, reasons, and its raw bytes as escaped text and as hex')
    .option('--json', 'print as one JSON object (raw bytes escaped and in base64)')
    .action((id: number, flags: { json?: boolean }) => showReject(id, flags));
  withFilters(rejects.command('export'))
    .description('write the selected rejects, raw bytes in base64 (streamed, any size; progress on stderr)')
    .requiredOption('--out <target>', `where to write: ${OUT_HELP} (.csv or .jsonl, or pass --format)`)
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
    .option('--dry-run', 'say what would be admitted and which objects reprocessed; nothing is written')
    .addHelpText(
      'after',
      '\nProgress goes to stderr. Exit 1 when anything could not be replayed (an object that cannot be read ' +
        'any more), in text and --json alike.',
    )
    .action((flags: ReplayFlags) => replayRejects(flags));
}
