// The batch's load step in PostgreSQL: one object's transformed presses and rejects into the final tables,
// in one transaction, with DUPLICATE judged again for every press the object takes or frees.
//
// DUPLICATE (SPEC 3) is a function of every batch object currently loaded: among all valid lines with the
// same natural key (kind, exhibition, second, value), the lowest (object key, line) is accepted and the
// others are rejects. The registry keeps every valid batch line's raw bytes (batch_line) and the key of each
// line that is not accepted (batch_duplicate); a key's holder is its accepted row (the unique
// batch_natural_key index). Until the contract step 20261207000400 drops it, batch_press registers every valid
// line with its key and raw bytes instead, as the previous release does. A load frees the keys of its object's
// earlier version (the lowest remaining press of a key it held is promoted), then contests the first line of
// each of its keys against the key's holder, if any: rows of other objects flip too (accepted <-> DUPLICATE
// reject, raw kept exactly). A key no other object has costs one index probe. The result is the same
// whatever the order of runs and reprocesses: one clean run's tables.
// From the expand step 20261207000500 on, an accepted row keeps its line's raw bytes itself (written beside
// batch_line); after the contract step 20261207000600 nothing goes into batch_line, renamed
// batch_line_archive, which keeps the raw bytes of the rows loaded before.
// Loads take one transaction-level advisory lock, so another run's load waits for one object at most.
import type pg from 'pg';
import { recordStoredRows } from '../infra/metrics';
import { addToRunSet } from '../ledger/pipeline-run';
import type { BatchObject, ObjectLoadResult } from '../contracts/batch';
import { rawUnknown, stagingLost } from '../contracts/failures';
import { OBJECT_SETTINGS, PRESSES_FIRST_COLUMN, PRESSES_RAW_COLUMN, stagedTables } from './staging';
import { INTERACTION_KINDS, KIND_SHAPE } from './interaction-kinds';
import { BATCH_WRITE_LOCK, ensureMonths, monthsAround } from './partitions';

/** What the chain's earlier steps reported, to check the staged tables against. */
export interface StagedCounts {
  /** Lines extract read, header included. */
  lines: number;
  /** Whether validate found the header on line 1. */
  header: boolean;
}

async function inTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    await client.query(OBJECT_SETTINGS);
    const result = await fn();
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

const count = async (client: pg.ClientBase, sql: string, params: unknown[] = []) =>
  (await client.query<{ n: number }>(sql, params)).rows[0]?.n ?? 0;

/** The staged presses table's columns that differ between releases. */
interface StagedShape {
  /** Whether the presses carry their lines' raw bytes (a table staged by an earlier release does not). */
  pressesRaw: boolean;
}

/** Whether the presses table (the third name of $1, possibly missing) has the column named by `param`. */
const STAGED_COLUMN = (param: string) =>
  `exists (select 1 from pg_attribute where attrelid = to_regclass(($1::text[])[3]) and attname = ${param}
     and not attisdropped)`;

/**
 * Refuses (StagingLost) unless the staged tables exist and, with `staged`, hold exactly what the steps before
 * reported (counted once, under the batch lock: each count reads a whole table). One catalogue query finds
 * the tables and the presses table's columns.
 */
async function checkStaged(client: pg.ClientBase, stem: string, staged?: StagedCounts): Promise<StagedShape> {
  const t = stagedTables(stem);
  const lost = (why: string) => stagingLost(`${stem}: ${why}`);
  const shape = await client.query<{ missing: string[]; first: boolean; raw: boolean }>(
    `select array(select name from unnest($1::text[]) as name where to_regclass(name) is null) as missing,
       ${STAGED_COLUMN('$2')} as first, ${STAGED_COLUMN('$3')} as raw`,
    [[t.raw, t.judged, t.presses], PRESSES_FIRST_COLUMN, PRESSES_RAW_COLUMN],
  );
  const { missing, first, raw: pressesRaw } = shape.rows[0]!;
  if (missing.length > 0) throw lost(`staged table ${missing.join(', ')} is missing`);
  if (!first) throw lost(`${t.presses} was staged by an earlier release`);
  if (staged === undefined) return { pressesRaw };
  const counts = await client.query<{ raw: number; judged: number }>(
    `select (select count(*) from ${t.raw})::int as raw, (select count(*) from ${t.judged})::int as judged`,
  );
  const { raw, judged } = counts.rows[0]!;
  if (raw !== staged.lines || judged !== staged.lines - (staged.header ? 1 : 0)) {
    throw lost(`extract read ${staged.lines} lines, staging holds ${raw} raw and ${judged} judged`);
  }
  return { pressesRaw };
}

