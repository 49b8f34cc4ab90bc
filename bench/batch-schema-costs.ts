// `npm run bench:batch-schema-costs [-- --rows N]`: what each index, foreign key and trigger of the batch's
// final tables costs a bulk load. The same judged rows as bench:batch are `psql \copy`d into today's tables,
// then into variants each without one of those costs, round after round, in fresh databases. See
// bench/README.md.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { generateHistory } from '../simulator/history-files';
import { readLines } from '../domain/csv-lines';
import { HistoryFileJudge } from '../domain/history-row';
import { ensureMonths } from '../batch/partitions';
import { copyCell } from '../infra/copy-in';
import { createKnex } from '../infra/db';
import { realExhibitions } from '../test/support/exhibitions';
import { createDatabase, dropDatabase, isolatedConfig } from '../test/support/isolated-env';
import {
  FINAL_TABLES,
  prepareBaselineFiles,
  seedBaselineDatabase,
  type BaselineFiles,
  type FinalTable,
} from './batch-baselines';
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
  UsageError,
  writeResult,
} from './common';

const KINDS = [
  { table: 'rating_interaction', kind: 'rating', value: 'rating_value' },
  { table: 'request_interaction', kind: 'request', value: 'request_value' },
] as const;

/** A schema to load into: today's, less the DDL in `ddl`; `presses` says whether batch_press is filled. */
interface Variant {
  name: string;
  what: string;
  ddl: string[];
  presses: boolean;
  /** The integer source-object id in place of the URI text, in every table that carries it. */
  objectIds: boolean;
  /** Migrations taken down (in this order) before the DDL. */
  down?: string[];
}

const dropOnKinds = (sql: (k: (typeof KINDS)[number]) => string) => KINDS.map(sql);

// The URI column replaced by an int id: dropping the column drops the check and the indexes naming it (the
// natural key's predicate names it too), which are made again on the id. Done on the empty tables.
const OBJECT_ID_DDL = [
  ...dropOnKinds(
    (k) => `
    alter table ${k.table} add column source_object_id integer;
    alter table ${k.table} drop column source_object;
    alter table ${k.table} add constraint source_is_batch_or_stream check (
      (source_object_id is not null and source_line is not null
         and source_topic is null and source_partition is null and source_offset is null)
      or (source_object_id is null and source_line is null
         and source_topic is not null and source_partition is not null and source_offset is not null));
    create unique index ${k.kind}_batch_natural_key on ${k.table} (exhibition_id, event_at, ${k.value})
      where source_object_id is not null;
    create unique index ${k.kind}_source_object_line on ${k.table} (source_object_id, source_line, event_at)
      where source_object_id is not null;`,
  ),
  `alter table rejected_interaction add column source_object_id integer;
   alter table rejected_interaction drop column source_object;
   alter table rejected_interaction add constraint source_is_batch_or_stream check (
     (source_object_id is not null and source_line is not null
        and source_topic is null and source_partition is null and source_offset is null)
     or (source_object_id is null and source_line is null
        and source_topic is not null and source_partition is not null and source_offset is not null));
   create unique index rejected_source_object_line on rejected_interaction (source_object_id, source_line)
     where source_object_id is not null;`,
  `alter table batch_press add column source_object_id integer not null;
   alter table batch_press drop column source_object;
   alter table batch_press add primary key (source_object_id, source_line);
   create index batch_press_judge on batch_press (kind, exhibition_id, event_at, value, source_object_id,
     source_line);`,
];

const dropIndexes = (...names: string[]) => [`drop index ${names.join(', ')}`];
const dropForeignKeys = (column: (k: (typeof KINDS)[number]) => string) =>
  dropOnKinds((k) => `alter table ${k.table} drop constraint ${k.table}_${column(k)}_fkey`);
const DROP_TRIGGER = dropOnKinds((k) => `drop trigger interaction_count_insert on ${k.table}`);

