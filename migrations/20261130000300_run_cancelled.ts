// The run ledger records a cancelled run as 'cancelled', apart from a failed one.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table pipeline_run drop constraint pipeline_run_status_check;
    alter table pipeline_run add constraint pipeline_run_status_check
      check (status in ('running', 'completed', 'failed', 'cancelled'));
  `);
}

export async function down(knex: Knex): Promise<void> {
  // The old schema's nearest ending: a cancelled run did not complete. Rows are kept, only the word changes.
  await knex.raw(`
    update pipeline_run set status = 'failed' where status = 'cancelled';
    alter table pipeline_run drop constraint pipeline_run_status_check;
    alter table pipeline_run add constraint pipeline_run_status_check
      check (status in ('running', 'completed', 'failed'));
  `);
}
