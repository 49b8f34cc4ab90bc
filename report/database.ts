// Database failures as one sentence an operator can act on: which database (password masked) and what to do,
// instead of a driver stack trace. The probe runs before knex is used, because knex's pool logs every failed
// connection attempt with a stack of its own.
import { redactUrl } from '../infra/config';
import { newPgClient } from '../infra/db';

const PROBE_TIMEOUT_MS = 5000;

export class ReportDatabaseError extends Error {
  override name = 'ReportDatabaseError';
}

export function describeDatabaseError(databaseUrl: string, err: unknown): ReportDatabaseError {
  if (err instanceof ReportDatabaseError) return err;
  const e = err as { code?: string; message?: string };
  const where = `database ${redactUrl(databaseUrl)}`;
  const message = e.message ?? String(err);
  if (
    e.code === 'ECONNREFUSED' ||
    e.code === 'ENOTFOUND' ||
    e.code === 'ETIMEDOUT' ||
    /connect|timeout/i.test(message)
  ) {
    return new ReportDatabaseError(
      `${where} is not reachable (${message}); is it running? (npm run stack:status)`,
    );
  }
  if (e.code === '42P01') {
    return new ReportDatabaseError(`${where} has no schema (${message}); run: \`kiosk db migrate\``);
  }
  if (e.code === '3D000') {
    return new ReportDatabaseError(`${where} does not exist (${message})`);
  }
  return new ReportDatabaseError(`${where}: ${message}`);
}

/** Connects once and checks the interaction tables exist; throws a ReportDatabaseError otherwise. */
export async function checkDatabase(databaseUrl: string): Promise<void> {
  const client = newPgClient({
    connectionString: databaseUrl,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    application_name: 'kiosk-pipeline-report',
  });
  // An unreachable server can also surface as an 'error' event; without a listener it would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1 from rating_interaction, request_interaction limit 0');
  } catch (err) {
    throw describeDatabaseError(databaseUrl, err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