type ObjectSummary = Omit<ObjectLoadResult, 'uri' | 'skipped'>;

/** An object's counts read back from the final tables, for a retry that finds its load committed. */
async function summarizeObject(client: pg.ClientBase, uri: string): Promise<ObjectSummary> {
  const counts = await client.query<{
    ratings: number;
    assistance: number;
    emergency: number;
    rejected: number;
  }>(
    `select (select count(*) from rating_interaction where source_object = $1)::int as ratings,
            (select count(*) from request_interaction where source_object = $1 and request_value = 0)::int as assistance,
            (select count(*) from request_interaction where source_object = $1 and request_value = 1)::int as emergency,
            (select count(*) from rejected_interaction where source_object = $1)::int as rejected`,
    [uri],
  );
  const reasons = await client.query<{ reason: string; n: number }>(
    `select reason, count(*)::int as n from rejected_interaction, unnest(reasons) as reason
     where source_object = $1 group by reason order by reason`,
    [uri],
  );
  const c = counts.rows[0]!;
  const loaded = c.ratings + c.assistance + c.emergency;
  return {
    read: loaded + c.rejected,
    loaded,
    rejected: c.rejected,
    rejectedByReason: Object.fromEntries(reasons.rows.map((r) => [r.reason, r.n])),
    ratingRows: c.ratings,
    assistanceRows: c.assistance,
    emergencyRows: c.emergency,
  };
}

/** The collation object keys are compared in: bytewise, as S3 orders keys, whatever the database's locale. */
const C = 'collate "C"';

type StagedTables = ReturnType<typeof stagedTables>;

/** The temp tables one load's transaction works in, by name; they are dropped at its end. */
interface LoadTables {
  /** The keys of the presses this object's earlier version registered, which are judged again. */
  freed: string;
  /** The press that holds each freed key now, where it was a DUPLICATE reject. */
  promoted: string;
  /** The first line of each of this object's keys against the key's holder in another object. */
  contest: string;
  /** This object's lines that are DUPLICATE. */
  lostHere: string;
  /** Rows of other objects that changed sides (+1 accepted, -1 rejected), for their objects' counts. */
  flipped: string;
}

/** Makes every temp table of the load, empty, so that each step is given the ones it reads and writes. */
async function createLoadTables(client: pg.ClientBase): Promise<LoadTables> {
  const t: LoadTables = {
    freed: 'freed',
    promoted: 'promoted',
    contest: 'contest',
    lostHere: 'lost_here',
    flipped: 'flipped',
  };
  await client.query(`create temp table ${t.flipped} (source_object text, delta integer) on commit drop`);
  await client.query(`create temp table ${t.freed} (
      kind smallint, exhibition_id smallint, event_at timestamptz, value smallint) on commit drop`);
  await client.query(`create temp table ${t.promoted} (
      kind smallint, exhibition_id smallint, event_at timestamptz, value smallint,
      source_object text, source_line integer) on commit drop`);
  await client.query(`create temp table ${t.contest} (
      kind smallint, exhibition_id smallint, event_at timestamptz, value smallint, line integer,
      holder_object text, holder_line integer, we_win boolean, holder_raw bytea) on commit drop`);
  await client.query(`create temp table ${t.lostHere} (line integer) on commit drop`);
  return t;
}

/**
 * Where DUPLICATE is registered: batch_press; or batch_duplicate, with the raw bytes of every valid line in
 * batch_line; or batch_duplicate, with the raw bytes of accepted lines in their rows ('row'), and of the rows
 * loaded before that in batch_line_archive.
 */
export interface Registry {
  mode: 'batch_press' | 'batch_line' | 'row';
  /** Where the raw bytes of a line loaded before are, for a demotion. */
  rawTable: 'batch_press' | 'batch_line' | 'batch_line_archive';
  /** Whether the interaction rows have a raw column: accepted lines then keep their raw bytes in it. */
  rowRaw: boolean;
}

