// The schema that holds per-object staging tables between the batch's extract and load steps. Created once
// here because concurrent extracts racing on `create schema if not exists` collide in the catalogue.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('create schema if not exists batch_staging');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop schema if exists batch_staging cascade');
}
