// The per-object staging tables: the references that pass an object's lines from step to step of the chain
// (extract -> validate -> transform -> load) without sending bulk data through workflow history. UNLOGGED:
// each is rebuilt from the step before on a retry, and a PostgreSQL crash empties them, which the load
// notices by comparing counts (batch/load.ts).
import { createHash } from 'node:crypto';
import type { Verdict } from '../domain/interaction';

export const STAGING_SCHEMA = 'batch_staging';

// Set on the connection of a step that works on a whole object, which ends with the step. Transform's marking
// of each key's first line and the load's contest join and sort a whole object; past PostgreSQL's default
// 4 MB they spill to disk. Staging tables have no statistics when they are read, so the planner overestimates
// their joins and JIT-compiles statements that run well under a second: the compiling cost more than it saved.
export const OBJECT_SETTINGS = `set work_mem = '64MB'; set jit = off`;

const digest = (text: string, length: number) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

/** Every staging table of one run starts with this, so a failed run's leftovers can be found and dropped. */
export function stagingPrefix(runId: string): string {
  return `r${digest(runId, 12)}_`;
}

/** A stable, safe name stem for one object in one run (retries of the same step reuse it). */
export function stagingTableName(runId: string, uri: string): string {
  return `${STAGING_SCHEMA}.${stagingPrefix(runId)}${digest(uri, 20)}`;
}

/** The tables of one object's chain: each step fills one from the one before. */
export function stagedTables(stem: string): { raw: string; judged: string; presses: string } {
  return { raw: `${stem}_raw`, judged: `${stem}_judged`, presses: `${stem}_presses` };
}

// Read once by the next step, then dropped: vacuuming them is waste.
const SCRATCH = 'with (autovacuum_enabled = false)';

/**
 * Extract's output: every line of the object, header included, as read; a line too long to keep whole keeps
 * its first bytes in raw and its full length in raw_length (null when raw is whole).
 */
export const RAW_DDL = (table: string) => `
  drop table if exists ${table};
  create unlogged table ${table} (line integer not null, raw bytea not null, raw_length integer) ${SCRATCH}`;

/** Validate's output: one verdict per data line (no header). */
export const JUDGED_DDL = (table: string) => `
  drop table if exists ${table};
  create unlogged table ${table} (
    line     integer not null,
    site     integer,
    kind     smallint,          -- 0 rating, 1 request, null rejected
    value    smallint,
    event_ms bigint,            -- the instant in ms since the epoch: cheaper to COPY than timestamp text
    reasons  text[]
  ) ${SCRATCH}`;

export const RAW_COLUMNS = '(line, raw, raw_length)';
export const JUDGED_COLUMNS = '(line, site, kind, value, event_ms, reasons)';

/**
 * Transform's output: the valid lines as presses of known exhibitions, ready for the final tables. `first`
 * marks the first line of each natural key in the object (the others are DUPLICATE whatever other objects
 * hold), computed here because transform runs while the previous object loads. The instant leads the window's
 * key: the sort then decides most comparisons on one column (half the CPU of kind first), and the table comes
 * out in time order, as the load inserts it.
 */
export const PRESSES_SQL = (presses: string, judged: string, raw: string) => `
  drop table if exists ${presses};
  create unlogged table ${presses} ${SCRATCH} as
    select j.line, j.kind, e.exhibition_id, timestamptz 'epoch' + j.event_ms * interval '1 millisecond' as event_at,
      j.value,
      row_number() over (partition by j.event_ms, e.exhibition_id, j.kind, j.value order by j.line) = 1 as first,
      r.raw
    from ${judged} j join exhibition e on e.site = j.site join ${raw} r using (line)
    where j.kind is not null;
  analyze ${presses}`;

/** The column a load needs in the presses table (tables staged by an earlier release lack it). */
export const PRESSES_FIRST_COLUMN = 'first';

/**
 * The line's raw bytes in the presses table, joined here so the load does not join them under the batch
 * lock; a load given a table staged without them joins the raw table itself.
 */
export const PRESSES_RAW_COLUMN = 'raw';

/** One raw row in COPY text format (the line's bytes are `buf[start, end)`), as hex: nothing to escape. */
export function rawRow(line: number, buf: Buffer, start: number, end: number, fullLength?: number): string {
  return `${line}\t\\\\x${buf.toString('hex', start, end)}\t${fullLength ?? '\\N'}\n`;
}

/**
 * One judged row in COPY text format, newline included: the interaction's columns, or the reasons of a
 * reject. Written by hand rather than through the generic copyCell because it runs once per line of every
 * object; no cell needs escaping (numbers and plain upper-case reason codes).
 */
export function judgedRow(line: number, verdict: Verdict): string {
  if (verdict.valid) {
    const i = verdict.interaction;
    return `${line}\t${i.site}\t${i.kind === 'rating' ? 0 : 1}\t${i.value}\t${i.eventAt.getTime()}\t\\N\n`;
  }
  return `${line}\t\\N\t\\N\t\\N\t\\N\t{${verdict.reasons.join(',')}}\n`;
}
