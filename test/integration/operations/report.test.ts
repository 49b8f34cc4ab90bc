// The report on the real LMNH data, loaded through the real batch workflow, checked answer by answer against
// a hand count over the CSV files in plain JavaScript (never the report's own queries). The hand count
// applies the known rejection facts (../shared/data/lmnh/SOURCES.md): rows before 08:45 are out of hours and
// a row repeated in two files counts once. Then the CLI end to end, and the London-date filter across
// summer-time changes against a differently written SQL query.
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main as clientMain } from '../../../client';
import { createKnex } from '../../../infra/db';
import { deriveAnswers, type Answers } from '../../../report/answers';
import { loadReportData, type ReportData } from '../../../report/data';
import { createBucketWith, deleteBucket, runBatch } from '../../support/batch';
import { startEntryPoint } from '../../support/child-process';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  REPO_ROOT,
  SHARED_DATA,
} from '../../support/isolated-env';
import { startTestWorker, type TestWorker } from '../../support/test-worker';

interface HandRow {
  at: string; // London wall clock, as in the CSV
  site: number;
  val: number;
  type: string;
}
interface Meta {
  site: number;
  name: string;
  floor: string;
  department: string;
}

function handRows(): HandRow[] {
  const seen = new Set<string>();
  const rows: HandRow[] = [];
  for (const file of fs
    .readdirSync(SHARED_DATA)
    .filter((f) => /^lmnh_hist_data_\d+\.csv$/.test(f))
    .sort()) {
    const lines = fs.readFileSync(path.join(SHARED_DATA, file), 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const [at = '', site = '', val = '', type = ''] = line.trim().split(',');
      const time = at.slice(11);
      if (time < '08:45:00' || time > '18:15:00') continue;
      if (seen.has(line.trim())) continue;
      seen.add(line.trim());
      rows.push({ at, site: Number(site), val: Number(val), type });
    }
  }
  return rows;
}

function handMeta(): Meta[] {
  return fs
    .readdirSync(SHARED_DATA)
    .filter((f) => f.startsWith('lmnh_exhibition_'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(SHARED_DATA, f), 'utf8')) as Record<string, string>)
    .map((j) => ({
      site: Number(j.EXHIBITION_ID?.replace('EXH_', '')),
      name: j.EXHIBITION_NAME ?? '',
      floor: j.FLOOR ?? '',
      department: j.DEPARTMENT ?? '',
    }))
    .sort((a, b) => a.site - b.site);
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const close = (actual: number | null, expected: number | null, what: string) => {
  if (expected === null) return assert.equal(actual, null, what);
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
};