const base = { ddl: [], presses: true, objectIds: false };
const VARIANTS: Variant[] = [
  { name: 'today', what: "today's tables exactly, batch_press filled as the pipeline fills it", ...base },
  {
    name: 'no-batch-press',
    what: 'batch_press not filled (bench:batch\'s "psql \\copy" baseline)',
    ...base,
    presses: false,
  },
  {
    name: 'no-natural-key',
    what: 'without the unique (exhibition, event_at, value) index (DUPLICATE holder)',
    ...base,
    ddl: dropIndexes('rating_batch_natural_key', 'request_batch_natural_key'),
  },
  {
    name: 'no-event-at',
    what: 'without the (event_at) index',
    ...base,
    ddl: dropIndexes('rating_event_at', 'request_event_at'),
  },
  {
    name: 'no-source-object-line',
    what: 'without the unique (URI, line, event_at) index',
    ...base,
    ddl: dropIndexes('rating_source_object_line', 'request_source_object_line'),
  },
  {
    name: 'no-source-topic-offset',
    what: "without the stream's unique (topic, partition, offset, event_at) partial index",
    ...base,
    ddl: dropIndexes('rating_source_topic_offset', 'request_source_topic_offset'),
  },
  {
    name: 'no-rejected-indexes',
    what: "without rejected_interaction's secondary indexes (rejected_at, URI+line, topic+offset)",
    ...base,
    ddl: dropIndexes(
      'rejected_interaction_rejected_at',
      'rejected_source_object_line',
      'rejected_source_topic_offset',
    ),
  },
  {
    name: 'no-batch-press-judge',
    what: "without batch_press's judge index (its primary key kept)",
    ...base,
    ddl: dropIndexes('batch_press_judge'),
  },
  {
    name: 'no-fk-exhibition',
    what: 'without the foreign key to exhibition',
    ...base,
    ddl: dropForeignKeys(() => 'exhibition_id'),
  },
  {
    name: 'no-fk-value',
    what: 'without the foreign key to rating / request',
    ...base,
    ddl: dropForeignKeys((k) => k.value),
  },
  {
    name: 'no-fk-run',
    what: 'without the foreign key to pipeline_run (rejected_interaction too)',
    ...base,
    ddl: [
      ...dropForeignKeys(() => 'run_id'),
      'alter table rejected_interaction drop constraint rejected_interaction_run_id_fkey',
    ],
  },
  {
    name: 'no-count-trigger',
    what: 'without the interaction_count insert triggers',
    ...base,
    ddl: DROP_TRIGGER,
  },
  {
    name: 'older-count-trigger',
    what: 'the interaction_count trigger bodies of 20261130000801 (20261207000200 taken down)',
    ...base,
    down: ['20261207000200_interaction_count_lean_triggers'],
  },
  {
    name: 'object-id',
    what: 'an int source_object_id instead of the URI text in every table and index',
    ...base,
    ddl: OBJECT_ID_DDL,
    objectIds: true,
  },
  {
    name: 'lean',
    what: 'object-id and batch_press not filled',
    ...base,
    ddl: OBJECT_ID_DDL,
    presses: false,
    objectIds: true,
  },
];

// Today's tables are measured again after this many variants in each round.
const TODAY_EVERY = 4;

const USAGE = `Usage: npm run bench:batch-schema-costs [-- options]

What each index, foreign key and trigger of the batch's final tables costs a bulk load: the same judged rows
as bench:batch (generated history, 4 objects, judged once, untimed) loaded with psql \\copy into today's tables
(rating_interaction, request_interaction, rejected_interaction and batch_press, as the pipeline fills them),
then into variants each without one cost, in a fresh database each, round after round (the order rotated,
today's tables measured again every ${TODAY_EVERY} variants). Prints rows/s, the ratio to the median of today's
tables in the same round (median over the rounds), the server backend's CPU seconds, and the machine's uptime
before and after. Writes bench/results/batch-schema-costs-latest.json.

Options:
  --rows N        data rows in all (default 300,000)
  --files N       objects the rows are split over (default 4)
  --repeat N      rounds, medians reported (default 3)
  --variants A,B  only these variants ("today" is always measured), of:
${VARIANTS.map((v) => `                  ${v.name.padEnd(22)} ${v.what}`).join('\n')}
  --help          this text`;

