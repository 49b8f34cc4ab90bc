// `npm run dashboard`: the live dashboard on 127.0.0.1 (DASHBOARD_PORT, default 8787). Checks the database
// before listening, so a wrong DATABASE_URL fails at once with a clear message instead of a blank page.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../../infra/config';
import { createKnex } from '../../infra/db';
import { checkDatabase } from '../database';
import { DEFAULT_POLL_MS, startDashboard } from './app';
import { createLogEnds } from './log-ends';
import { loadDotEnv } from '../../infra/dotenv';

export const DEFAULT_PORT = 8787;

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535.');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 100) throw new InvalidArgumentError('expected milliseconds, at least 100.');
  return n;
}

export async function main(argv: string[], env = process.env): Promise<number> {
  const program = new Command('dashboard')
    .description(
      'live kiosk dashboard on 127.0.0.1: exhibitions (popularity, ratings), security (requests, emergencies) ' +
        'and operations (freshness, Kafka lag, reject rate, runs)',
    )
    .option(
      '--port <port>',
      `TCP port (env DASHBOARD_PORT, default ${DEFAULT_PORT}; 0 picks a free one)`,
      port,
    )
    .option(
      '--poll-ms <ms>',
      `how often to look for new rows while a browser watches`,
      positive,
      DEFAULT_POLL_MS,
    )
    .exitOverride();
  let opts: { port?: number; pollMs: number };
  try {
    program.parse(argv);
    opts = program.opts();
  } catch (err) {
    return err instanceof CommanderError ? err.exitCode : 2;
  }

  let cfg;
  try {
    cfg = loadConfig(env, 'dashboard');
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return err instanceof ConfigError ? 2 : 1;
  }
  const listenPort = opts.port ?? cfg.dashboardPort;

  try {
    await checkDatabase(cfg.databaseUrl);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
  const knex = createKnex(cfg.databaseUrl, 4);

  let dashboard;
  try {
    dashboard = await startDashboard({
      knex,
      port: listenPort,
      pollMs: opts.pollMs,
      operations: { topic: cfg.kafka.topic, logEnds: createLogEnds(cfg.kafka, cfg.kafka.topic) },
    });
  } catch (err) {
    console.error(`error: cannot listen on 127.0.0.1:${listenPort}: ${(err as Error).message}`);
    await knex.destroy();
    return 1;
  }
  console.log(`dashboard listening on ${dashboard.url}`);

  const running = dashboard;
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      console.log(`dashboard: ${signal}, shutting down`);
      void running
        .close()
        .then(() => knex.destroy())
        .then(
          () => resolve(0),
          () => resolve(1),
        );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

if (require.main === module) {
  loadDotEnv();
  main(process.argv).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`error: ${err.message}`);
      process.exit(1);
    },
  );
}
