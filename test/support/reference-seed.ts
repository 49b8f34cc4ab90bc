// The reference rows suites write by hand before their own: floors, departments, exhibitions and ledger runs,
// as one SQL text for knex.raw or a pg client. Only the first migration's columns, so it works at any level.
import { escapeLiteral as literal } from 'pg';

export interface ReferenceRun {
  runId: string;
  kind: 'batch' | 'stream';
  source: string;
  /** 'w' when absent. */
  workflowId?: string;
}

export interface ReferenceSeed {
  /** Exhibitions at sites 0, 1, ... (EXH_00, EXH_01, ...): their names, or how many ('Exhibition <site>'). */
  exhibitions: number | readonly string[];
  /** Exhibition s is on floor and in department 1 + s % n (ids in this order, on a fresh database). */
  floors?: readonly string[];
  departments?: readonly string[];
  runs: readonly ReferenceRun[];
}

/** The inserts of the seed, on a database with none of these rows yet (the ids are counted from 1). */
export function referenceSeed({
  exhibitions,
  floors = ['1'],
  departments = ['Geology'],
  runs,
}: ReferenceSeed): string {
  const names =
    typeof exhibitions === 'number'
      ? Array.from({ length: exhibitions }, (_, s) => `Exhibition ${s}`)
      : exhibitions;
  const list = (rows: string[][]) => rows.map((r) => `(${r.join(', ')})`).join(', ');
  const exhibitionRows = names.map((name, s) => [
    String(s),
    literal(`EXH_${String(s).padStart(2, '0')}`),
    literal(name),
    String(1 + (s % floors.length)),
    String(1 + (s % departments.length)),
    `'2021-08-23'`,
  ]);
  const runRows = runs.map((r) => [r.runId, r.kind, r.workflowId ?? 'w', r.source].map(literal));
  return `
    insert into floor (name) values ${list(floors.map((f) => [literal(f)]))};
    insert into department (name) values ${list(departments.map((d) => [literal(d)]))};
    insert into exhibition (site, public_id, name, floor_id, department_id, start_date)
      values ${list(exhibitionRows)};
    insert into pipeline_run (run_id, kind, workflow_id, source) values ${list(runRows)};`;
}
