// The per-object staging table: the reference that passes an object's judged rows from the extract step to
// the load step without sending bulk data through workflow history. UNLOGGED: it is rebuilt from the source
// on any retry, so it needs no WAL.
import { createHash } from 'node:crypto';
import type { Verdict } from '../domain/interaction';

export const STAGING_SCHEMA = 'batch_staging';

const digest = (text: string, length: number) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

/** Every staging table of one run starts with this, so a failed run's leftovers can be found and dropped. */
export function stagingPrefix(runId: string): string {
  return `r${digest(runId, 12)}_`;
}

/** A stable, safe table name for one object in one run (retries of the same step reuse it). */
export function stagingTableName(runId: string, uri: string): string {
  return `${STAGING_SCHEMA}.${stagingPrefix(runId)}${digest(uri, 20)}`;
}

export const STAGING_DDL = (table: string) => `
  drop table if exists ${table};
  create unlogged table ${table} (
    line     integer not null,
    site     integer,
    kind     smallint,          -- 0 rating, 1 request, null rejected
    value    smallint,
    event_ms bigint,            -- the instant in ms since the epoch: cheaper to COPY than timestamp text
    raw      bytea not null,
    reasons  text[],
    raw_length bigint           -- the line's full length when raw holds only its first bytes
  ) with (autovacuum_enabled = false) -- read once by the prepare, then dropped: vacuuming it is waste
`;

export const STAGING_COLUMNS = '(line, site, kind, value, event_ms, raw, reasons, raw_length)';

/**
 * One staging row in COPY text format, newline included, for a judged line (its bytes are `buf[start, end)`):
 * the interaction's columns, or the reasons of a reject. Written out by hand rather than through the generic
 * copyCell because it runs once per line of every object. No cell needs escaping: numbers,
 * bytea as hex, and reason codes that are plain upper-case words.
 */
export function stagingRow(
  line: number,
  buf: Buffer,
  start: number,
  end: number,
  verdict: Verdict,
  fullLength?: number,
): string {
  const bytes = `\\\\x${buf.toString('hex', start, end)}`;
  if (verdict.valid) {
    const i = verdict.interaction;
    return `${line}\t${i.site}\t${i.kind === 'rating' ? 0 : 1}\t${i.value}\t${i.eventAt.getTime()}\t${bytes}\t\\N\t\\N\n`;
  }
  return `${line}\t\\N\t\\N\t\\N\t\\N\t${bytes}\t{${verdict.reasons.join(',')}}\t${fullLength ?? '\\N'}\n`;
}
