// `report`: LMNH's questions answered from the database, as text, JSON or a self-contained HTML file.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../infra/config';
import { createKnex } from '../infra/db';
import { loadReportData } from '../report/data';
import { checkDatabase, describeDatabaseError } from '../report/database';
import { parseDateRange } from '../report/range';
import { isIsoDate } from '../domain/date-window';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../report/render';
import { OUT_HELP, openOutput, parseS3Target, writeChunk } from './output';

const CONTENT_TYPES: Record<ReportFormat, string> = {
  text: 'text/plain; charset=utf-8',
  json: 'application/json',
  html: 'text/html; charset=utf-8',
};

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
  if (opts.out?.startsWith('s3://')) parseS3Target(opts.out);
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
  const out = openOutput(opts.out ?? '-', () => cfg, CONTENT_TYPES[opts.format]);
  try {
    await writeChunk(out.stream, document);
    await out.close();
  } catch (err) {
    await out.abort();
    throw err;
  }
  if (opts.out !== undefined && opts.out !== '-')
    console.error(
      `report written to ${out.description} (${opts.format}, ${Buffer.byteLength(document)} bytes)`,
    );
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
    .option('--out <target>', `where to write: ${OUT_HELP} (default: standard output)`)
    .addHelpText(
      'after',
      '\nExamples:\n  kiosk report --from 2023-03-06 --to 2023-03-06\n' +
        '  kiosk report --format html --out s3://lmnh-reports/2023-03.html',
    )
    .action((opts: ReportOptions) => runReport(opts));
}
