// The batch bench's baselines, fed with exactly the rows the pipeline loads: the same lines judged by the same
// module (HistoryFileJudge) with the same DUPLICATE rule (first press wins, objects in key order, lines in
// order), written once as COPY text files per final table. Then:
//   - `psql \copy` of those files into the final tables of a fresh, migrated database (their month
//     partitions made beforehand, untimed, every index and foreign key in place): this machine's raw load
//     limit for these rows into the same tables the pipeline fills;
//   - single-row INSERTs with autocommit, one round trip and one commit per row: what the original Python
//     pipeline did, into the same tables with their indexes and foreign keys in place (and, to favour the
//     baseline, without registering the presses in the DUPLICATE registry).
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { ExhibitionMetadata } from '../domain/exhibition';
import { readLines } from '../domain/csv-lines';
import { HistoryFileJudge } from '../domain/history-row';
import { upsertExhibitions } from '../catalogue/exhibitions';
import { ensureMonths } from '../batch/partitions';
import { copyCell } from '../infra/copy-in';
import { createKnex } from '../infra/db';

export const BASELINE_RUN_ID = 'bench-baseline';

const COLUMNS = {
  rating_interaction: '(exhibition_id, rating_value, event_at, run_id, source_object, source_line)',
  request_interaction: '(exhibition_id, request_value, event_at, run_id, source_object, source_line)',
  rejected_interaction: '(raw, reasons, run_id, source_object, source_line)',
} as const;
export type FinalTable = keyof typeof COLUMNS;
export const FINAL_TABLES = Object.keys(COLUMNS) as FinalTable[];

/** A table's COPY columns; with `rawInRows`, the accepted rows carry their line's raw bytes, as the pipeline's do. */
function columnsOf(table: FinalTable, rawInRows: boolean): string {
  return rawInRows && table !== 'rejected_interaction'
    ? COLUMNS[table].replace(/\)$/, ', raw)')
    : COLUMNS[table];
}

/** One row for a final table, its cells in COLUMNS order. */
export interface BaselineRow {
  table: FinalTable;
  uri: string;
  cells: (string | number | Buffer | Date | string[])[];
}

export interface BaselineFiles {
  /** One COPY text file per object and final table, objects in key order. */
  files: { uri: string; table: FinalTable; file: string }[];
  rows: Record<FinalTable, number>;
  /** The first rows in source order (all tables mixed), for the row-by-row baseline. */
  sample: BaselineRow[];
  /** Every month (YYYY-MM-01) of an accepted row: the partitions both baselines make beforehand. */
  months: string[];
  /** Whether the accepted rows carry their raw bytes. */
  rawInRows: boolean;
}

/** Buffered writes with the stream's backpressure honoured. */
class LineWriter {
  private readonly out: fs.WriteStream;
  private pending = '';

  constructor(file: string) {
    this.out = fs.createWriteStream(file);
  }

  async write(line: string): Promise<void> {
    this.pending += line;
    if (this.pending.length >= 1 << 16) {
      const chunk = this.pending;
      this.pending = '';
      if (!this.out.write(chunk)) await once(this.out, 'drain');
    }
  }

  async end(): Promise<void> {
    this.out.end(this.pending);
    await once(this.out, 'finish');
  }
}

/**
 * Judges every line of the objects (local copies of what was uploaded, `uri` being their key in the bucket)
 * and writes one COPY text file per final table into `dir`.
 */
