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

export interface MigrationStatus {
  applied: { name: string; batch: number; appliedAt: string }[];
  pending: string[];
  /** Applied here but unknown to this code (a newer release migrated the database). */
  unknown: string[];
}

/** What knex's migrate:status reports, read-only: a database never migrated is not given knex's tables. */
export async function migrationStatus(knex: Knex): Promise<MigrationStatus> {
  const config = (knex.client as { config: Knex.Config }).config;
  const source = config.migrations?.migrationSource;
  if (source === undefined) throw new Error('knex has no migration source');
  const names = (await source.getMigrations([])).map((m) => source.getMigrationName(m));
  const table = await knex.raw<{ rows: { t: string | null }[] }>(
    `select to_regclass('knex_migrations')::text as t`,
  );
  const rows =
    table.rows[0]?.t == null
      ? []
      : await knex('knex_migrations')
          .orderBy('id')
          .select<{ name: string; batch: number; migration_time: Date }[]>('name', 'batch', 'migration_time');
  const done = new Set(rows.map((r) => r.name));
  const known = new Set(names);
  return {
    applied: rows.map((r) => ({ name: r.name, batch: r.batch, appliedAt: r.migration_time.toISOString() })),
    pending: names.filter((n) => !done.has(n)),
    unknown: rows.map((r) => r.name).filter((n) => !known.has(n)),
  };
}
