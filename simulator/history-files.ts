// Writes realistic history CSVs and exhibition metadata in the real format to a folder, streamed to disk so
// any size fits in memory.
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { generateExhibitions, HistoryGenerator } from './history-generator';

export interface HistoryJob {
  rows: number;
  files: number;
  seed: number;
  out: string;
  startDate: string;
  days: number;
  sites: number[];
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
