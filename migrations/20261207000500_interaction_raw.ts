// The expand step of keeping an accepted batch line's raw bytes in its own interaction row: a nullable raw
// column on both partitioned tables (their partitions take it too). The load writes it beside batch_line, which
// stays whole, so either release can demote a row loaded now; the contract step (20261207000600) stops
// writing batch_line. Adding a nullable column without a default rewrites nothing, but takes ACCESS EXCLUSIVE
// on every partition: taken after the batch lock (a batch load holds its row locks for a whole object) and
// with a short lock_timeout, retried, so the stream's writes never queue behind it for long.
import type { Knex } from 'knex';

// Frozen here, like every migration: batch/partitions.ts holds the same.
const BATCH_WRITE_LOCK = `select pg_advisory_xact_lock(hashtextextended('kiosk-pipeline batch load', 0))`;
const TABLES = ['rating_interaction', 'request_interaction'];
const NAME = 'migration 20261207000500_interaction_raw';
// Below deadlock_timeout (1 s by default): a stream transaction locking the tables in the other order meets
// this timeout, not a deadlock that might cancel the stream's side.
const LOCK_TIMEOUT = '500ms';
const ATTEMPTS = 60;

/** Runs `ddl` once both tables are locked, trying again while another transaction holds them. */
async function withTablesLocked(knex: Knex, ddl: string): Promise<void> {
  await knex.raw(BATCH_WRITE_LOCK);
  await knex.raw(`set local lock_timeout = '${LOCK_TIMEOUT}'`);
  for (let attempt = 1; ; attempt++) {
    await knex.raw('savepoint lock_tables');
    try {
      await knex.raw(`lock table ${TABLES.join(', ')} in access exclusive mode`);
      break;
    } catch (err) {
      await knex.raw('rollback to savepoint lock_tables');
      if ((err as { code?: string }).code !== '55P03') throw err;
      if (attempt === ATTEMPTS) {
        throw new Error(
          `${NAME}: ${TABLES.join(' and ')} stayed locked by other transactions through ${ATTEMPTS} tries ` +
            `of ${LOCK_TIMEOUT}; nothing was changed, run it again`,
        );
      }
      await knex.raw('select pg_sleep(0.5)');
    }
  }
  await knex.raw(ddl);
  await knex.raw('set local lock_timeout to default');
}

export async function up(knex: Knex): Promise<void> {
  await withTablesLocked(
    knex,
    TABLES.map((t) => `alter table ${t} add column raw bytea; -- the batch line as read`).join('\n'),
  );
}

export async function down(knex: Knex): Promise<void> {
  // Nothing is lost: batch_line keeps every valid line's raw bytes until the contract step.
  await withTablesLocked(knex, TABLES.map((t) => `alter table ${t} drop column raw;`).join('\n'));
}