/**
 * batch_press while it exists (a release that writes it may still be loading), then batch_line and
 * batch_duplicate while batch_line exists (a release that needs every line in it may still be loading),
 * then the rows' raw bytes. Read under the batch lock, which the contract steps take too. The first two modes
 * can go once every deployment has run `db migrate --contract` through 20261207000600.
 */
export async function registryOf(client: pg.ClientBase): Promise<Registry> {
  const r = await client.query<{ press: boolean; line: boolean; row_raw: boolean }>(
    `select to_regclass('batch_press') is not null as press, to_regclass('batch_line') is not null as line,
       exists (select 1 from pg_attribute where attrelid = 'rating_interaction'::regclass and attname = 'raw'
               and not attisdropped) as row_raw`,
  );
  const { press, line, row_raw: rowRaw } = r.rows[0]!;
  if (press) return { mode: 'batch_press', rawTable: 'batch_press', rowRaw: false };
  if (line) return { mode: 'batch_line', rawTable: 'batch_line', rowRaw };
  return { mode: 'row', rawTable: 'batch_line_archive', rowRaw: true };
}

/**
 * The presses table with each line's raw bytes, as a FROM item: a table staged by an earlier release has
 * none, and gets them from the raw table.
 */
function pressesWithRaw({ presses, raw }: Pick<StagedTables, 'presses' | 'raw'>, shape: StagedShape): string {
  if (shape.pressesRaw) return presses;
  return `(select p.*, r.raw from ${presses} p join ${raw} r using (line))`;
}

/** Whether this run already committed this version of the object (the load is then a retry after it). */
async function loadedByThisRun(client: pg.ClientBase, runId: string, object: BatchObject): Promise<boolean> {
  const done = await client.query<{ run_id: string; etag: string }>(
    'select run_id, etag from source_object where source_object = $1',
    [object.uri],
  );
  return done.rows[0]?.run_id === runId && done.rows[0].etag === object.etag;
}

/** The month partitions the object's rows need, each made in a short transaction of its own. */
async function ensureObjectMonths(
  client: pg.ClientBase,
  { presses }: Pick<StagedTables, 'presses'>,
): Promise<void> {
  // Formatted per month, not per row: to_char on every row cost more than the rest of the scan.
  const months = await client.query<{ m: string }>(
    `select to_char(m, 'YYYY-MM-DD') as m
     from (select distinct date_trunc('month', event_at at time zone 'UTC') as m from ${presses}) months`,
  );
  await ensureMonths(client, [...months.rows.map((r) => r.m), ...monthsAround(new Date())]);
}

/**
 * Forgets what this object's earlier version loaded: its registered presses (their keys go to `freed`, to be
 * judged again before this version's presses are registered), rows, rejects and object record.
 */
async function forgetEarlierVersion(
  client: pg.ClientBase,
  uri: string,
  registry: Registry,
  { freed }: Pick<LoadTables, 'freed'>,
): Promise<void> {
  const forget = (table: string, key: string) =>
    client.query(
      `with gone as (delete from ${table} where source_object = $1 returning ${key})
       insert into ${freed} select * from gone`,
      [uri],
    );
  if (registry.mode === 'batch_press') {
    await forget('batch_press', 'kind, exhibition_id, event_at, value');
  } else {
    // Its accepted lines' keys are in their rows, the others' in batch_duplicate.
    await forget('batch_duplicate', 'kind, exhibition_id, event_at, value');
    await client.query(`delete from ${registry.rawTable} where source_object = $1`, [uri]);
    for (const kind of INTERACTION_KINDS) {
      const { parent, value, code } = KIND_SHAPE[kind];
      await forget(parent, `${code}::smallint, exhibition_id, event_at, ${value}`);
    }
  }
  const rows = registry.mode === 'batch_press' ? ['rating_interaction', 'request_interaction'] : [];
  for (const table of [...rows, 'rejected_interaction', 'source_object']) {
    await client.query(`delete from ${table} where source_object = $1`, [uri]);
  }
}

/** Whether the key of `w` still has an accepted batch row (another object's: this one's are deleted). */
const HELD = INTERACTION_KINDS.map((kind) => {
  const { parent, value, code } = KIND_SHAPE[kind];
  return `exists (select 1 from ${parent} t where w.kind = ${code} and t.exhibition_id = w.exhibition_id
    and t.event_at = w.event_at and t.${value} = w.value and t.source_object is not null)`;
}).join(' or ');

