// The contract step of keeping an accepted batch line's raw bytes in its row (20261207000500): once no worker
// of a release that needs every valid line in batch_line is left, the load stops writing it, and batch_line
// becomes batch_line_archive (a rename: instant), which keeps the raw bytes of the rows loaded before, so they
// stay demotable. A DUPLICATE line's raw bytes are in its reject. The way down renames it back and writes the
// lines the new mode did not: accepted rows' raw bytes from the rows, DUPLICATE lines' from their rejects.
import type { Knex } from 'knex';

export const phase = 'contract';

// Frozen here, like every migration: batch/partitions.ts and batch/interaction-kinds.ts hold the same.
const BATCH_WRITE_LOCK = `select pg_advisory_xact_lock(hashtextextended('kiosk-pipeline batch load', 0))`;
const PARENTS = ['rating_interaction', 'request_interaction'];
const NAME = 'migration 20261207000600_batch_line_archive';

export async function up(knex: Knex): Promise<void> {
  // A load that started before waits for nothing more: it holds the lock until it commits.
  await knex.raw(BATCH_WRITE_LOCK);
  await knex.raw('alter table batch_line rename to batch_line_archive');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(BATCH_WRITE_LOCK);
  await knex.raw('alter table batch_line_archive rename to batch_line');
  // Lines loaded before the contract step are there already, with the same bytes.
  await knex.raw(`insert into batch_line (source_object, source_line, raw)
    select source_object, source_line, raw from (
      ${PARENTS.map(
        (p) => `select source_object, source_line, raw from ${p} where source_object is not null`,
      ).join(' union all ')}
      union all select d.source_object, d.source_line, r.raw from batch_duplicate d
        join rejected_interaction r using (source_object, source_line)) k
    on conflict (source_object, source_line) do nothing`);
  // batch_line mode demotes through an inner join: every registered line must be there.
  const missing = await knex.raw<{ rows: { n: string }[] }>(`
    select (select count(*) from batch_duplicate d where not exists (select 1 from batch_line l
      where l.source_object = d.source_object and l.source_line = d.source_line)) as n`);
  const n = Number(missing.rows[0]!.n);
  if (n > 0) {
    throw new Error(
      `${NAME}: ${n} DUPLICATE lines have no reject to take their raw bytes from; nothing was changed`,
    );
  }
}
