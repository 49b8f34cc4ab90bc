// `simulate history`: writes realistic history CSVs and exhibition metadata in the real format to a folder,
// streamed to disk so any size fits in memory.
import { InvalidArgumentError, type Command } from 'commander';
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { generateExhibitions, HistoryGenerator } from '../domain/history-generator';

export interface HistoryJob {
  rows: number;
  files: number;
  seed: number;
  out: string;
  startDate: string;
  days: number;
  sites: number[];
}

function parseCount(value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

async function writeLines(file: string, lines: () => Generator<string>): Promise<number> {
  const out = fs.createWriteStream(file);
  let bytes = 0;
  let pending = '';
  for (const line of lines()) {
    pending += line + '\n';
    if (pending.length >= 1 << 16) {
      bytes += pending.length;
      if (!out.write(pending)) await once(out, 'drain');
      pending = '';
    }
  }
  bytes += pending.length;
  out.end(pending);
  await once(out, 'finish');
  return bytes;
}

/** Writes the job's files and returns their names; progress goes to `onProgress` (rows written so far). */
export async function generateHistory(
  job: HistoryJob,
  onProgress?: (rows: number) => void,
): Promise<string[]> {
  fs.mkdirSync(job.out, { recursive: true });
  const gen = new HistoryGenerator({
    seed: job.seed,
    startDate: job.startDate,
    days: job.days,
    sites: job.sites,
  });
  const names: string[] = [];
  for (const ex of generateExhibitions(job.sites, job.seed)) {
    fs.writeFileSync(path.join(job.out, ex.file), ex.json);
    names.push(ex.file);
  }
  let written = 0;
  for (let f = 0; f < job.files; f++) {
    const rows = Math.floor(job.rows / job.files) + (f < job.rows % job.files ? 1 : 0);
    const name = `lmnh_hist_data_${f}.csv`;
    await writeLines(path.join(job.out, name), function* () {
      yield 'at,site,val,type';
      for (let i = 0; i < rows; i++) {
        yield gen.next();
        if (++written % 100_000 === 0) onProgress?.(written);
      }
    });
    names.push(name);
  }
  return names;
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
        if (flags.files < 1) throw new Error('--files must be at least 1');
        if (flags.days < 1 || flags.sites < 1) throw new Error('--days and --sites must be at least 1');
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