/**
 * The keys in `freed` had presses in this object's earlier version: the lowest remaining press of each is its
 * holder now. Where that press is a DUPLICATE reject (the earlier version held the key), it is accepted
 * again with its own run; its object's counts follow through `flipped`. A key this version has again is left
 * as it is: if the earlier version held it, this one (the same, lower, object key) takes it back; if not, the
 * lowest remaining press is the accepted holder already.
 */
async function promoteFreed(
  client: pg.ClientBase,
  registry: Registry,
  { presses }: Pick<StagedTables, 'presses'>,
  { freed, promoted, flipped }: Pick<LoadTables, 'freed' | 'promoted' | 'flipped'>,
): Promise<void> {
  if ((await count(client, `select count(*)::int as n from ${freed}`)) === 0) return;
  await client.query(`analyze ${freed}`);
  // batch_press has every line, the accepted holder too; batch_duplicate only the lines a holder beats, so a
  // key still held has nothing to promote.
  const candidates = registry.mode === 'batch_press' ? 'batch_press' : 'batch_duplicate';
  await client.query(
    `insert into ${promoted}
     select * from (
       select distinct on (b.kind, b.exhibition_id, b.event_at, b.value)
         b.kind, b.exhibition_id, b.event_at, b.value, b.source_object, b.source_line
       from (select distinct kind, exhibition_id, event_at, value from ${freed}) f
       join ${candidates} b using (kind, exhibition_id, event_at, value)
       order by b.kind, b.exhibition_id, b.event_at, b.value, b.source_object ${C}, b.source_line) w
     where not exists (select 1 from ${presses} m where m.kind = w.kind and m.exhibition_id = w.exhibition_id
                      and m.event_at = w.event_at and m.value = w.value)
       ${registry.mode === 'batch_press' ? '' : `and not (${HELD})`}`,
  );
  await client.query(`analyze ${promoted}`);
  // A promoted line takes its raw bytes from its reject into its row.
  const [rawColumn, rawOfReject, rawOfGone] = registry.rowRaw
    ? [', raw', ', r.raw', ', g.raw']
    : ['', '', ''];
  for (const kind of INTERACTION_KINDS) {
    const { parent, value, code } = KIND_SHAPE[kind];
    await client.query(`
      with gone as (
        delete from rejected_interaction r using ${promoted} p
        where p.kind = ${code} and r.source_object = p.source_object and r.source_line = p.source_line
        returning r.source_object, r.source_line, r.run_id${rawOfReject}),
      accepted as (
        insert into ${parent} (exhibition_id, ${value}, event_at, run_id, source_object, source_line${rawColumn})
        select p.exhibition_id, p.value, p.event_at, g.run_id, g.source_object, g.source_line${rawOfGone}
        from gone g join ${promoted} p using (source_object, source_line))
      insert into ${flipped} select source_object, 1 from gone`);
  }
  if (registry.mode !== 'batch_press') {
    await client.query(`delete from batch_duplicate d using ${promoted} p
      where d.source_object = p.source_object and d.source_line = p.source_line`);
  }
}

/**
 * The first line of each of this object's keys against the key's current holder in another object: the
 * lower object key wins. Holders that lose are demoted (a DUPLICATE reject with their raw bytes). Fills
 * `contest`, whose rows with `we_win` false are this object's lines that lost.
 */
