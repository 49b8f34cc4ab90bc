// The months of the partitioned interaction tables. A load creates the months its rows need before its own
// transaction, each in a short transaction of its own: CREATE TABLE ... PARTITION OF would lock the whole
// table (ACCESS EXCLUSIVE, measured with pg_locks on PostgreSQL 15), so the month is made as a plain table
// and attached, which takes SHARE UPDATE EXCLUSIVE on the table (readers and writers carry on), ACCESS
// EXCLUSIVE on the DEFAULT partition only, and SHARE ROW EXCLUSIVE on the referenced tables for the cloned
// foreign keys (exhibition, pipeline_run: their writers wait for this short step). lock_timeout bounds the
// wait for those table locks, so nobody queues behind it for long; a timeout fails the step, which is
// retried. The wait for the batch write lock before them is not bounded: a load holds it for its whole
// object, and a run waits for that, as its own loads do.
import type pg from 'pg';
import { INTERACTION_KINDS, KIND_SHAPE } from './interaction-kinds';

/** The partition holding `month` (YYYY-MM-01) of `parent`. */
export const monthPartition = (parent: string, month: string) =>
  `${parent}_p${month.slice(0, 7).replace('-', '_')}`;

/** The reference table of a kind's values, named like the kind (rating, request). */
const referenced = (parent: string) => parent.replace(/_interaction$/, '');

const LOCK_TIMEOUT = `set local lock_timeout = '2s'`;

/**
 * Batch loads and month creation take turns on this transaction-level advisory lock: a month is made while
 * no batch load holds rows of the DEFAULT partition or of pipeline_run, so it waits only for the stream's
 * short transactions (and another run's load waits for one object's at most).
 */
export const BATCH_WRITE_LOCK_KEY = `hashtextextended('kiosk-pipeline batch load', 0)`;
export const BATCH_WRITE_LOCK = `select pg_advisory_xact_lock(${BATCH_WRITE_LOCK_KEY})`;

async function createMonth(client: pg.ClientBase, parent: string, month: string): Promise<void> {
  const table = monthPartition(parent, month);
  const from = `timestamptz '${month} 00:00:00+00'`;
  const to = `(date '${month}' + interval '1 month')::timestamp at time zone 'UTC'`;
  await client.query('begin');
  try {
    // Two loads needing the same month: the second finds it made once it gets the lock. The wait is as long
    // as another run's load of one object (minutes for a large one), so lock_timeout is set only after it.
    await client.query(BATCH_WRITE_LOCK);
    await client.query(LOCK_TIMEOUT);
    const exists = await client.query<{ t: string | null }>('select to_regclass($1)::text as t', [table]);
    if (exists.rows[0]?.t === null) {
      // The attach locks the referenced tables for the cloned foreign keys. Taken first, before the DEFAULT
      // partition: a stream transaction writes its ledger row, then rows that may land in DEFAULT, and
      // taking these in the other order deadlocked with it (test/integration/batch/batch-load.test.ts).
      await client.query(
        `lock table exhibition, pipeline_run, ${referenced(parent)} in share row exclusive mode`,
      );
      await client.query(`
        create table ${table} (like ${parent} including defaults including constraints);
        alter table ${table} add constraint ${table.split('.').pop()}_bounds
          check (event_at >= ${from} and event_at < ${to});
        with moved as (delete from ${parent}_pdefault where event_at >= ${from} and event_at < ${to} returning *)
        insert into ${table} select * from moved;
        alter table ${parent} attach partition ${table} for values from (${from}) to (${to});`);
    }
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

/** Makes sure both interaction tables have a partition for each month (YYYY-MM-01) in `months`. */
export async function ensureMonths(client: pg.ClientBase, months: readonly string[]): Promise<void> {
  const wanted = INTERACTION_KINDS.flatMap((kind) =>
    months.map((month) => ({ parent: KIND_SHAPE[kind].parent, month })),
  );
  const missing = await client.query<{ i: number }>(
    `select i from unnest($1::text[]) with ordinality as t(name, i) where to_regclass(name) is null`,
    [wanted.map((w) => monthPartition(w.parent, w.month))],
  );
  for (const { i } of missing.rows) {
    const w = wanted[Number(i) - 1]!;
    await createMonth(client, w.parent, w.month);
  }
}

/** The current month and the next, so stream rows of today land in a month's partition, not the default. */
export function monthsAround(now: Date): string[] {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  return [0, 1].map((d) => new Date(Date.UTC(y, m + d, 1)).toISOString().slice(0, 10));
}
