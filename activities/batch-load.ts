// The batch's set-based steps in PostgreSQL, once an object's lines are judged and staged:
//   prepare, at the end of the extract step (objects in parallel): the object's accepted rows into tables of
//     its own, the first press of each natural key within the object, indexed and key-checked; its rejects
//     set aside;
//   load (one object at a time, in key order): presses an earlier object took become DUPLICATE, the rest
//     are registered, the tables join the interaction tables, the ledger is written.
// Only the load depends on other objects, so only it runs one object at a time.
import type pg from 'pg';
import { missingTables } from '../infra/db';
import type { BatchObject, ObjectLoadResult } from './batch-types';
import {
  addObjectForeignKeysSql,
  attachObjectTableSql,
  createObjectTableSql,
  detachObjectTables,
  dropReplacedObjectTables,
  indexObjectTableSql,
  INTERACTION_KINDS,
  KIND_SHAPE,
  registerAcceptedPressesSql,
  uncheckedForeignKeysSql,
  validateObjectForeignKeysSql,
  type InteractionKind,
} from './object-tables';

// Both steps sort and hash a whole object at once; past the default 4 MB those spill to disk.
const SET_WORK_MEM = `set local work_mem = '64MB'`;

/** The object's accepted rows of one kind between prepare and load (dropped with the run's staging). */
export const preparedTable = (stagingTable: string, kind: InteractionKind) => `${stagingTable}_${kind}`;
/** The object's rejects, reasons decided, between prepare and load. */
export const setAsideRejects = (stagingTable: string) => `${stagingTable}_rejects`;
/** Every table prepare leaves for the load, beside the staging table itself. */
const preparedTables = (stagingTable: string) => [
  ...INTERACTION_KINDS.map((kind) => preparedTable(stagingTable, kind)),
  setAsideRejects(stagingTable),
];

async function inTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    await client.query(SET_WORK_MEM);
    const result = await fn();
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

/** Prepare: see the top of this file. Safe to repeat: it replaces what an earlier attempt prepared. */
export async function prepareObject(
  client: pg.ClientBase,
  runId: string,
  uri: string,
  stagingTable: string,
): Promise<void> {
  const prepared = (kind: InteractionKind) => preparedTable(stagingTable, kind);
  const rejects = setAsideRejects(stagingTable);
  // An earlier attempt's tables may carry foreign keys, and dropping those locks the tables they reference:
  // on its own, not at the start of a long transaction.
  await client.query(`drop table if exists ${preparedTables(stagingTable).join(', ')}`);
  await inTransaction(client, async () => {
    for (const kind of INTERACTION_KINDS) await client.query(createObjectTableSql(kind, uri, prepared(kind)));
    await client.query(
      `create unlogged table ${rejects} (line integer not null, raw bytea not null, reasons text[], raw_length bigint)
         with (autovacuum_enabled = false)`,
    );
    // One sort ranks every press within its natural key by line: the first is accepted, the others are
    // DUPLICATE. Its output, hence each table, is in natural-key order, which the registry's index takes
    // without a sort at load.
    const insertFirsts = INTERACTION_KINDS.map((kind) => {
      const { value, code } = KIND_SHAPE[kind];
      return `${kind}_firsts as (
        insert into ${prepared(kind)} (exhibition_id, ${value}, event_at, run_id, source_object, source_line)
        select exhibition_id, value, timestamptz 'epoch' + event_ms * interval '1 millisecond', $1, $2, line
        from ranked where kind = ${code} and nth = 1)`;
    });
    await client.query(
      `with ranked as materialized (
         select s.line, s.kind, e.exhibition_id, s.event_ms, s.value,
           row_number() over (partition by s.kind, e.exhibition_id, s.event_ms, s.value order by s.line) as nth
         from ${stagingTable} s join exhibition e on e.site = s.site
         where s.kind is not null),
       ${insertFirsts.join(',\n       ')}
       insert into ${rejects} (line, raw, reasons, raw_length)
       select s.line, s.raw, s.reasons, s.raw_length from ${stagingTable} s where s.kind is null
       union all
       select s.line, s.raw, array['DUPLICATE'], null from ${stagingTable} s join ranked r on r.line = s.line
       where r.nth > 1`,
      [runId, uri],
    );
    for (const kind of INTERACTION_KINDS) {
      await client.query(indexObjectTableSql(kind, prepared(kind)));
      // The load joins this table with the registry: give the planner its true size and spread.
      await client.query(`analyze ${prepared(kind)}`);
    }
    for (const kind of INTERACTION_KINDS) {
      await client.query(addObjectForeignKeysSql(kind, prepared(kind), true));
    }
  });
  // Checked after that commit, so writers of the referenced tables (the stream's ledger) never wait on it.
  for (const kind of INTERACTION_KINDS) {
    await client.query(validateObjectForeignKeysSql(kind, prepared(kind)));
  }
}