async function contestHolders(
  client: pg.ClientBase,
  uri: string,
  registry: Registry,
  { presses }: Pick<StagedTables, 'presses'>,
  { contest, flipped }: Pick<LoadTables, 'contest' | 'flipped'>,
): Promise<void> {
  // The object's instants bound the months a holder can be in: given as values, so the plan reads only
  // those months' partitions, however long the history.
  const bounds = await client.query<{ lo: Date | null; hi: Date | null }>(
    `select min(event_at) as lo, max(event_at) as hi from ${presses}`,
  );
  const { lo, hi } = bounds.rows[0]!;
  if (lo === null || hi === null) return;
  for (const kind of INTERACTION_KINDS) {
    const { parent, value, code } = KIND_SHAPE[kind];
    await client.query(
      `insert into ${contest}
       select m.kind, m.exhibition_id, m.event_at, m.value, m.line, t.source_object, t.source_line,
         t.source_object ${C} > $1 ${C}, ${registry.rowRaw ? 't.raw' : 'null::bytea'}
       from ${presses} m join ${parent} t on t.exhibition_id = m.exhibition_id and t.event_at = m.event_at
         and t.${value} = m.value and t.source_object is not null and t.event_at between $2 and $3
       where m.first and m.kind = ${code}`,
      [uri, lo, hi],
    );
  }
  await client.query(`analyze ${contest}`);
  const unknownRaw = await client.query<{ o: string }>(
    `select c.holder_object as o from ${contest} c
     where c.we_win and c.holder_raw is null and not exists (select 1 from ${registry.rawTable} b
       where b.source_object = c.holder_object and b.source_line = c.holder_line and b.raw is not null) limit 1`,
  );
  if (unknownRaw.rows.length > 0) {
    throw rawUnknown(
      `${uri} takes a press that ${unknownRaw.rows[0]!.o} holds, loaded before its raw lines were kept ` +
        `(migration 20261130000200): reprocess ${unknownRaw.rows[0]!.o} first`,
    );
  }
  // A row loaded before its raw bytes were kept in it has them in the registry's table.
  const demotedRaw = registry.rowRaw ? 'coalesce(l.raw, b.raw)' : 'b.raw';
  for (const kind of INTERACTION_KINDS) {
    const { parent, value, code } = KIND_SHAPE[kind];
    // batch_duplicate registers the key a demoted holder loses (batch_press has every line's already).
    const registered =
      registry.mode === 'batch_press'
        ? ''
        : `,
       registered as (
         insert into batch_duplicate (kind, exhibition_id, event_at, value, source_object, source_line)
         select ${code}, exhibition_id, event_at, ${value}, source_object, source_line from lost)`;
    await client.query(
      `with lost as (
         delete from ${parent} t using ${contest} c
         where c.we_win and c.kind = ${code} and t.source_object = c.holder_object
           and t.source_line = c.holder_line and t.event_at = c.event_at and t.event_at between $1 and $2
         returning t.source_object, t.source_line, t.run_id, t.exhibition_id, t.event_at, t.${value}${
           registry.rowRaw ? ', t.raw' : ''
         }),
       demoted as (
         insert into rejected_interaction (raw, reasons, run_id, source_object, source_line)
         select ${demotedRaw}, array['DUPLICATE'], l.run_id, l.source_object, l.source_line
         from lost l ${registry.rowRaw ? 'left join' : 'join'} ${registry.rawTable} b
           using (source_object, source_line))${registered}
       insert into ${flipped} select source_object, -1 from lost`,
      [lo, hi],
    );
  }
}

/** This object's lines that are DUPLICATE: not the first of their key here, or beaten by another object. */
async function collectLostHere(
  client: pg.ClientBase,
  { presses }: Pick<StagedTables, 'presses'>,
  { contest, lostHere }: Pick<LoadTables, 'contest' | 'lostHere'>,
): Promise<void> {
  await client.query(`insert into ${lostHere}
    select line from ${presses} where not first union all select line from ${contest} where not we_win`);
}

/** How many rows of this object went into each final table, by request value for requests. */
interface Placed {
  ratings: number;
  requests: Record<string, number>;
  /** Rejects by their set of reasons. */
  rejects: [string[], number][];
}

/**
 * This object's accepted rows: the first line of each key, unless another object's line beat it. Returns
 * the rows inserted (requests by value), so the counts need no second read of the final tables.
 */
