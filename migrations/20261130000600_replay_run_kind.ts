// The run ledger gains a third kind of run, 'replay': `rejects replay` re-judges stored rejects and moves the
// ones now valid into the interaction tables; those rows name the replay run that loaded them. An index on
// rejected_at lets `rejects list|export|replay --from/--to` find the ids of a window without a full scan.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table pipeline_run drop constraint pipeline_run_kind_check;
    alter table pipeline_run add constraint pipeline_run_kind_check
      check (kind in ('batch', 'stream', 'replay'));
    create index rejected_interaction_rejected_at on rejected_interaction (rejected_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  const r = await knex.raw<{ rows: { n: number }[] }>(
    `select count(*)::int as n from pipeline_run where kind = 'replay'`,
  );
  const n = r.rows[0]?.n ?? 0;
  if (n > 0) {
    // Refused rather than rewriting history: interactions reference these runs, and the older schema has no
    // kind to give them.
    throw new Error(
      `cannot roll back: ${n} replay runs are in the ledger and the older schema has no such kind`,
    );
  }
  await knex.raw(`
    drop index rejected_interaction_rejected_at;
    alter table pipeline_run drop constraint pipeline_run_kind_check;
    alter table pipeline_run add constraint pipeline_run_kind_check check (kind in ('batch', 'stream'));
  `);
}
