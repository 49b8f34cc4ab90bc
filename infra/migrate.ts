import type { Knex } from 'knex';

/**
 * A schema change in two phases: `expand` migrations (the default) only add, so the previous release keeps
 * working on the new schema; a `contract` migration removes what only older releases use, and runs once no
 * worker of an older version is left (a migration module says so with `export const phase = 'contract'`).
 */
export type MigrationPhase = 'expand' | 'contract';

interface PhasedModule {
  phase?: MigrationPhase;
}

function sourceOf(knex: Knex): Knex.MigrationSource<unknown> {
  const source = (knex.client as { config: Knex.Config }).config.migrations?.migrationSource;
  if (source === undefined) throw new Error('knex has no migration source');
  return source;
}

/** The pending migrations in the order they run, each with its phase. */
export async function pendingPhases(knex: Knex): Promise<{ name: string; phase: MigrationPhase }[]> {
  const source = sourceOf(knex);
  const { pending } = await migrationStatus(knex);
  const all = await source.getMigrations([]);
  const byName = new Map(all.map((m) => [source.getMigrationName(m), m]));
  const phases = [];
  for (const name of pending) {
    const module = (await source.getMigration(byName.get(name))) as PhasedModule;
    phases.push({ name, phase: module.phase ?? 'expand' });
  }
  return phases;
}

/** Every pending migration, contract steps included: for a new database, or once the gate has passed. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest()) as [number, string[]];
  return applied;
}

/**
 * The pending migrations before the first contract step, as one batch; the contract step and everything
 * after it stay pending (`held`), since later migrations may build on it. A database never migrated gets
 * everything: no older release has run on it.
 */
export async function migrateExpand(knex: Knex): Promise<{ applied: string[]; held: string[] }> {
  const phases = await pendingPhases(knex);
  const stop = phases.findIndex((m) => m.phase === 'contract');
  const fresh = (await migrationStatus(knex)).applied.length === 0;
  if (stop === -1 || fresh) return { applied: await migrateLatest(knex), held: [] };
  const held = phases.slice(stop).map((m) => m.name);
  if (stop === 0) return { applied: [], held };
  const source = sourceOf(knex);
  const heldNames = new Set(held);
  const expandOnly: Knex.MigrationSource<unknown> = {
    getMigrations: async (loadExtensions) =>
      (await source.getMigrations(loadExtensions)).filter((m) => !heldNames.has(source.getMigrationName(m))),
    getMigrationName: (m) => source.getMigrationName(m),
    getMigration: (m) => source.getMigration(m),
  };
  const [, applied] = (await knex.migrate.latest({ migrationSource: expandOnly })) as [number, string[]];
  return { applied, held };
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
  const source = sourceOf(knex);
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