export async function prepareBaselineFiles(
  dir: string,
  objects: readonly { file: string; uri: string }[],
  exhibitionIdBySite: ReadonlyMap<number, number>,
  sampleSize: number,
  onProgress: (rows: number) => void,
  rawInRows = false,
): Promise<BaselineFiles> {
  const judge = () =>
    new HistoryFileJudge({ knownSites: new Set(exhibitionIdBySite.keys()), now: new Date() });
  const files: BaselineFiles['files'] = [];
  const rows: Record<FinalTable, number> = {
    rating_interaction: 0,
    request_interaction: 0,
    rejected_interaction: 0,
  };
  const sample: BaselineRow[] = [];
  const accepted = new Set<string>();
  const months = new Set<string>();
  let total = 0;
  const sorted = [...objects].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  for (const [index, { file, uri }] of sorted.entries()) {
    const fileJudge = judge();
    const writers = Object.fromEntries(
      FINAL_TABLES.map((table) => {
        const out = path.join(dir, `${index}-${table}.copy`);
        files.push({ uri, table, file: out });
        return [table, new LineWriter(out)];
      }),
    ) as Record<FinalTable, LineWriter>;
    for await (const src of readLines(fs.createReadStream(file, { highWaterMark: 1 << 20 }))) {
      const outcome = fileJudge.judge(src);
      if (outcome.header) continue;
      let row: BaselineRow;
      if (outcome.valid) {
        const i = outcome.interaction;
        const table: FinalTable = i.kind === 'rating' ? 'rating_interaction' : 'request_interaction';
        const key = `${table}|${i.site}|${i.eventAt.getTime()}|${i.value}`;
        if (accepted.has(key)) {
          row = {
            table: 'rejected_interaction',
            uri,
            cells: [src.raw, ['DUPLICATE'], BASELINE_RUN_ID, uri, src.line],
          };
        } else {
          accepted.add(key);
          months.add(`${i.eventAt.toISOString().slice(0, 7)}-01`);
          const exhibitionId = exhibitionIdBySite.get(i.site)!;
          const cells = [exhibitionId, i.value, i.eventAt, BASELINE_RUN_ID, uri, src.line];
          row = { table, uri, cells: rawInRows ? [...cells, src.raw] : cells };
        }
      } else {
        row = {
          table: 'rejected_interaction',
          uri,
          cells: [Buffer.from(src.raw), outcome.reasons, BASELINE_RUN_ID, uri, src.line],
        };
      }
      if (sample.length < sampleSize) {
        // raw is a view into the reader's chunk: keep a copy of the few rows held beyond this iteration.
        sample.push({
          ...row,
          cells: row.cells.map((c) => (Buffer.isBuffer(c) ? Buffer.from(c) : c)),
        });
      }
      rows[row.table]++;
      await writers[row.table].write(row.cells.map((c) => copyCell(c)).join('\t') + '\n');
      if (++total % 250_000 === 0) onProgress(total);
    }
    for (const t of FINAL_TABLES) await writers[t].end();
  }
  return { files, rows, sample, months: [...months], rawInRows };
}

/**
 * Fills a freshly migrated database the way the pipeline's first step would (the exhibitions, through the
 * same store) plus the baseline's ledger row, and checks the exhibition ids the files were written with.
 */
export async function seedBaselineDatabase(
  databaseUrl: string,
  exhibitions: readonly ExhibitionMetadata[],
  exhibitionIdBySite: ReadonlyMap<number, number>,
): Promise<void> {
  const knex = createKnex(databaseUrl, 1);
  try {
    await upsertExhibitions(knex, exhibitions);
    const ids = await knex('exhibition').select<{ site: number; exhibition_id: number }[]>(
      'site',
      'exhibition_id',
    );
    for (const { site, exhibition_id } of ids) {
      if (exhibitionIdBySite.get(site) !== exhibition_id) {
        throw new Error(
          `exhibition ids differ from the ones the baseline files were written with (site ${site})`,
        );
      }
    }
    await knex('pipeline_run').insert({
      run_id: BASELINE_RUN_ID,
      kind: 'batch',
      workflow_id: 'bench',
      source: 'bench baseline files',
    });
  } finally {
    await knex.destroy();
  }
}

const execFileAsync = promisify(execFile);

/** The partitions of the rows' months, made before (and outside) either baseline's timing. */
async function makeMonths(databaseUrl: string, months: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await ensureMonths(client, months);
  } finally {
    await client.end();
  }
}

