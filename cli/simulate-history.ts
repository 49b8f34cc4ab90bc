// `simulate history`: the command line over simulator/history-files.ts.
import { InvalidArgumentError, type Command } from 'commander';
import path from 'node:path';
import { generateHistory } from '../simulator/history-files';
import { UsageError } from './exit';

function parseCount(value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

export function registerSimulateHistory(simulate: Command): void {
  simulate
    .command('history')
    .description('write realistic history CSVs and exhibition JSONs (the real format and noise) to a folder')
    .requiredOption('--rows <n>', 'data rows in all', parseCount)
    .requiredOption('--out <dir>', 'folder to write (created if absent)')
    .option('--files <n>', 'split the rows over this many CSV files', parseCount, 4)
    .option('--seed <n>', 'random seed (the same seed writes the same files)', parseCount, 1)
    .option('--start-date <date>', 'first day of the history, YYYY-MM-DD', '2023-03-01')
    .option('--days <n>', 'days of history', parseCount, 30)
    .option('--sites <n>', 'exhibitions (sites 0..n-1)', parseCount, 6)
    .action(
      async (flags: {
        rows: number;
        out: string;
        files: number;
        seed: number;
        startDate: string;
        days: number;
        sites: number;
      }) => {
        if (flags.files < 1) throw new UsageError('--files must be at least 1');
        if (flags.days < 1 || flags.sites < 1) throw new UsageError('--days and --sites must be at least 1');
        const names = await generateHistory(
          {
            rows: flags.rows,
            files: flags.files,
            seed: flags.seed,
            out: path.resolve(flags.out),
            startDate: flags.startDate,
            days: flags.days,
            sites: Array.from({ length: flags.sites }, (_, i) => i),
          },
          (n) => process.stderr.write(`  ${n.toLocaleString('en-GB')} rows written\n`),
        );
        console.log(`wrote ${names.length} files to ${path.resolve(flags.out)}`);
      },
    );
}
