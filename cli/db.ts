import type { Command } from 'commander';
import { loadConfig, redactUrl } from '../infra/config';
import { createKnex } from '../infra/db';
import { dropEverything, migrateLatest, migrationStatus, rollbackAll, rollbackLast } from '../infra/migrate';
import { UsageError } from './exit';

async function withKnex(fn: (knex: ReturnType<typeof createKnex>) => Promise<void>): Promise<void> {
  const cfg = loadConfig();
  const knex = createKnex(cfg.databaseUrl, 2);
  try {
    await fn(knex);
  } catch (err) {
    throw new Error(`database ${redactUrl(cfg.databaseUrl)}: ${(err as Error).message}`);
  } finally {
    await knex.destroy();
  }
}

/** The database a URL names, as an operator recognises it: its name and host, never the credentials. */
export function describeDatabase(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const name = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(default)';
    return `database '${name}' on ${url.hostname || 'localhost'}:${url.port || '5432'}`;
  } catch {
    return 'the database of DATABASE_URL';
  }
}

/**
 * Destructive commands name their target and act only with --yes. They never prompt, so a one-off task or
 * a script without a terminal is refused rather than left waiting for an answer nobody can give.
 */
function confirmed(yes: boolean | undefined, what: string, command: string): void {
  const target = describeDatabase(loadConfig().databaseUrl);
  if (yes !== true)
    throw new UsageError(
      `${command} deletes all the data of ${target} (${what}); refused without --yes, nothing was changed`,
    );
  console.error(`${command} on ${target}`);
}

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('manage the database schema (knex migrations)');
  db.command('migrate')
    .description('apply every pending migration')
    .action(() =>
      withKnex(async (knex) => {
        const applied = await migrateLatest(knex);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      }),
    );
  db.command('status')
    .description('the applied migrations (with their batch and time) and the pending ones; changes nothing')
    .option('--json', 'print as one JSON object')
    .action((opts: { json?: boolean }) =>
      withKnex(async (knex) => {
        const s = await migrationStatus(knex);
        if (opts.json) {
          console.log(JSON.stringify({ database: describeDatabase(loadConfig().databaseUrl), ...s }));
          return;
        }
        console.log(describeDatabase(loadConfig().databaseUrl));
        for (const m of s.applied)
          console.log(
            `applied  ${m.name}  (batch ${m.batch}, ${m.appliedAt})${s.unknown.includes(m.name) ? '  not in this release' : ''}`,
          );
        for (const name of s.pending) console.log(`pending  ${name}`);
        console.log(
          s.pending.length === 0
            ? `up to date: ${s.applied.length} applied`
            : `${s.pending.length} pending of ${s.applied.length + s.pending.length}: run db migrate`,
        );
      }),
    );
  db.command('rollback')
    .description('undo the last batch of migrations (--all: every migration, which needs --yes)')
    .option('--all', 'roll back every migration: ALL DATA IS DELETED')
    .option('--yes', 'confirm --all (never asked interactively)')
    .action((opts: { all?: boolean; yes?: boolean }) => {
      if (opts.all) confirmed(opts.yes, 'it rolls back every migration', 'db rollback --all');
      return withKnex(async (knex) => {
        const undone = opts.all ? await rollbackAll(knex) : await rollbackLast(knex);
        console.log(undone.length ? `rolled back: ${undone.join(', ')}` : 'nothing to roll back');
      });
    });
  db.command('reset')
    .description('drop every table and apply every migration again: ALL DATA IS DELETED (needs --yes)')
    .option('--yes', 'confirm (never asked interactively)')
    .action((opts: { yes?: boolean }) => {
      confirmed(opts.yes, 'it drops every table and migrates again', 'db reset');
      return withKnex(async (knex) => {
        await dropEverything(knex);
        const applied = await migrateLatest(knex);
        console.log(`reset: applied ${applied.join(', ')}`);
      });
    });
}