/** Seconds taken by one psql process running the `\copy` of every file into its final table. */
export async function timePsqlCopy(
  databaseUrl: string,
  { files, months, rawInRows }: Pick<BaselineFiles, 'files' | 'months' | 'rawInRows'>,
): Promise<number> {
  await makeMonths(databaseUrl, months);
  // psql's \copy takes the file name unquoted or in single quotes; ours are plain temp paths.
  const script = [
    '\\set ON_ERROR_STOP 1',
    ...files.map((f) => `\\copy ${f.table} ${columnsOf(f.table, rawInRows)} from '${f.file}'`),
  ];
  const scriptFile = path.join(path.dirname(files[0]!.file), 'copy.psql');
  await fs.promises.writeFile(scriptFile, script.join('\n') + '\n');
  const began = performance.now();
  await execFileAsync('psql', [databaseUrl, '-X', '-q', '-f', scriptFile], { maxBuffer: 1 << 20 });
  return (performance.now() - began) / 1000;
}

/**
 * Seconds for the rows as single-row INSERTs in autocommit: a round trip and a commit each, into the final
 * tables with every index and key in place (their months made beforehand, untimed).
 */
export async function timeRowByRow(
  databaseUrl: string,
  { sample: rows, months, rawInRows }: Pick<BaselineFiles, 'sample' | 'months' | 'rawInRows'>,
): Promise<number> {
  await makeMonths(databaseUrl, months);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'kiosk-bench-row-by-row' });
  await client.connect();
  try {
    const columns = (table: FinalTable) => columnsOf(table, rawInRows);
    const placeholders = (table: FinalTable) =>
      Array.from({ length: columns(table).split(',').length }, (_, i) => `$${i + 1}`).join(', ');
    const statements = rows.map(
      (row) => `insert into ${row.table} ${columns(row.table)} values (${placeholders(row.table)})`,
    );
    const began = performance.now();
    for (const [i, row] of rows.entries()) await client.query(statements[i]!, row.cells);
    return (performance.now() - began) / 1000;
  } finally {
    await client.end();
  }
}

export interface TableFingerprint {
  rows: number;
  /** Sum of a hash of every row's content (source, exhibition site, value, instant; raw and reasons). */
  hash: string;
}

/**
 * What the final tables hold, independent of generated ids and run ids: two databases with equal fingerprints
 * hold the same rows (up to a hash collision), so the pipeline is compared with a baseline that loaded the
 * very same result.
 */
export async function fingerprint(
  databaseUrl: string,
  rawInRows = false,
): Promise<Record<FinalTable, TableFingerprint>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const interactions = (table: string, value: string) =>
      `select count(*)::bigint as rows, coalesce(sum(hashtextextended(concat_ws('|', i.source_object,
         i.source_line, e.site, i.${value}, extract(epoch from i.event_at)${rawInRows ? ", encode(i.raw, 'hex')" : ''}),
         0)::numeric), 0)::text as hash
       from ${table} i join exhibition e using (exhibition_id)`;
    const queries: Record<FinalTable, string> = {
      rating_interaction: interactions('rating_interaction', 'rating_value'),
      request_interaction: interactions('request_interaction', 'request_value'),
      rejected_interaction: `select count(*)::bigint as rows, coalesce(sum(hashtextextended(concat_ws('|',
          source_object, source_line, encode(raw, 'hex'), array_to_string(reasons, ',')), 0)::numeric), 0)::text
          as hash from rejected_interaction`,
    };
    const out = {} as Record<FinalTable, TableFingerprint>;
    for (const t of FINAL_TABLES) {
      const r = await client.query<{ rows: string; hash: string }>(queries[t]);
      out[t] = { rows: Number(r.rows[0]!.rows), hash: r.rows[0]!.hash };
    }
    return out;
  } finally {
    await client.end();
  }
}
