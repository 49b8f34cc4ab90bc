import type { Command } from 'commander';
import { loadConfig, redactUrl } from '../infra/config';
import { createKnex } from '../infra/db';
import { dropEverything, migrateLatest, rollbackAll, rollbackLast } from '../infra/migrate';

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
  db.command('rollback')
    .description('undo the last batch of migrations (--all: every migration)')
    .option('--all', 'roll back every migration')
    .action((opts: { all?: boolean }) =>
      withKnex(async (knex) => {
        const undone = opts.all ? await rollbackAll(knex) : await rollbackLast(knex);
        console.log(undone.length ? `rolled back: ${undone.join(', ')}` : 'nothing to roll back');
      }),
    );
  db.command('reset')
    .description('drop every table and apply every migration again: ALL DATA IS DELETED')
    .action(() =>
      withKnex(async (knex) => {
        await dropEverything(knex);
        const applied = await migrateLatest(knex);
        console.log(`reset: applied ${applied.join(', ')}`);
      }),
    );
}
