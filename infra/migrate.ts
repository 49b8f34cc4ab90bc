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