describe('report on the real LMNH data', function () {
  const cfg = isolatedConfig('report');
  let knex: Knex;
  let tw: TestWorker;
  let data: ReportData;
  let answers: Answers;
  const rows = handRows();
  const meta = handMeta();
  const ratings = rows.filter((r) => r.val >= 0);
  const requests = rows.filter((r) => r.val === -1);
  const siteOf = new Map(meta.map((m) => [m.site, m]));
  const reporting = meta.filter((m) => rows.some((r) => r.site === m.site));

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    await createBucketWith(cfg, SHARED_DATA);
    tw = await startTestWorker(cfg);
    const summary = await runBatch(tw.env.client, cfg, { source: `s3://${cfg.s3.bucket}/` });
    assert.equal(summary.loaded, 2079);
    data = await loadReportData(knex, {});
    answers = deriveAnswers(data);
  });
  after(async () => {
    await tw?.stop();
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
    await deleteBucket(cfg);
  });

  it('the hand count reproduces the load: 2,079 rows, sites 0..4, six exhibitions catalogued', () => {
    assert.equal(rows.length, 2079);
    assert.equal(data.overview.ratings + data.overview.requests, 2079);
    assert.equal(data.overview.ratings, ratings.length);
    assert.deepEqual(
      meta.map((m) => m.site),
      [0, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      reporting.map((m) => m.site),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(
      data.exhibitions.map((e) => [e.site, e.name, e.floor, e.department]),
      meta.map((m) => [m.site, m.name, m.floor, m.department]),
    );
  });

  it('most visited exhibition: most rating presses', () => {
    const visits = meta.map((m) => ({ site: m.site, n: ratings.filter((r) => r.site === m.site).length }));
    const max = Math.max(...visits.map((v) => v.n));
    assert.deepEqual(
      answers.mostVisited.top.map((e) => e.site),
      visits.filter((v) => v.n === max).map((v) => v.site),
    );
    assert.equal(answers.mostVisited.visits, max);
    assert.deepEqual(answers.mostVisited.top, [{ site: 4, publicId: 'EXH_04', name: 'Our Polluted World' }]);
    for (const e of answers.mostVisited.ranking) {
      assert.equal(e.visits, visits.find((v) => v.site === e.site)?.n);
      assert.equal(e.interactions, rows.filter((r) => r.site === e.site).length);
    }
  });

  it('average rating per exhibition', () => {
    assert.equal(answers.averageRating.length, meta.length);
    for (const e of answers.averageRating) {
      const values = ratings.filter((r) => r.site === e.site).map((r) => r.val);
      close(e.avgRating, mean(values), `average of site ${e.site}`);
      assert.equal(e.ratings, values.length);
    }
    assert.equal(answers.averageRating[0]?.site, 3);
  });

  it('ratings by hour of the London day', () => {
    // The CSV's `at` is already London wall clock, so its hour is read from the text, not converted.
    const hours = [...new Set(ratings.map((r) => Number(r.at.slice(11, 13))))].sort((a, b) => a - b);
    assert.deepEqual(
      answers.ratingsByHour.map((h) => h.hour),
      hours,
    );
    for (const h of answers.ratingsByHour) {
      const inHour = ratings.filter((r) => Number(r.at.slice(11, 13)) === h.hour);
      assert.equal(h.ratings, inHour.length, `ratings at ${h.hour}`);
      close(h.avgRating, mean(inHour.map((r) => r.val)), `average at ${h.hour}`);
      assert.deepEqual(
        h.ratingCounts,
        [0, 1, 2, 3, 4].map((v) => inHour.filter((r) => r.val === v).length),
      );
    }
  });

  it('share of top ratings per exhibition', () => {
    for (const e of answers.topRatingShare) {
      const mine = ratings.filter((r) => r.site === e.site);
      const top = mine.filter((r) => r.val === 4).length;
      assert.equal(e.count, top);
      assert.equal(e.of, mine.length);
      close(e.share, mine.length ? top / mine.length : null, `top share of site ${e.site}`);
    }
  });

  it('positive ratings before and after 1 pm', () => {
    const before = ratings.filter((r) => r.at.slice(11) < '13:00:00');
    const after = ratings.filter((r) => r.at.slice(11) >= '13:00:00');
    const positive = (xs: HandRow[]) => xs.filter((r) => r.val >= 3).length;
    assert.deepEqual(answers.positiveBeforeAfter1pm.before, {
      count: positive(before),
      of: before.length,
      share: positive(before) / before.length,
    });
    assert.deepEqual(answers.positiveBeforeAfter1pm.after, {
      count: positive(after),
      of: after.length,
      share: positive(after) / after.length,
    });
    for (const e of answers.positiveBeforeAfter1pm.byExhibition) {
      assert.equal(e.before.count, positive(before.filter((r) => r.site === e.site)));
      assert.equal(e.after.of, after.filter((r) => r.site === e.site).length);
    }
  });

  it('assistance and emergency requests per exhibition, per floor and per hour', () => {
    const count = (xs: HandRow[], type: string) => xs.filter((r) => Number(r.type) === Number(type)).length;
    for (const e of answers.requestsByExhibition) {
      const mine = requests.filter((r) => r.site === e.site);
      assert.deepEqual([e.assistance, e.emergencies], [count(mine, '0'), count(mine, '1')], `site ${e.site}`);
    }
    assert.deepEqual(
      answers.requestsByFloor.map((f) => f.floor),
      [...new Set(meta.map((m) => m.floor))].sort(),
    );
    for (const f of answers.requestsByFloor) {
      const mine = requests.filter((r) => siteOf.get(r.site)?.floor === f.floor);
      assert.deepEqual(
        [f.assistance, f.emergencies],
        [count(mine, '0'), count(mine, '1')],
        `floor ${f.floor}`,
      );
    }
    for (const h of answers.requestsByHour) {
      const mine = requests.filter((r) => Number(r.at.slice(11, 13)) === h.hour);
      assert.deepEqual([h.assistance, h.emergencies], [count(mine, '0'), count(mine, '1')], `hour ${h.hour}`);
    }
    assert.equal(
      answers.requestsByHour.reduce((s, h) => s + h.assistance + h.emergencies, 0),
      requests.length,
    );
  });

  it('floors and departments compared by average rating (every rating weighs the same)', () => {
    for (const [list, key] of [
      [answers.floorsByRating, 'floor'],
      [answers.departmentsByRating, 'department'],
    ] as const) {
      assert.deepEqual(list.map((g) => g.name).sort(), [...new Set(meta.map((m) => m[key]))].sort());
      for (const g of list) {
        const values = ratings.filter((r) => siteOf.get(r.site)?.[key] === g.name).map((r) => r.val);
        close(g.avgRating, mean(values), `${key} ${g.name}`);
        assert.equal(g.ratings, values.length);
      }
      const averages = list.map((g) => g.avgRating ?? -1);
      assert.deepEqual(
        averages,
        [...averages].sort((a, b) => b - a),
        `${key}s ranked best first`,
      );
    }
  });

  it('exhibitions below the average for assistance requests', () => {
    const assistance = (site: number) =>
      requests.filter((r) => r.site === site && Number(r.type) === 0).length;
    const average = reporting.reduce((s, m) => s + assistance(m.site), 0) / reporting.length;
    close(answers.belowAverageAssistance.average, average, 'average assistance');
    assert.deepEqual(
      answers.belowAverageAssistance.exhibitions.map((e) => e.site),
      reporting.filter((m) => assistance(m.site) < average).map((m) => m.site),
    );
    assert.deepEqual(
      answers.belowAverageAssistance.noData.map((e) => e.site),
      [5],
    );
  });

  it('filters on the London date: the one real day equals everything, other days are empty', async () => {
    const day = await loadReportData(knex, { from: '2023-03-06', to: '2023-03-06' });
    assert.deepEqual(deriveAnswers(day), answers);
    for (const range of [{ from: '2023-03-07' }, { to: '2023-03-05' }]) {
      const none = await loadReportData(knex, range);
      assert.equal(none.overview.ratings + none.overview.requests, 0, JSON.stringify(range));
      assert.ok(none.exhibitions.every((e) => e.ratings === 0 && e.avgRating === null));
    }
  });

  describe('the report command', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-report-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** The CLI in this process (a child costs seconds), with its standard error captured. */
    async function client(...args: string[]): Promise<number> {
      return (await clientWithOutput(...args)).code;
    }
    async function clientWithOutput(...args: string[]): Promise<{ code: number; stderr: string }> {
      const saved = process.env.DATABASE_URL;
      const write = process.stderr.write.bind(process.stderr);
      let stderr = '';
      process.env.DATABASE_URL = cfg.databaseUrl;
      const capture = (chunk: string | Uint8Array): boolean => {
        stderr += chunk.toString();
        return true;
      };
      process.stderr.write = capture;
      try {
        return { code: await clientMain(['node', 'client', 'report', ...args]), stderr };
      } finally {
        process.stderr.write = write;
        if (saved === undefined) delete process.env.DATABASE_URL;
        else process.env.DATABASE_URL = saved;
      }
    }

    it('--format json carries the same answers', async () => {
      const file = path.join(dir, 'report.json');
      assert.equal(await client('--format', 'json', '--out', file, '--from', '2023-03-06'), 0);
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { answers: Answers; range: unknown };
      assert.deepEqual(doc.range, { from: '2023-03-06', to: null });
      assert.deepEqual(doc.answers, JSON.parse(JSON.stringify(answers)));
    });

    it('--format html is one self-contained file with a chart beside each table', async () => {
      // Kept in test-output/ (ignored by git) for a person to open.
      fs.mkdirSync(path.join(REPO_ROOT, 'test-output'), { recursive: true });
      const file = path.join(REPO_ROOT, 'test-output', 'report.html');
      assert.equal(await client('--format', 'html', '--out', file), 0);
      const html = fs.readFileSync(file, 'utf8');
      const tables = (html.match(/<table>/g) ?? []).length;
      assert.equal(tables, 11);
      assert.equal((html.match(/<svg[\s>]/g) ?? []).length, tables);
      assert.ok(
        !/<script|<link|\ssrc=|href="(?!#)|url\((?!#)/i.test(html),
        'no script and no external reference',
      );
      assert.match(html, /Our Polluted World \(EXH_04\), with 472 visits/);
      assert.match(html, /<td class="num">2\.82<\/td>/);
    });

    it('--format text answers each question in words', async () => {
      const file = path.join(dir, 'report.txt');
      assert.equal(await client('--out', file), 0);
      const text = fs.readFileSync(file, 'utf8');
      for (const heading of [
        '1. Most visited exhibition',
        '2. Average rating per exhibition',
        '3. Ratings by hour of day (Europe/London)',
        '4. Share of top ratings (Amazing) per exhibition',
        '5. Positive ratings before and after 1 pm',
        '6. Assistance and emergency requests',
        '7. Floors and departments compared by average rating',
        '8. Exhibitions below the average for assistance requests',
      ]) {
        assert.ok(text.includes(heading), heading);
      }
      assert.match(text, /Below it: Measureless to Man \(EXH_00\), Adaptation \(EXH_01\)/);
    });

    it('rejects a bad date, a reversed range or an unknown format with a message', async () => {
      const bad = await clientWithOutput('--from', '2023-02-30');
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /--from.*expected a date YYYY-MM-DD/);
      const reversed = await clientWithOutput('--from', '2023-03-07', '--to', '2023-03-06');
      assert.equal(reversed.code, 2);
      assert.match(reversed.stderr, /--from 2023-03-07 is after --to 2023-03-06/);
      const format = await clientWithOutput('--format', 'pdf');
      assert.notEqual(format.code, 0);
      assert.match(format.stderr, /Allowed choices are text, json, html/);
    });

    it('exits non-zero with a clear message when the database is down', async () => {
      const down = { ...cfg, databaseUrl: 'postgres://kiosk:s3cret@127.0.0.1:1/kiosk' };
      const p = startEntryPoint('client.ts', down, ['report']);
      assert.equal(await p.exited, 1);
      assert.match(
        p.output(),
        /error: database postgres:\/\/kiosk:\*\*\*@127\.0\.0\.1:1\/kiosk is not reachable/,
      );
      assert.ok(!p.output().includes('s3cret'), 'the password is never printed');
      assert.ok(!/\n\s+at /.test(p.output()), 'no stack trace');
    });
  });

  describe('the London-date filter across summer-time changes', () => {
    // Stream rows at instants chosen around London midnights, 1 pm and both clock changes of 2023.
    const instants = [
      '2023-03-25T23:59:59Z', // 25 Mar 23:59:59 GMT
      '2023-03-26T00:59:59Z', // 26 Mar 00:59:59 GMT, just before clocks go forward
      '2023-03-26T01:00:00Z', // 26 Mar 02:00:00 BST
      '2023-06-30T23:30:00Z', // 1 Jul 00:30 BST: a UTC date of 30 June
      '2023-07-01T11:59:59Z', // 1 Jul 12:59:59 BST: before 1 pm
      '2023-07-01T12:00:00Z', // 1 Jul 13:00:00 BST: from 1 pm
      '2023-07-01T23:00:00Z', // 2 Jul 00:00 BST: a UTC date of 1 July
      '2023-10-29T00:30:00Z', // 29 Oct 01:30 BST
      '2023-10-29T01:30:00Z', // 29 Oct 01:30 GMT, the repeated hour
    ];

    before(async () => {
      await knex('pipeline_run').insert({
        run_id: 'stream-report-test',
        kind: 'stream',
        workflow_id: 'stream-lmnh-0',
        source: 'kafka://lmnh/0',
      });
      const [exhibition] = await knex('exhibition').where({ site: 1 }).select<{ exhibition_id: number }[]>();
      await knex('rating_interaction').insert(
        instants.map((at, offset) => ({
          exhibition_id: exhibition?.exhibition_id,
          rating_value: 4,
          event_at: at,
          run_id: 'stream-report-test',
          source_topic: 'lmnh',
          source_partition: 0,
          source_offset: offset,
        })),
      );
    });

    async function differently(from: string, to: string) {
      const result = await knex.raw<{ rows: { hour: string; n: number }[] }>(
        `select to_char(event_at at time zone 'Europe/London', 'HH24') as hour, count(*)::int as n
         from rating_interaction
         where (event_at at time zone 'Europe/London')::date between ?::date and ?::date
         group by 1 order by 1`,
        [from, to],
      );
      return result.rows.map((r) => ({ hour: Number(r.hour), n: r.n }));
    }

    it('puts each instant on its London date and hour', async () => {
      const expectations: [string, string, { hour: number; n: number }[]][] = [
        [
          '2023-03-26',
          '2023-03-26',
          [
            { hour: 0, n: 1 },
            { hour: 2, n: 1 },
          ],
        ],
        ['2023-03-25', '2023-03-25', [{ hour: 23, n: 1 }]],
        [
          '2023-07-01',
          '2023-07-01',
          [
            { hour: 0, n: 1 },
            { hour: 12, n: 1 },
            { hour: 13, n: 1 },
          ],
        ],
        ['2023-07-02', '2023-07-02', [{ hour: 0, n: 1 }]],
        ['2023-10-29', '2023-10-29', [{ hour: 1, n: 2 }]],
        ['2023-03-25', '2023-10-29', []],
      ];
      for (const [from, to, expected] of expectations) {
        const report = await loadReportData(knex, { from, to });
        const hours = report.hours.map((h) => ({ hour: h.hour, n: h.ratings }));
        assert.deepEqual(hours, await differently(from, to), `${from}..${to} against the other SQL`);
        if (expected.length) assert.deepEqual(hours, expected, `${from}..${to} by hand`);
      }
      const july = deriveAnswers(await loadReportData(knex, { from: '2023-07-01', to: '2023-07-01' }));
      assert.deepEqual(
        [july.positiveBeforeAfter1pm.before.count, july.positiveBeforeAfter1pm.after.count],
        [2, 1],
      );
      const all = await loadReportData(knex, { from: '2023-03-25', to: '2023-10-29' });
      assert.equal(all.overview.ratings, instants.length);
    });
  });
});