const SITES = [0, 1, 2, 3, 4, 5];
const BATCH_PRESS = '(kind, exhibition_id, event_at, value, source_object, source_line, raw)';
const INTERACTION_COLUMNS = (value: string) =>
  `(exhibition_id, ${value}, event_at, run_id, source_object, source_line)`;
const COLUMNS: Record<FinalTable | 'batch_press', string> = {
  rating_interaction: INTERACTION_COLUMNS('rating_value'),
  request_interaction: INTERACTION_COLUMNS('request_value'),
  rejected_interaction: '(raw, reasons, run_id, source_object, source_line)',
  batch_press: BATCH_PRESS,
};
// Where the URI is in each file's lines (the column lists above).
const URI_CELL: Record<FinalTable | 'batch_press', number> = {
  rating_interaction: 4,
  request_interaction: 4,
  rejected_interaction: 3,
  batch_press: 4,
};

interface CopyFile {
  uri: string;
  table: FinalTable | 'batch_press';
  file: string;
}

/**
 * batch_press's rows as the pipeline writes them: every valid batch line (accepted or DUPLICATE) with its
 * key and raw bytes, judged by the same module; one COPY file per object, in key order like `baseline`.
 */
async function writePressFiles(
  dir: string,
  objects: readonly { file: string; uri: string }[],
  ids: ReadonlyMap<number, number>,
): Promise<{ files: CopyFile[]; rows: number }> {
  const files: CopyFile[] = [];
  let rows = 0;
  const sorted = [...objects].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  for (const [index, { file, uri }] of sorted.entries()) {
    const judge = new HistoryFileJudge({ knownSites: new Set(ids.keys()), now: new Date() });
    const lines: string[] = [];
    for await (const src of readLines(fs.createReadStream(file, { highWaterMark: 1 << 20 }))) {
      const outcome = judge.judge(src);
      if (outcome.header || !outcome.valid) continue;
      const i = outcome.interaction;
      const cells = [i.kind === 'rating' ? 0 : 1, ids.get(i.site)!, i.eventAt, i.value, uri, src.line];
      lines.push([...cells, Buffer.from(src.raw)].map((c) => copyCell(c)).join('\t'));
    }
    const out = path.join(dir, `${index}-batch_press.copy`);
    await fs.promises.writeFile(out, lines.length === 0 ? '' : lines.join('\n') + '\n');
    files.push({ uri, table: 'batch_press', file: out });
    rows += lines.length;
  }
  return { files, rows };
}