async function insertAccepted(
  client: pg.ClientBase,
  runId: string,
  uri: string,
  registry: Registry,
  presses: string,
  { contest }: Pick<LoadTables, 'contest'>,
): Promise<Omit<Placed, 'rejects'>> {
  const placed: Omit<Placed, 'rejects'> = { ratings: 0, requests: {} };
  const raw = registry.rowRaw ? ', raw' : '';
  for (const kind of INTERACTION_KINDS) {
    const { parent, value, code } = KIND_SHAPE[kind];
    const insert = `insert into ${parent} (exhibition_id, ${value}, event_at, run_id, source_object, source_line${raw})
       select exhibition_id, value, event_at, $1, $2, line${raw} from ${presses} m
       where m.first and m.kind = ${code}
         and not exists (select 1 from ${contest} c where c.line = m.line and not c.we_win)
       order by event_at`;
    if (kind === 'rating') {
      placed.ratings = (await client.query(insert, [runId, uri])).rowCount ?? 0;
    } else {
      // Requests are a few percent of the rows: returning their values costs little.
      const byValue = await client.query<{ value: number; n: number }>(
        `with placed as (${insert} returning ${value} as value)
         select value, count(*)::int as n from placed group by value`,
        [runId, uri],
      );
      for (const r of byValue.rows) placed.requests[String(r.value)] = r.n;
    }
  }
  return placed;
}

/**
 * Every valid line of this object into the registry: into batch_press with its key and raw bytes, or its raw
 * bytes into batch_line (while it exists) and, for its DUPLICATE lines only, its key into batch_duplicate.
 */
async function registerPresses(
  client: pg.ClientBase,
  uri: string,
  registry: Registry,
  { presses, raw }: Pick<StagedTables, 'presses' | 'raw'>,
  pressesRaw: string,
  { lostHere }: Pick<LoadTables, 'lostHere'>,
): Promise<void> {
  if (registry.mode === 'batch_press') {
    await client.query(
      `insert into batch_press (kind, exhibition_id, event_at, value, source_object, source_line, raw)
       select p.kind, p.exhibition_id, p.event_at, p.value, $1, p.line, r.raw
       from ${presses} p join ${raw} r using (line)`,
      [uri],
    );
    return;
  }
  if (registry.mode === 'batch_line') {
    await client.query(
      `insert into batch_line (source_object, source_line, raw) select $1, p.line, p.raw from ${pressesRaw} p`,
      [uri],
    );
  }
  await client.query(
    `insert into batch_duplicate (kind, exhibition_id, event_at, value, source_object, source_line)
     select p.kind, p.exhibition_id, p.event_at, p.value, $1, p.line from ${presses} p join ${lostHere} l using (line)`,
    [uri],
  );
}

/** This object's rejects, raw bytes kept: the lines validate rejected, then its DUPLICATE lines. By reasons. */
async function insertRejects(
  client: pg.ClientBase,
  runId: string,
  uri: string,
  { judged, raw }: Pick<StagedTables, 'judged' | 'raw'>,
  { lostHere }: Pick<LoadTables, 'lostHere'>,
): Promise<[string[], number][]> {
  const groups = await client.query<{ reasons: string[]; n: number }>(
    `with placed as (
       insert into rejected_interaction (raw, reasons, run_id, source_object, source_line, raw_length)
       select r.raw, j.reasons, $1, $2, j.line, r.raw_length from ${judged} j join ${raw} r using (line)
       where j.kind is null
       union all
       select r.raw, array['DUPLICATE'], $1, $2, l.line, null from ${lostHere} l join ${raw} r using (line)
       returning reasons)
     select reasons, count(*)::int as n from placed group by reasons`,
    [runId, uri],
  );
  return groups.rows.map((g) => [g.reasons, g.n]);
}

/** The counts of the other objects whose rows changed sides; returns how many rows did. */
async function applyFlippedCounts(
  client: pg.ClientBase,
  { flipped }: Pick<LoadTables, 'flipped'>,
): Promise<number> {
  await client.query(
    `update source_object s set loaded_count = s.loaded_count + d.n, rejected_count = s.rejected_count - d.n
     from (select source_object, sum(delta)::int as n from ${flipped} group by 1) d
     where s.source_object = d.source_object`,
  );
  return count(client, `select count(*)::int as n from ${flipped}`);
}

/**
 * This object's counts from what its load inserted (the final tables held none of its rows before: its
 * earlier version's are deleted first, and promotions and demotions touch other objects' rows only), refused
 * unless every data line extract read is in exactly one final table.
 */