async function summarizeObject(
  client: pg.ClientBase,
  uri: string,
): Promise<Omit<ObjectLoadResult, 'uri' | 'skipped'>> {
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

/**
 * Load: replaces whatever the object loaded before with its prepared rows, in one transaction. A row that
 * repeats a press already accepted (same exhibition, second and value) is rejected as DUPLICATE. A retry
 * after a commit whose reply was lost finds its own result and returns it unchanged.
 */
export async function loadObject(
  client: pg.ClientBase,
  runId: string,
  object: BatchObject,
  stagingTable: string,
): Promise<ObjectLoadResult> {
  const uri = object.uri;
  const prepared = (kind: InteractionKind) => preparedTable(stagingTable, kind);
  const rejects = setAsideRejects(stagingTable);
  return inTransaction(client, async () => {
    await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [uri]);
    const previous = await client.query<{ run_id: string; etag: string }>(
      'select run_id, etag from source_object where source_object = $1',
      [uri],
    );
    const prev = previous.rows[0];
    if (prev && prev.run_id === runId && prev.etag === object.etag) {
      const summary = await summarizeObject(client, uri);
      await dropStaging(client, stagingTable);
      return { uri, skipped: false, ...summary };
    }
    const missing = await missingTables(client, [stagingTable, ...preparedTables(stagingTable)]);
    if (missing.length > 0) {
      throw new Error(`staged table ${missing.join(', ')} is missing: the extract step must run again`);
    }
    for (const kind of INTERACTION_KINDS) {
      const unchecked = await client.query<{ n: number }>(uncheckedForeignKeysSql(prepared(kind)));
      if (unchecked.rows[0]?.n !== 0) {
        throw new Error(`${prepared(kind)} has unchecked foreign keys: the extract step must run again`);
      }
    }
    await detachObjectTables(client, uri);
    for (const table of ['rejected_interaction', 'source_object']) {
      await client.query(`delete from ${table} where source_object = $1`, [uri]);
    }
    const taken = INTERACTION_KINDS.map((kind) => {
      const { value, code } = KIND_SHAPE[kind];
      return `taken_${kind} as (
        delete from ${prepared(kind)} o using accepted_batch_press a
        where a.exhibition_id = o.exhibition_id and a.event_at = o.event_at and a.kind = ${code}
          and a.value = o.${value}
        returning o.source_line)`;
    });
    await client.query(
      `with ${taken.join(', ')}
       insert into rejected_interaction (raw, reasons, run_id, source_object, source_line, raw_length)
       select raw, reasons, $1, $2, line, raw_length from ${rejects}
       union all
       select s.raw, array['DUPLICATE'], $1, $2, s.line, null from ${stagingTable} s
       where s.line in (select source_line from taken_rating union all select source_line from taken_request)`,
      [runId, uri],
    );
    for (const kind of INTERACTION_KINDS) {
      await client.query(attachObjectTableSql(kind, uri, prepared(kind)));
      // A unique violation here means a concurrent load took a press meanwhile: the retry decides again.
      await client.query(registerAcceptedPressesSql(kind, uri, true));
    }
    const summary = await summarizeObject(client, uri);
    const staged = await client.query<{ n: number }>(`select count(*)::int as n from ${stagingTable}`);
    if (summary.read !== staged.rows[0]?.n) {
      // Nothing may be lost between staging and the final tables; refuse to commit if anything was.
      throw new Error(`object ${uri}: staged ${staged.rows[0]?.n} rows but placed ${summary.read}`);
    }
    await client.query(
      `insert into source_object (source_object, etag, size_bytes, run_id, read_count, loaded_count, rejected_count)
         values ($1, $2, $3, $4, $5, $6, $7)`,
      [uri, object.etag, object.size, runId, summary.read, summary.loaded, summary.rejected],
    );
    await client.query(
      `update pipeline_run set
           read_count = read_count + $2, loaded_count = loaded_count + $3, rejected_count = rejected_count + $4,
           rejected_by_reason = (
             select coalesce(jsonb_object_agg(k, n), '{}'::jsonb) from (
               select k, sum(n)::bigint as n from (
                 select key as k, value::bigint as n from jsonb_each_text(rejected_by_reason)
                 union all select key, value::bigint from jsonb_each_text($5::jsonb)) parts
               group by k) totals)
         where run_id = $1`,
      [runId, summary.read, summary.loaded, summary.rejected, JSON.stringify(summary.rejectedByReason)],
    );
    await dropStaging(client, stagingTable);
    await dropReplacedObjectTables(client, uri);
    return { uri, skipped: false, ...summary };
  });
}

/** The staging table and what prepare set aside (the prepared tables are gone once attached). */
async function dropStaging(client: pg.ClientBase, stagingTable: string): Promise<void> {
  await client.query(`drop table if exists ${[stagingTable, ...preparedTables(stagingTable)].join(', ')}`);
}
