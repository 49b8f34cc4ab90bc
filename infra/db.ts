// PostgreSQL access: knex for migrations and ordinary queries, raw pg clients for COPY streams.
import knexFactory, { type Knex } from 'knex';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { explainTlsRefusal } from './dependency-errors';

// timestamptz and bigint come back as strings by default; the pipeline wants exact counts as numbers
// (they fit: row counts stay far below 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export const MIGRATIONS_DIR = path.resolve(__dirname, '..', 'migrations');

interface MigrationModule {
  up: (knex: Knex) => Promise<void>;
  down: (knex: Knex) => Promise<void>;
  /** 'contract' for a step that removes what older releases use (infra/migrate.ts); 'expand' when absent. */
  phase?: 'expand' | 'contract';
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

/** pg's client, except that a refused server certificate fails naming DATABASE_SSL_CA. */
class NamingClient extends pg.Client {
  override connect(): Promise<pg.Client>;
  override connect(callback: (err: Error) => void): void;
  override connect(callback?: (err: Error) => void): Promise<pg.Client> | void {
    const name = (err: Error) => explainTlsRefusal(err, 'PostgreSQL', 'DATABASE_SSL_CA') as Error;
    if (callback) return super.connect((err: Error) => callback(err && name(err)));
    return super.connect().catch((err: Error) => Promise.reject(name(err)));
  }
}

// knex's PostgreSQL dialect with the client above as its driver's Client.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PgDialect = require('knex/lib/dialects/postgres') as new (config: Knex.Config) => object;
class NamingPgDialect extends PgDialect {
  _driver() {
    return { ...pg, Client: NamingClient };
  }
}

export function createKnex(databaseUrl: string, poolMax = 10): Knex {
  return knexFactory({
    client: NamingPgDialect as unknown as typeof knexFactory.Client,
    connection: { connectionString: databaseUrl, application_name: 'kiosk-pipeline' },
    pool: { min: 0, max: poolMax },
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
}

/** A pg client (not yet connected) whose connect names DATABASE_SSL_CA when the server's certificate is refused. */
export function newPgClient(config: pg.ClientConfig): pg.Client {
  return new NamingClient(config);
}

export async function withPgClient<T>(
  databaseUrl: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new NamingClient({ connectionString: databaseUrl, application_name: 'kiosk-pipeline' });
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