function checkNothingLost(uri: string, staged: StagedCounts, placed: Placed): ObjectSummary {
  const rejectedByReason: Record<string, number> = {};
  let rejected = 0;
  for (const [reasons, n] of placed.rejects) {
    rejected += n;
    for (const reason of reasons) rejectedByReason[reason] = (rejectedByReason[reason] ?? 0) + n;
  }
  const assistance = placed.requests['0'] ?? 0;
  const emergency = placed.requests['1'] ?? 0;
  const loaded = placed.ratings + assistance + emergency;
  const summary: ObjectSummary = {
    read: loaded + rejected,
    loaded,
    rejected,
    rejectedByReason: Object.fromEntries(
      Object.entries(rejectedByReason).sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
    ratingRows: placed.ratings,
    assistanceRows: assistance,
    emergencyRows: emergency,
  };
  const expected = staged.lines - (staged.header ? 1 : 0);
  if (summary.read !== expected) {
    // Nothing may be lost between extract and the final tables; refuse to commit if anything was.
    throw new Error(`object ${uri}: extract read ${expected} data lines but the load placed ${summary.read}`);
  }
  return summary;
}

/** Records the object (source_object) and adds its counts to the run's ledger. */
async function recordObject(
  client: pg.ClientBase,
  runId: string,
  object: BatchObject,
  summary: ObjectSummary,
): Promise<void> {
  await client.query(
    `insert into source_object (source_object, etag, size_bytes, run_id, read_count, loaded_count, rejected_count)
       values ($1, $2, $3, $4, $5, $6, $7)`,
    [object.uri, object.etag, object.size, runId, summary.read, summary.loaded, summary.rejected],
  );
  await client.query(
    `update pipeline_run set ${addToRunSet({ read: '$2', loaded: '$3', rejected: '$4', rejectedByReason: '$5::jsonb' })}
       where run_id = $1`,
    [runId, summary.read, summary.loaded, summary.rejected, JSON.stringify(summary.rejectedByReason)],
  );
}

/**
 * Load: see the top of this file. Safe to repeat: a retry after its commit finds the object loaded by this
 * run and reports it; otherwise it replaces whatever the object loaded before.
 */
export async function loadObject(
  client: pg.ClientBase,
  runId: string,
  object: BatchObject,
  stem: string,
  staged: StagedCounts,
): Promise<ObjectLoadResult & { flipped: number }> {
  const uri = object.uri;
  const t = stagedTables(stem);
  if (await loadedByThisRun(client, runId, object)) {
    await dropStaging(client, stem);
    return { uri, skipped: false, flipped: 0, ...(await summarizeObject(client, uri)) };
  }
  await checkStaged(client, stem);
  await ensureObjectMonths(client, t);

  // What this attempt committed, counted after the commit (a retry that finds its own result counts nothing).
  let committed: { loaded: number; rejects: [string[], number][] } | undefined;
  const result = await inTransaction(client, async () => {
    await client.query(BATCH_WRITE_LOCK);
    // Checked again under the lock: another run may have loaded this version meanwhile (its rows then
    // make way for this run's, which are the same).
    const shape = await checkStaged(client, stem, staged);
    const registry = await registryOf(client);
    const pressesRaw = pressesWithRaw(t, shape);
    const tmp = await createLoadTables(client);
    // The earlier version's keys are judged again before this version's presses are registered: they are
    // judged against the holders that remain.
    await forgetEarlierVersion(client, uri, registry, tmp);
    await promoteFreed(client, registry, t, tmp);
    await contestHolders(client, uri, registry, t, tmp);
    await collectLostHere(client, t, tmp);
    const accepted = await insertAccepted(client, runId, uri, registry, pressesRaw, tmp);
    await registerPresses(client, uri, registry, t, pressesRaw, tmp);
    const rejects = await insertRejects(client, runId, uri, t, tmp);
    const flipped = await applyFlippedCounts(client, tmp);
    const summary = checkNothingLost(uri, staged, { ...accepted, rejects });
    await recordObject(client, runId, object, summary);
    committed = { loaded: summary.loaded, rejects };
    await dropStaging(client, stem);
    return { uri, skipped: false, flipped, ...summary };
  });
  if (committed) recordStoredRows('batch', committed.loaded, committed.rejects);
  return result;
}

/** Every staging table of one object's chain. */
export async function dropStaging(client: pg.ClientBase, stem: string): Promise<void> {
  const t = stagedTables(stem);
  await client.query(`drop table if exists ${t.raw}, ${t.judged}, ${t.presses}`);
}
