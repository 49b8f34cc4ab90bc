// Reading the run ledger (`pipeline_run`) for the operator: the runs of a kind, newest first, and the run
// of one workflow. Writers are in pipeline-run.ts.
import type { Knex } from 'knex';
import type { RunKind } from './pipeline-run';

export interface RunRecord {
  runId: string;
  kind: RunKind;
  workflowId: string;
  source: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled' | 'superseded';
  startedAt: string;
  finishedAt: string | null;
  read: number;
  loaded: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
}

interface Row {
  run_id: string;
  kind: RunKind;
  workflow_id: string;
  source: string;
  status: RunRecord['status'];
  started_at: Date;
  finished_at: Date | null;
  read_count: number;
  loaded_count: number;
  rejected_count: number;
  rejected_by_reason: Record<string, number>;
}

const toRecord = (r: Row): RunRecord => ({
  runId: r.run_id,
  kind: r.kind,
  workflowId: r.workflow_id,
  source: r.source,
  status: r.status,
  startedAt: r.started_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
  read: Number(r.read_count),
  loaded: Number(r.loaded_count),
  rejected: Number(r.rejected_count),
  rejectedByReason: r.rejected_by_reason,
});

/** The newest runs of a kind, optionally of one status. */
export async function listRuns(
  db: Knex,
  q: { kind: RunKind; status?: RunRecord['status']; limit: number },
): Promise<RunRecord[]> {
  const rows = await db('pipeline_run')
    .where({ kind: q.kind, ...(q.status ? { status: q.status } : {}) })
    .orderBy([
      { column: 'started_at', order: 'desc' },
      { column: 'run_id', order: 'desc' },
    ])
    .limit(q.limit)
    .select<Row[]>('*');
  return rows.map(toRecord);
}

/** The ledger row of a workflow id (the newest, should an id have been used again). */
export async function runOfWorkflow(db: Knex, workflowId: string): Promise<RunRecord | undefined> {
  const row = await db('pipeline_run')
    .where({ workflow_id: workflowId })
    .orderBy('started_at', 'desc')
    .first<Row | undefined>('*');
  return row === undefined ? undefined : toRecord(row);
}
