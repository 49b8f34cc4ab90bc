// The rejects table read by filter and by id pages: one definition of "the rejects selected" for the CLI's
// list and export and for the replay. Pages go by id (the primary key), so years of rejects are never held
// at once and a page costs the same on day 1,000 as on day 1.
import type { Knex } from 'knex';

export interface RejectFilter {
  reason?: string;
  source?: 'batch' | 'stream';
  /** London calendar dates (inclusive) of rejected_at, YYYY-MM-DD, already validated. */
  from?: string;
  to?: string;
}

export interface RejectRow {
  id: number;
  raw: Buffer;
  /** Full length in bytes when raw holds only the value's first bytes; null when raw is whole. */
  rawLength: number | null;
  reasons: string[];
  runId: string;
  rejectedAt: Date;
  sourceObject: string | null;
  sourceLine: number | null;
  sourceTopic: string | null;
  sourcePartition: number | null;
  sourceOffset: number | null;
}

interface DbRow {
  rejected_interaction_id: number;
  raw: Buffer;
  raw_length: number | null;
  reasons: string[];
  run_id: string;
  rejected_at: Date;
  source_object: string | null;
  source_line: number | null;
  source_topic: string | null;
  source_partition: number | null;
  source_offset: number | null;
}

const COLUMNS = `r.rejected_interaction_id, r.raw, r.raw_length, r.reasons, r.run_id, r.rejected_at,
  r.source_object, r.source_line, r.source_topic, r.source_partition, r.source_offset`;

function toRow(r: DbRow): RejectRow {
  return {
    id: r.rejected_interaction_id,
    raw: r.raw,
    rawLength: r.raw_length,
    reasons: r.reasons,
    runId: r.run_id,
    rejectedAt: r.rejected_at,
    sourceObject: r.source_object,
    sourceLine: r.source_line,
    sourceTopic: r.source_topic,
    sourcePartition: r.source_partition,
    sourceOffset: r.source_offset,
  };
}

/** The WHERE clause of a filter over alias r, with its bindings. Dates bound London midnights, as the report. */
function where(filter: RejectFilter): { sql: string; bindings: (string | number)[] } {
  const parts: string[] = [];
  const bindings: (string | number)[] = [];
  if (filter.reason !== undefined) {
    parts.push('r.reasons @> array[?]::text[]');
    bindings.push(filter.reason);
  }
  if (filter.source === 'batch') parts.push('r.source_object is not null');
  if (filter.source === 'stream') parts.push('r.source_topic is not null');
  if (filter.from !== undefined) {
    parts.push(`r.rejected_at >= ?::date::timestamp at time zone 'Europe/London'`);
    bindings.push(filter.from);
  }
  if (filter.to !== undefined) {
    parts.push(`r.rejected_at < (?::date + 1)::timestamp at time zone 'Europe/London'`);
    bindings.push(filter.to);
  }
  return { sql: parts.length === 0 ? 'true' : parts.join(' and '), bindings };
}

export interface PageOptions {
  afterId: number;
  /** Inclusive upper bound on ids, so a long walk ends even while new rejects arrive. */
  untilId?: number;
  limit: number;
  /** Lock the page's rows until the transaction ends (the replay). */
  forUpdate?: boolean;
}

export async function rejectPage(
  db: Knex | Knex.Transaction,
  filter: RejectFilter,
  page: PageOptions,
): Promise<RejectRow[]> {
  const w = where(filter);
  const until = page.untilId === undefined ? '' : 'and r.rejected_interaction_id <= ?';
  const r = await db.raw<{ rows: DbRow[] }>(
    `select ${COLUMNS} from rejected_interaction r
     where r.rejected_interaction_id > ? ${until} and ${w.sql}
     order by r.rejected_interaction_id limit ? ${page.forUpdate ? 'for update' : ''}`,
    [page.afterId, ...(page.untilId === undefined ? [] : [page.untilId]), ...w.bindings, page.limit],
  );
  return r.rows.map(toRow);
}

/**
 * The ids that can hold rejects of the filter's dates: the first id stored on or after `from` and the last
 * stored before the day after `to`, each one probe of the rejected_at index. Exact bounds whatever the order
 * ids were given in, and they keep a walk over one week of a long history from scanning the years before it.
 */
export async function idWindow(
  db: Knex,
  filter: RejectFilter,
): Promise<{ afterId: number; untilId: number }> {
  const r = await db.raw<{ rows: { lo: number | null; hi: number | null }[] }>(
    `select
       (select min(rejected_interaction_id) - 1 from rejected_interaction
        where rejected_at >= coalesce(?::date, '-infinity'::date)::timestamp at time zone 'Europe/London') as lo,
       (select max(rejected_interaction_id) from rejected_interaction
        where rejected_at < (coalesce(?::date, 'infinity'::date) + 1)::timestamp at time zone 'Europe/London') as hi`,
    [filter.from ?? null, filter.to ?? null],
  );
  const row = r.rows[0];
  // No reject on or after `from`: an empty window.
  return { afterId: row?.lo ?? row?.hi ?? 0, untilId: row?.hi ?? 0 };
}

/** Every selected reject in id order, one page in memory at a time. */
export async function* eachReject(
  db: Knex,
  filter: RejectFilter,
  pageSize = 1000,
): AsyncGenerator<RejectRow> {
  const window = await idWindow(db, filter);
  let afterId = window.afterId;
  for (;;) {
    const rows = await rejectPage(db, filter, { afterId, untilId: window.untilId, limit: pageSize });
    yield* rows;
    if (rows.length < pageSize) return;
    afterId = rows[rows.length - 1]!.id;
  }
}

export async function rejectById(db: Knex, id: number): Promise<RejectRow | undefined> {
  const r = await db.raw<{ rows: DbRow[] }>(
    `select ${COLUMNS} from rejected_interaction r where r.rejected_interaction_id = ?`,
    [id],
  );
  const row = r.rows[0];
  return row === undefined ? undefined : toRow(row);
}

/** Where a reject came from, in one short phrase. */
export function describeSource(r: RejectRow): string {
  return r.sourceObject !== null
    ? `batch ${r.sourceObject} line ${r.sourceLine}`
    : `stream ${r.sourceTopic}[${r.sourcePartition}] offset ${r.sourceOffset}`;
}

/**
 * The objects holding the selected batch rejects with ids up to `untilId`, and how many such rejects each
 * holds: the replay reprocesses these objects, which judges every line again (DUPLICATE included).
 */
export async function batchObjectsOfRejects(
  db: Knex,
  filter: RejectFilter,
  window: { afterId: number; untilId: number },
): Promise<{ uri: string; rejects: number }[]> {
  const w = where({ ...filter, source: 'batch' });
  const r = await db.raw<{ rows: { uri: string; n: number }[] }>(
    `select r.source_object as uri, count(*)::int as n from rejected_interaction r
     where r.rejected_interaction_id > ? and r.rejected_interaction_id <= ? and ${w.sql}
     group by 1 order by 1`,
    [window.afterId, window.untilId, ...w.bindings],
  );
  return r.rows.map((x) => ({ uri: x.uri, rejects: x.n }));
}

/** How many rows of these objects the interaction tables hold (before and after their reprocess). */
export async function countLoadedRows(db: Knex, uris: readonly string[]): Promise<number> {
  const r = await db.raw<{ rows: { n: number }[] }>(
    `select (select count(*) from rating_interaction where source_object = any(:uris))
          + (select count(*) from request_interaction where source_object = any(:uris)) as n`,
    { uris: [...uris] },
  );
  return Number(r.rows[0]?.n ?? 0);
}
