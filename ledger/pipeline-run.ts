// The run ledger: one pipeline_run row per run (a batch run and its continuations, a stream chain, a replay).
// Every path opens, adds to and closes its row through this module, so the counts mean the same everywhere.
import type { Knex } from 'knex';
import type { RunLedger, RunStatus } from '../contracts/batch';

export type RunKind = 'batch' | 'stream' | 'replay';

export interface RunIdentity {
  runId: string;
  kind: RunKind;
  workflowId: string;
  source: string;
}

/** Opens the run's row; opening it again (an activity retried, a continuation) changes nothing. */
export async function openRun(db: Knex | Knex.Transaction, run: RunIdentity): Promise<void> {
  await db.raw(
    `insert into pipeline_run (run_id, kind, workflow_id, source) values (?, ?, ?, ?)
     on conflict (run_id) do nothing`,
    [run.runId, run.kind, run.workflowId, run.source],
  );
}

/** SQL placeholders or expressions for the amounts a statement adds to a row. */
export interface LedgerAddends {
  read: string;
  loaded: string;
  rejected: string;
  /** A jsonb of reason code to count. */
  rejectedByReason: string;
}

/**
 * The SET list of an `update pipeline_run` that adds counts in the caller's own statement, so a load's rows
 * and its ledger change commit together. Reasons merge key by key: a reason seen first now starts at its count.
 */
export function addToRunSet(add: LedgerAddends): string {
  return `read_count = read_count + ${add.read},
    loaded_count = loaded_count + ${add.loaded},
    rejected_count = rejected_count + ${add.rejected},
    rejected_by_reason = (
      select coalesce(jsonb_object_agg(key, total), '{}'::jsonb)
      from (
        select key, sum(value::bigint) as total
        from (
          select key, value from jsonb_each_text(pipeline_run.rejected_by_reason)
          union all
          select key, value from jsonb_each_text(${add.rejectedByReason})
        ) parts
        group by key
      ) merged
    )`;
}

/** Sets the run's counts outright (a step that recounts from the tables, so a retry counts nothing twice). */
export async function setRunCounts(
  db: Knex | Knex.Transaction,
  runId: string,
  counts: { read: number; loaded: number },
): Promise<void> {
  await db('pipeline_run')
    .where({ run_id: runId })
    .update({ read_count: counts.read, loaded_count: counts.loaded });
}

/** What the run has counted so far. */
export async function runCounts(
  db: Knex | Knex.Transaction,
  runId: string,
): Promise<{ read: number; loaded: number }> {
  const row = await db('pipeline_run')
    .where({ run_id: runId })
    .first<{ read_count: number; loaded_count: number } | undefined>('read_count', 'loaded_count');
  if (!row) throw new Error(`run ${runId} has no ledger row`);
  return { read: Number(row.read_count), loaded: Number(row.loaded_count) };
}

/** Closes the run with its outcome and returns what it counted. */
export async function closeRun(
  db: Knex | Knex.Transaction,
  runId: string,
  status: RunStatus,
): Promise<RunLedger> {
  type LedgerRow = {
    read_count: number;
    loaded_count: number;
    rejected_count: number;
    rejected_by_reason: Record<string, number>;
  };
  const rows: LedgerRow[] = await db('pipeline_run')
    .where({ run_id: runId })
    .update({ status, finished_at: db.fn.now() })
    .returning<LedgerRow[]>(['read_count', 'loaded_count', 'rejected_count', 'rejected_by_reason']);
  const r = rows[0];
  if (!r) throw new Error(`run ${runId} has no ledger row`);
  return {
    read: r.read_count,
    loaded: r.loaded_count,
    rejected: r.rejected_count,
    rejectedByReason: r.rejected_by_reason,
  };
}

/**
 * Closes a stream chain whose topic incarnation is gone, with the operator's note. Idempotent: a retried call
 * finds the row closed already and leaves it as it is.
 */
export async function supersedeRun(db: Knex | Knex.Transaction, runId: string, note: string): Promise<void> {
  await db('pipeline_run')
    .where({ run_id: runId, status: 'running' })
    .update({ status: 'superseded', finished_at: db.fn.now(), note });
}
