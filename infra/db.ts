// PostgreSQL access: knex for migrations and ordinary queries, raw pg clients for COPY streams.
import knexFactory, { type Knex } from 'knex';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

// timestamptz and bigint come back as strings by default; the pipeline wants exact counts as numbers
// (they fit: row counts stay far below 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export const MIGRATIONS_DIR = path.resolve(__dirname, '..', 'migrations');

interface MigrationModule {
  up: (knex: Knex) => Promise<void>;
  down: (knex: Knex) => Promise<void>;
}

// Migrations are recorded without their extension, so a database migrated from TypeScript sources (tsx) and
// from the compiled image (.js) agrees on what has run.
const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => {
    const ext = path.extname(__filename);
    return Promise.resolve(
      fs
        .readdirSync(MIGRATIONS_DIR)
        .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts'))
        .map((f) => f.slice(0, -ext.length))
        .sort(),
    );
  },
  getMigrationName: (name) => name,
  // require, not import(): migrations are CommonJS modules like the rest of the project, .ts or .js alike.
  getMigration: (name) =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Promise.resolve(require(path.join(MIGRATIONS_DIR, name + path.extname(__filename))) as MigrationModule),
};

export function createKnex(databaseUrl: string, poolMax = 10): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: databaseUrl, application_name: 'kiosk-pipeline' },
    pool: { min: 0, max: poolMax },
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
}

export async function withPgClient<T>(
  databaseUrl: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'kiosk-pipeline' });
  // A server that dies also emits 'error' on the client: unheard, it would end the whole worker process.
  // The statement in flight rejects with the same error, so the activity fails and is retried.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The tables of `names` (schema-qualified) that do not exist. */
export async function missingTables(client: pg.ClientBase, names: string[]): Promise<string[]> {
  const r = await client.query<{ name: string }>(
    'select name from unnest($1::text[]) as name where to_regclass(name) is null',
    [names],
  );
  return r.rows.map((x) => x.name);
}
