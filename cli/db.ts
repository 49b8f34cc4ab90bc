import type { Command } from 'commander';
import { loadConfig, redactUrl } from '../infra/config';
import { createKnex } from '../infra/db';
import {
  dropEverything,
  migrateExpand,
  migrateLatest,
  migrationStatus,
  pendingPhases,
  rollbackAll,
  rollbackLast,
} from '../infra/migrate';
import { olderWorkersLeft, withTarget } from './deploy';
import { NotYetError, UsageError } from './exit';

async function withKnex<T>(fn: (knex: ReturnType<typeof createKnex>) => Promise<T>): Promise<T> {
  const cfg = loadConfig();
  const knex = createKnex(cfg.databaseUrl, 2);
  try {
    return await fn(knex);
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
    .description(
      'apply the pending expand migrations (the previous release keeps working on them); contract steps, which ' +
        'remove what older releases use, stay pending until --contract',
    )
    .option(
      '--contract',
      'then apply the contract steps too: refused (exit 3, nothing contracted) while a run is pinned to an older ' +
        "version or any worker but the current version's still polls; checked even when none is pending, so a " +
        "deploy's last step can always run it",
    )
    .action(async (opts: { contract?: boolean }) => {
      const held = await withKnex(async (knex) => {
        const expand = await migrateExpand(knex);
        console.log(
          expand.applied.length ? `applied: ${expand.applied.join(', ')}` : 'expand: already up to date',
        );
        return expand.held;
      });
      if (!opts.contract) {
        if (held.length > 0)
          console.log(
            `held (contract steps and what follows): ${held.join(', ')}; run 'kiosk db migrate --contract' ` +
              "once 'kiosk deploy drained <previous build id>' exits 0 and the previous version's workers are stopped",
          );
        return;
      }
      const cfg = loadConfig();
      const blockers = await withTarget(undefined, (t) => olderWorkersLeft(t, cfg.temporal.taskQueue));
      if (blockers.length > 0)
        throw new NotYetError(
          `contract steps refused, nothing contracted (${held.length ? `pending: ${held.join(', ')}` : 'none pending'}): ` +
            blockers.join('; '),
        );
      const contracted = await withKnex(migrateLatest);
      console.log(
        contracted.length
          ? `applied (contract): ${contracted.join(', ')}`
          : 'contract: none pending; no older worker is left',
      );
    });
  db.command('status')
    .description('the applied migrations (with their batch and time) and the pending ones; changes nothing')
    .option('--json', 'print as one JSON object')
    .action((opts: { json?: boolean }) =>
      withKnex(async (knex) => {
        const s = await migrationStatus(knex);
        const contract = (await pendingPhases(knex)).filter((m) => m.phase === 'contract').map((m) => m.name);
        if (opts.json) {
          console.log(
            JSON.stringify({
              database: describeDatabase(loadConfig().databaseUrl),
              ...s,
              pendingContract: contract,
            }),
          );
          return;
        }
        console.log(describeDatabase(loadConfig().databaseUrl));
        for (const m of s.applied)
          console.log(
            `applied  ${m.name}  (batch ${m.batch}, ${m.appliedAt})${s.unknown.includes(m.name) ? '  not in this release' : ''}`,
          );
        for (const name of s.pending)
          console.log(
            `pending  ${name}${contract.includes(name) ? '  (contract step: db migrate --contract)' : ''}`,
          );
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
