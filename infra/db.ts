// PostgreSQL access: knex for migrations and ordinary queries, raw pg clients for COPY streams.
import knexFactory, { type Knex } from 'knex';
import path from 'node:path';
import pg from 'pg';

// timestamptz and bigint come back as strings by default; the pipeline wants exact counts as numbers
// (they fit: row counts stay far below 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export const MIGRATIONS_DIR = path.resolve(__dirname, '..', 'migrations');

export function createKnex(databaseUrl: string, poolMax = 10): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: databaseUrl, application_name: 'kiosk-pipeline' },
    pool: { min: 0, max: poolMax },
    migrations: {
      directory: MIGRATIONS_DIR,
      extension: 'ts',
      loadExtensions: ['.ts'],
      tableName: 'knex_migrations',
    },
  });
}

export async function withPgClient<T>(
  databaseUrl: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'kiosk-pipeline' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
