// Many small history objects in a folder, with their exact expected counts: for paging tests and the
// many-objects benchmark.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SHARED_DATA } from './isolated-env';

/**
 * A folder of `n` small history objects (two presses each, a second apart from 09:00 on 6 March 2023;
 * every tenth has a bad second row) plus the real exhibition metadata. Up to 16,000 stay within opening hours.
 */
export function smallObjects(n: number): { dir: string; read: number; rejected: number } {
  if (n > 16_000) throw new Error("smallObjects: at most 16,000 objects fit in one day's opening hours");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-runs-'));
  for (const f of fs.readdirSync(SHARED_DATA).filter((x) => /^lmnh_exhibition_.*\.json$/.test(x)))
    fs.copyFileSync(path.join(SHARED_DATA, f), path.join(dir, f));
  const at = (s: number) =>
    new Date(Date.UTC(2023, 2, 6, 9, 0, s)).toISOString().slice(0, 19).replace('T', ' ');
  for (let i = 0; i < n; i++) {
    const second = i % 10 === 9 ? `${at(2 * i + 1)},1,9,` : `${at(2 * i + 1)},2,4,`;
    fs.writeFileSync(
      path.join(dir, `obj-${String(i).padStart(5, '0')}.csv`),
      `at,site,val,type\n${at(2 * i)},1,3,\n${second}\n`,
    );
  }
  return { dir, read: 2 * n, rejected: Math.floor(n / 10) };
}