/** The same files with each URI replaced by its object's id (1.. in key order), for the id variants. */
async function writeObjectIdFiles(files: readonly CopyFile[]): Promise<CopyFile[]> {
  const uris = [...new Set(files.map((f) => f.uri))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const idOf = new Map(uris.map((u, i) => [u, String(i + 1)]));
  const out: CopyFile[] = [];
  for (const f of files) {
    const text = await fs.promises.readFile(f.file, 'utf8');
    const lines = text.split('\n').map((line) => {
      if (line === '') return line;
      const cells = line.split('\t');
      if (cells[URI_CELL[f.table]] !== copyCell(f.uri)) throw new Error(`no URI where expected in ${f.file}`);
      cells[URI_CELL[f.table]] = idOf.get(f.uri)!;
      return cells.join('\t');
    });
    const file = f.file.replace(/\.copy$/, '.id.copy');
    await fs.promises.writeFile(file, lines.join('\n'));
    out.push({ ...f, file });
  }
  return out;
}

/** Per object, in the pipeline's order: its interactions, its presses, its rejects. */
function copyOrder(baseline: BaselineFiles, presses: readonly CopyFile[]): CopyFile[] {
  const order: (FinalTable | 'batch_press')[] = [
    'rating_interaction',
    'request_interaction',
    'batch_press',
    'rejected_interaction',
  ];
  const all: CopyFile[] = [...baseline.files, ...presses];
  const uris = [...new Set(baseline.files.map((f) => f.uri))];
  return uris.flatMap((uri) =>
    order.flatMap((table) => all.filter((f) => f.uri === uri && f.table === table)),
  );
}

const execFileAsync = promisify(execFile);

async function withClient<T>(databaseUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const databaseNamed = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};
const nameOf = (url: string) => new URL(url).pathname.slice(1);

interface Measure {
  seconds: number;
  rowsPerS: number;
  /** On-CPU seconds of the server process that ran the copies: what the load costs, whatever the load average. */
  backendCpuSeconds: number;
}

/**
 * One load: a copy of the template database, the variant's DDL, a checkpoint (so no earlier writes are
 * flushed during the timing), then one timed psql process that `\copy`s every file; then the row counts are
 * checked against the files.
 */
async function measure(
  templateUrl: string,
  variant: Variant,
  files: readonly CopyFile[],
  expected: Record<string, number>,
  rowsRead: number,
  scriptDir: string,
  cleanup: Cleanup,
): Promise<Measure> {
  const url = isolatedConfig(`schema-${variant.name}`).databaseUrl;
  await withClient(databaseNamed(url, 'postgres'), (c) =>
    c.query(`create database "${nameOf(url)}" template "${nameOf(templateUrl)}"`),
  );
  const forget = cleanup.add(`database ${nameOf(url)}`, () => dropDatabase(url));
  try {
    if (variant.down !== undefined) {
      const knex = createKnex(url, 1);
      try {
        for (const name of variant.down) await knex.migrate.down({ name });
      } finally {
        await knex.destroy();
      }
    }
    await withClient(url, async (c) => {
      for (const sql of variant.ddl) await c.query(sql);
      await c.query('analyze');
      await c.query('checkpoint');
    });
    const source = variant.objectIds ? 'source_object_id' : 'source_object';
    // The backend's own scheduler statistics before and after (first field: nanoseconds on a CPU).
    const cpu = `select pg_read_file('/proc/self/schedstat');`;
    const script = [
      '\\set ON_ERROR_STOP 1',
      cpu,
      ...files
        .filter((f) => variant.presses || f.table !== 'batch_press')
        .map(
          (f) => `\\copy ${f.table} ${COLUMNS[f.table].replace('source_object', source)} from '${f.file}'`,
        ),
      cpu,
    ];
    const scriptFile = path.join(scriptDir, `copy-${variant.name}.psql`);
    await fs.promises.writeFile(scriptFile, script.join('\n') + '\n');
    const began = performance.now();
    const { stdout } = await execFileAsync('psql', [url, '-X', '-q', '-At', '-f', scriptFile], {
      maxBuffer: 1 << 20,
    });
    const seconds = (performance.now() - began) / 1000;
    const onCpu = stdout
      .trim()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => Number(line.split(' ')[0]));
    if (onCpu.length !== 2 || onCpu.some((n) => !Number.isFinite(n)))
      throw new Error(`unexpected psql output: ${stdout}`);
    await withClient(url, async (c) => {
      for (const [table, rows] of Object.entries(expected)) {
        const want = table === 'batch_press' && !variant.presses ? 0 : rows;
        const got = await c.query<{ n: string }>(`select count(*) as n from ${table}`);
        if (Number(got.rows[0]!.n) !== want)
          throw new Error(`${variant.name}: ${table} holds ${got.rows[0]!.n} rows, not ${want}`);
      }
    });
    return {
      seconds: round(seconds, 3),
      rowsPerS: round(rowsRead / seconds),
      backendCpuSeconds: round((onCpu[1]! - onCpu[0]!) / 1e9, 3),
    };
  } finally {
    await dropDatabase(url);
    forget();
  }
}

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), ['rows', 'files', 'repeat', 'variants'], [], USAGE);
  const rows = countArg('rows', o.rows as string | undefined, 300_000);
  const files = countArg('files', o.files as string | undefined, 4);
  const repeat = countArg('repeat', o.repeat as string | undefined, 3);
  let variants = VARIANTS;
  if (o.variants !== undefined) {
    const wanted = new Set(String(o.variants).split(',').concat('today'));
    const unknown = [...wanted].filter((w) => !VARIANTS.some((v) => v.name === w));
    if (unknown.length > 0) throw new UsageError(`unknown variant(s): ${unknown.join(', ')}`);
    variants = VARIANTS.filter((v) => wanted.has(v.name));
  }

  const cfg = isolatedConfig('bench-batch');
  const machine = describeMachine(databaseNamed(cfg.databaseUrl, 'postgres'));
  const uptimeBefore = uptime();
  progress(`uptime before: ${uptimeBefore}`);
  const cleanup = new Cleanup();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-bench-schema-'));
  cleanup.add('temp folder', () => fs.promises.rm(dir, { recursive: true, force: true }));
  cleanUpOnSignals(cleanup);

  try {
    progress(`generating ${rows.toLocaleString('en-GB')} rows in ${files} objects into ${dir}`);
    const dataDir = path.join(dir, 'data');
    // The same input as bench:batch (same seed and shape, URIs of the same length).
    const names = await generateHistory(
      { rows, files, seed: 7, out: dataDir, startDate: '2023-03-01', days: 30, sites: SITES },
      () => undefined,
    );
    const objects = names
      .filter((n) => n.endsWith('.csv'))
      .map((n) => ({ file: path.join(dataDir, n), uri: `s3://${cfg.s3.bucket}/${n}` }));
    const exhibitions = realExhibitions(dataDir);
    const ids = new Map(exhibitions.map((e, i) => [e.site, i + 1]));
    progress('judging the rows once (same module and DUPLICATE rule as the pipeline), untimed');
    const baseline = await prepareBaselineFiles(dir, objects, ids, 0, () => undefined);
    const presses = await writePressFiles(dir, objects, ids);
    const uriFiles = copyOrder(baseline, presses.files);
    const idFiles = await writeObjectIdFiles(uriFiles);
    const rowsRead = FINAL_TABLES.reduce((sum, t) => sum + baseline.rows[t], 0);
    if (rowsRead !== rows) throw new Error(`judged ${rowsRead} rows, not ${rows}`);
    const expected = { ...baseline.rows, batch_press: presses.rows };

    // Migrated, seeded and with the rows' months made once; each load copies it (CREATE DATABASE TEMPLATE).
    const templateUrl = isolatedConfig('schema-template').databaseUrl;
    await createDatabase(templateUrl);
    cleanup.add('template database', () => dropDatabase(templateUrl));
    // The variants are batch_press's registry's costs: the schema before the contract step that drops it.
    const templateKnex = createKnex(templateUrl, 1);
    try {
      await templateKnex.migrate.down({ name: '20261207000400_drop_batch_press' });
    } finally {
      await templateKnex.destroy();
    }
    await seedBaselineDatabase(templateUrl, exhibitions, ids);
    await withClient(templateUrl, (c) => ensureMonths(c, baseline.months));

    const today = variants.find((v) => v.name === 'today')!;
    const others = variants.filter((v) => v !== today);
    const rounds: Record<string, (Measure & { ratio: number; share: number; cpuShare: number })[]>[] = [];
    for (let r = 0; r < repeat; r++) {
      // Rotated each round, so a drift of the machine's load does not always fall on the same variants, and
      // today's tables measured again every few variants: each variant is compared with the round's median.
      const rotated = others.map((_, i) => others[(i + r * 5) % others.length]!);
      const order = rotated.flatMap((v, i) => (i % TODAY_EVERY === 0 ? [today, v] : [v]));
      const got: Record<string, Measure[]> = {};
      for (const v of order) {
        const m = await measure(
          templateUrl,
          v,
          v.objectIds ? idFiles : uriFiles,
          expected,
          rowsRead,
          dir,
          cleanup,
        );
        (got[v.name] ??= []).push(m);
        progress(
          `round ${r + 1}/${repeat} ${v.name}: ${m.rowsPerS.toLocaleString('en-GB')} rows/s (${m.seconds} s, ` +
            `backend CPU ${m.backendCpuSeconds} s), load ${os.loadavg()[0]!.toFixed(2)}`,
        );
      }
      const seconds = median(got.today!.map((m) => m.seconds));
      const cpu = median(got.today!.map((m) => m.backendCpuSeconds));
      rounds.push(
        Object.fromEntries(
          Object.entries(got).map(([name, ms]) => [
            name,
            ms.map((m) => ({
              ...m,
              ratio: round(seconds / m.seconds, 3),
              share: round(1 - m.seconds / seconds, 3),
              cpuShare: round(1 - m.backendCpuSeconds / cpu, 3),
            })),
          ]),
        ),
      );
    }

    const uptimeAfter = uptime();
    machine.loadAverage.end = round(os.loadavg()[0]!, 2);
    const medians = variants.map((v) => {
      const all = rounds.flatMap((r) => r[v.name]!);
      const of = (f: (m: (typeof all)[number]) => number, digits: number) =>
        round(median(all.map(f)), digits);
      return {
        variant: v.name,
        what: v.what,
        measured: all.length,
        rowsPerS: of((m) => m.rowsPerS, 0),
        // Each measure against the median of today's tables in its round.
        ratioToToday: of((m) => m.ratio, 3),
        shareOfTodaysTime: of((m) => m.share, 3),
        backendCpuSecondsPer100k: of((m) => (m.backendCpuSeconds * 1e5) / rowsRead, 3),
        shareOfTodaysBackendCpu: of((m) => m.cpuShare, 3),
      };
    });
    const result = {
      bench: 'batch-schema-costs',
      at: new Date().toISOString(),
      machine,
      uptime: { before: uptimeBefore, after: uptimeAfter },
      input: { rows, objects: objects.length, ...expected, uriExample: objects[0]!.uri },
      options: { repeat, variants: variants.map((v) => v.name) },
      median: medians,
      rounds,
    };
    const file = writeResult('batch-schema-costs', result);
    console.log(
      `bench:batch-schema-costs ${rows.toLocaleString('en-GB')} rows, ${objects.length} objects, median of ${repeat}` +
        `; ratio = rows/s over today's median in the same round, share = part of today's time (wall, then the ` +
        `backend's CPU) the dropped cost takes:`,
    );
    for (const m of medians) {
      console.log(
        `  ${m.variant.padEnd(24)} ${Math.round(m.rowsPerS).toLocaleString('en-GB').padStart(9)} rows/s  ` +
          `ratio ${m.ratioToToday.toFixed(3)}  share ${(m.shareOfTodaysTime * 100).toFixed(1).padStart(5)}%  ` +
          `backend CPU ${m.backendCpuSecondsPer100k.toFixed(2)} s/100k rows, share ` +
          `${(m.shareOfTodaysBackendCpu * 100).toFixed(1).padStart(5)}%`,
      );
    }
    console.log(`  uptime before: ${uptimeBefore}\n  uptime after:  ${uptimeAfter}`);
    console.log(`  ${path.relative(process.cwd(), file)}`);
  } finally {
    await cleanup.run();
  }
}

main().catch(exitOnError('bench:batch-schema-costs'));
