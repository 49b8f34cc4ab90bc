// The stream's SQL: which offsets are already stored, and one statement that writes a batch's interactions,
// rejects and ledger increments together. Counts move in the same transaction as rows, so the run's
// read = loaded + rejected check holds at every commit.
import type { Knex } from 'knex';
import { addToRunSet, openRun } from '../ledger/pipeline-run';

export interface StreamRun {
  ledgerRunId: string;
  workflowId: string;
  topic: string;
  partition: number;
  source: string;
}

/** Where an already-stored offset went. */
export type StoredKind = 'loaded' | 'rejected';

export type StoredRow =
  | { kind: 'rating' | 'request'; offset: number; exhibitionId: number; value: number; eventAt: Date }
  | {
      kind: 'reject';
      offset: number;
      rawBase64: string;
      reasons: readonly string[];
      /** Full length in bytes when rawBase64 holds only the value's first bytes (OVERSIZE). */
      rawLength?: number;
    };

export interface LedgerDelta {
  loaded: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
}

const UNIQUE_VIOLATION = '23505';

/**
 * Whether PostgreSQL refused the statement because of the values in it: SQLSTATE class 22 (data exception: a
 * value out of range, an invalid date) or 23 (integrity constraint: a check, a foreign key, a not-null).
 * A unique violation is the exception: on the source key it means a concurrent attempt of the same batch
 * stored it first, and the retry finds those offsets stored.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23]/.test(code) && code !== UNIQUE_VIOLATION;
}

export async function ensureStreamRun(trx: Knex.Transaction, run: StreamRun): Promise<void> {
  await openRun(trx, {
    runId: run.ledgerRunId,
    kind: 'stream',
    workflowId: run.workflowId,
    source: run.source,
  });
}

/**
 * Offsets in [from, to] that any of the three tables already holds: a retried activity or a redelivery that
 * got past the workflow (a new chain after a terminate) must neither insert nor count them again. The range
 * scan uses each table's (topic, partition, offset) unique index.
 */
export async function storedOffsets(
  trx: Knex.Transaction,
  topic: string,
  partition: number,
  from: number,
  to: number,
): Promise<Map<number, StoredKind>> {
  const where = 'source_topic = ? and source_partition = ? and source_offset between ? and ?';
  const result = await trx.raw<{ rows: { o: number; k: StoredKind }[] }>(
    `select source_offset as o, 'loaded' as k from rating_interaction where ${where}
     union all select source_offset, 'loaded' from request_interaction where ${where}
     union all select source_offset, 'rejected' from rejected_interaction where ${where}`,
    [topic, partition, from, to, topic, partition, from, to, topic, partition, from, to],
  );
  return new Map(result.rows.map((r) => [Number(r.o), r.k]));
}

/** The highest offset of the partition stored in any of the three tables, or -1 when none is. */
export async function lastStoredOffset(knex: Knex, topic: string, partition: number): Promise<number> {
  const where = 'source_topic = ? and source_partition = ?';
  const result = await knex.raw<{ rows: { o: string | null }[] }>(
    `select greatest(
       (select max(source_offset) from rating_interaction where ${where}),
       (select max(source_offset) from request_interaction where ${where}),
       (select max(source_offset) from rejected_interaction where ${where})) as o`,
    [topic, partition, topic, partition, topic, partition],
  );
  const last = result.rows[0]?.o;
  return last === null || last === undefined ? -1 : Number(last);
}

/**
 * One round trip for the whole batch: the rows travel as one JSON document, unpacked by json_to_recordset
 * (knex would expand array bindings into one placeholder per element). Raw values stay base64 until
 * PostgreSQL decodes them into bytea, so no byte is reinterpreted on the way.
 */
export async function insertStreamRows(
  trx: Knex.Transaction,
  run: StreamRun,
  rows: readonly StoredRow[],
  delta: LedgerDelta,
): Promise<void> {
  if (rows.length === 0) return;
  const records = rows.map((r) =>
    r.kind === 'reject'
      ? { k: 'x', o: r.offset, raw: r.rawBase64, rs: r.reasons.join(','), rl: r.rawLength ?? null }
      : { k: r.kind === 'rating' ? 'r' : 'q', o: r.offset, e: r.exhibitionId, v: r.value, at: r.eventAt },
  );
  const source = `?::text, ?::integer, t.o, ?::text`;
  const sourceBindings = [run.topic, run.partition, run.ledgerRunId];
  await trx.raw(
    `with t as (
       select * from json_to_recordset(?::json)
         as t(k text, o bigint, e smallint, v smallint, at timestamptz, raw text, rs text, rl bigint)
     ),
     ratings as (
       insert into rating_interaction
         (exhibition_id, rating_value, event_at, source_topic, source_partition, source_offset, run_id)
       select t.e, t.v, t.at, ${source} from t where t.k = 'r'
     ),
     requests as (
       insert into request_interaction
         (exhibition_id, request_value, event_at, source_topic, source_partition, source_offset, run_id)
       select t.e, t.v, t.at, ${source} from t where t.k = 'q'
     ),
     rejects as (
       insert into rejected_interaction
         (raw, reasons, source_topic, source_partition, source_offset, run_id, raw_length)
       select decode(t.raw, 'base64'), string_to_array(t.rs, ','), ${source}, t.rl from t where t.k = 'x'
     )
     update pipeline_run set ${addToRunSet({ read: '?', loaded: '?', rejected: '?', rejectedByReason: '?::jsonb' })}
     where run_id = ?`,
    [
      JSON.stringify(records),
      ...sourceBindings,
      ...sourceBindings,
      ...sourceBindings,
      delta.loaded + delta.rejected,
      delta.loaded,
      delta.rejected,
      JSON.stringify(delta.rejectedByReason),
      run.ledgerRunId,
    ],
  );
}
