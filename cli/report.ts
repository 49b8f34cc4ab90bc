// `report`: LMNH's questions answered from the database, as text, JSON or a self-contained HTML file.
import fs from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../infra/config';
import { createKnex } from '../infra/db';
import { loadReportData } from '../report/data';
import { checkDatabase, describeDatabaseError } from '../report/database';
import { parseDateRange, isIsoDate } from '../report/range';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../report/render';

export interface ReportOptions {
  from?: string;
  to?: string;
  format: ReportFormat;
  out?: string;
}

function isoDate(value: string): string {
  if (!isIsoDate(value)) throw new InvalidArgumentError('expected a date YYYY-MM-DD.');
  return value;
}

export async function runReport(opts: ReportOptions): Promise<void> {
  const range = parseDateRange(opts.from, opts.to);
  const cfg = loadConfig();
  await checkDatabase(cfg.databaseUrl);
  const knex = createKnex(cfg.databaseUrl, 1);
  let document: string;
  try {
    document = renderReport(await loadReportData(knex, range), opts.format);
  } catch (err) {
    throw describeDatabaseError(cfg.databaseUrl, err);
  } finally {
    await knex.destroy();
  }
  if (opts.out === undefined) {
    process.stdout.write(document);
  } else {
    fs.writeFileSync(opts.out, document);
    console.error(`report written to ${opts.out} (${opts.format}, ${Buffer.byteLength(document)} bytes)`);
  }
}

export function registerReportCommands(program: Command): void {
  program
    .command('report')
    .description(
      'answer LMNH questions from the database: most visited exhibition, ratings by exhibition and hour, ' +
        'requests by exhibition, floor and hour, floors and departments compared',
    )
    .option('--from <date>', 'first day included, YYYY-MM-DD on the Europe/London clock', isoDate)
    .option('--to <date>', 'last day included, YYYY-MM-DD on the Europe/London clock', isoDate)
    .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMATS).default('text'))
    .option('--out <file>', 'write to this file instead of standard output')
    .addHelpText(
      'after',
      '\nExamples:\n  npm run client -- report --from 2023-03-06 --to 2023-03-06\n' +
        '  npm run client -- report --format html --out report.html',
    )
    .action((opts: ReportOptions) => runReport(opts));
}
