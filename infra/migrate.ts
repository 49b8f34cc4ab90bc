import type { Knex } from 'knex';

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest()) as [number, string[]];
  return applied;
}

export async function rollbackLast(knex: Knex): Promise<string[]> {
  const [, undone] = (await knex.migrate.rollback()) as [number, string[]];
  return undone;
}

export async function rollbackAll(knex: Knex): Promise<string[]> {
  const [, undone] = (await knex.migrate.rollback(undefined, true)) as [number, string[]];
  return undone;
}

// Tables dropped per transaction: each holds several locks (indexes, TOAST), and the lock table is shared
// by every session (max_locks_per_transaction x max_connections entries).
const DROP_STEP = 100;

async function dropInSteps(knex: Knex, tables: string[]): Promise<void> {
  for (let i = 0; i < tables.length; i += DROP_STEP) {
    await knex.raw(`drop table if exists ${tables.slice(i, i + DROP_STEP).join(', ')} cascade`);
  }
}

/**
 * Every table the migrations made, and the migrations' own record, dropped a few at a time: rolling back
 * one migration after another would drop or make thousands of tables in one transaction on a database
 * grown for years (per-object tables of the older layout, month partitions), past the lock table's size.
 */
export async function dropEverything(knex: Knex): Promise<void> {
  const tables = async (where: string) =>
    (
      await knex.raw<{ rows: { t: string }[] }>(
        `select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as t
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'p') and ${where} order by 1`,
      )
    ).rows.map((r) => r.t);
  await dropInSteps(knex, await tables(`n.nspname in ('batch_staging', 'batch_objects')`));
  await knex.raw('drop schema if exists batch_staging, batch_objects cascade');
  await dropInSteps(knex, await tables(`n.nspname = 'public' and c.relispartition`));
  await dropInSteps(knex, await tables(`n.nspname = 'public'`));
}
