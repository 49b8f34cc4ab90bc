// The report's pure parts: the date filter, the answers derived from figures (ties, empty periods, what the
// assistance average is taken over), text and HTML layout, chart rendering, and the dashboard's change watcher.
import assert from 'node:assert/strict';
import { deriveAnswers, fillHours } from '../../report/answers';
import { barChart, renderSvg } from '../../report/charts';
import type { ReportData } from '../../report/data';
import { formatHtml, htmlTable } from '../../report/format-html';
import { formatTable } from '../../report/format-text';
import type { ExhibitionFigures, HourFigures } from '../../report/queries';
import { DateRangeError, describeRange, parseDateRange } from '../../report/range';
import { renderReport } from '../../report/render';
import { buildSections } from '../../report/sections';
import { VersionWatcher, type WatchEvent } from '../../report/dashboard/watcher';

function exhibition(site: number, over: Partial<ExhibitionFigures> = {}): ExhibitionFigures {
  return {
    site,
    publicId: `EXH_0${site}`,
    name: `Exhibition ${site}`,
    floor: '1',
    department: 'Zoology',
    ratings: 0,
    avgRating: null,
    ratingCounts: [0, 0, 0, 0, 0],
    positive: 0,
    ratingsBefore1pm: 0,
    positiveBefore1pm: 0,
    ratingsAfter1pm: 0,
    positiveAfter1pm: 0,
    assistance: 0,
    emergencies: 0,
    ...over,
  };
}

function data(exhibitions: ExhibitionFigures[], hours: HourFigures[] = []): ReportData {
  return {
    range: {},
    generatedAt: '2026-11-27T12:00:00.000Z',
    overview: { ratings: 0, requests: 0, firstLocal: null, lastLocal: null, days: 0 },
    exhibitions,
    floors: [],
    departments: [],
    hours,
  };
}

describe('report: date range', () => {
  it('accepts real ISO dates, either end optional, and treats empty as absent', () => {
    assert.deepEqual(parseDateRange('2023-03-06', '2023-03-07'), { from: '2023-03-06', to: '2023-03-07' });
    assert.deepEqual(parseDateRange(undefined, '2024-02-29'), { to: '2024-02-29' });
    assert.deepEqual(parseDateRange('', ' '), {});
    assert.deepEqual(parseDateRange(null, null), {});
  });

  it('rejects impossible dates, other forms, and a reversed range', () => {
    for (const bad of [
      '2023-02-30',
      '2023-2-3',
      '06/03/2023',
      '2023-03-06T00:00',
      '2023-13-01',
      '2023-02-29',
    ]) {
      assert.throws(() => parseDateRange(bad), DateRangeError, bad);
    }
    assert.throws(() => parseDateRange('2023-03-07', '2023-03-06'), /after/);
  });

  it('describes the period in words', () => {
    assert.equal(describeRange({}), 'all dates');
    assert.equal(describeRange({ from: '2023-03-06', to: '2023-03-06' }), '2023-03-06');
    assert.equal(describeRange({ from: '2023-03-06' }), '2023-03-06 to now');
  });
});

describe('report: answers', () => {
  it('names every exhibition tied for most visited, and none when nothing was visited', () => {
    const tied = deriveAnswers(
      data([exhibition(0, { ratings: 5 }), exhibition(1, { ratings: 7 }), exhibition(2, { ratings: 7 })]),
    );
    assert.deepEqual(
      tied.mostVisited.top.map((e) => e.site),
      [1, 2],
    );
    assert.equal(tied.mostVisited.visits, 7);
    assert.deepEqual(
      tied.mostVisited.ranking.map((e) => e.site),
      [1, 2, 0],
    );
    const empty = deriveAnswers(data([exhibition(0), exhibition(1)]));
    assert.deepEqual(empty.mostVisited.top, []);
  });

  it('counts visits as ratings only, requests apart', () => {
    const a = deriveAnswers(
      data([exhibition(0, { ratings: 5, assistance: 9 }), exhibition(1, { ratings: 6, emergencies: 1 })]),
    );
    assert.deepEqual(
      a.mostVisited.top.map((e) => e.site),
      [1],
    );
    assert.deepEqual(
      a.mostVisited.ranking.map((e) => [e.site, e.visits, e.interactions]),
      [
        [1, 6, 7],
        [0, 5, 14],
      ],
    );
  });

  it('averages assistance over the exhibitions that reported, and lists the silent ones apart', () => {
    const a = deriveAnswers(
      data([
        exhibition(0, { ratings: 10, assistance: 2 }),
        exhibition(1, { ratings: 10, assistance: 4 }),
        exhibition(2, { ratings: 1, assistance: 0 }),
        exhibition(5),
      ]),
    );
    assert.equal(a.belowAverageAssistance.average, 2);
    assert.equal(a.belowAverageAssistance.reporting, 3);
    assert.deepEqual(
      a.belowAverageAssistance.exhibitions.map((e) => e.site),
      [2],
    );
    assert.deepEqual(
      a.belowAverageAssistance.noData.map((e) => e.site),
      [5],
    );
    assert.equal(deriveAnswers(data([exhibition(0)])).belowAverageAssistance.average, null);
  });

  it('ranks averages highest first with the unrated last, and shares are null without ratings', () => {
    const a = deriveAnswers(
      data([
        exhibition(0, { ratings: 2, avgRating: 1, ratingCounts: [0, 2, 0, 0, 0] }),
        exhibition(1),
        exhibition(2, { ratings: 4, avgRating: 3.5, ratingCounts: [0, 0, 0, 2, 2] }),
      ]),
    );
    assert.deepEqual(
      a.averageRating.map((e) => e.site),
      [2, 0, 1],
    );
    assert.deepEqual(
      a.topRatingShare.map((e) => e.share),
      [0, null, 0.5],
    );
  });

  it('sums positive ratings before and after 1 pm over exhibitions', () => {
    const a = deriveAnswers(
      data([
        exhibition(0, { ratingsBefore1pm: 4, positiveBefore1pm: 1, ratingsAfter1pm: 2, positiveAfter1pm: 2 }),
        exhibition(1, { ratingsBefore1pm: 6, positiveBefore1pm: 4 }),
      ]),
    );
    assert.deepEqual(a.positiveBeforeAfter1pm.before, { count: 5, of: 10, share: 0.5 });
    assert.deepEqual(a.positiveBeforeAfter1pm.after, { count: 2, of: 2, share: 1 });
  });

  it('fills the hours between the first and the last so gaps show as zeros', () => {
    const filled = fillHours<{ hour: number; empty?: boolean }>([{ hour: 9 }, { hour: 12 }], (hour) => ({
      hour,
      empty: true,
    }));
    assert.deepEqual(
      filled.map((h) => h.hour),
      [9, 10, 11, 12],
    );
    assert.deepEqual(
      fillHours([], (hour) => ({ hour })),
      [],
    );
  });
});

describe('report: layout', () => {
  it('aligns text tables, numbers to the right', () => {
    const text = formatTable(
      {
        columns: [{ label: 'name' }, { label: 'n', numeric: true }],
        rows: [
          ['a', '1'],
          ['long name', '100'],
        ],
      },
      '',
    );
    assert.equal(text, ['name         n', '---------  ---', 'a            1', 'long name  100'].join('\n'));
  });

  it('escapes names in HTML tables and in chart SVG', () => {
    const nasty = '<script>alert("x")</script> & co';
    assert.ok(!htmlTable({ columns: [{ label: 'x' }], rows: [[nasty]] }).includes('<script>'));
    const svg = renderSvg(
      barChart({ categories: [nasty], valueName: 'n', series: [{ name: 'n', values: [1] }] }),
      nasty,
    );
    assert.match(svg, /^<svg[\s>]/);
    assert.ok(!svg.includes('<script>'), 'chart text is escaped');
  });

  it('renders every format of an empty period without failing, with one chart per table', () => {
    const empty = data([exhibition(0), exhibition(1)]);
    const sections = buildSections(deriveAnswers(empty));
    const blocks = sections.flatMap((s) => s.blocks);
    const html = renderReport(empty, 'html');
    assert.equal((html.match(/<svg[\s>]/g) ?? []).length, blocks.filter((b) => b.chart).length);
    assert.equal((html.match(/<table>/g) ?? []).length, blocks.length);
    assert.ok(
      blocks.every((b) => b.chart !== undefined),
      'a chart beside each table',
    );
    assert.match(renderReport(empty, 'text'), /No visits in this period/);
    const json = JSON.parse(renderReport(empty, 'json')) as { answers: { mostVisited: { top: unknown[] } } };
    assert.deepEqual(json.answers.mostVisited.top, []);
    assert.ok(!/<script|\ssrc=|href="http|url\(http/i.test(html), 'no script, no external reference');
    assert.ok(formatHtml({ title: 't', subtitle: 's', dataLine: 'd' }, []).startsWith('<!doctype html>'));
  });
});

describe('report: dashboard change watcher', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !condition(); i++) await sleep(5);
    assert.ok(condition(), 'condition not reached within a second');
  }

  it('polls only while someone listens, and tells listeners of changes and problems once each', async () => {
    let version = 'a';
    let reads = 0;
    let fail = false;
    const watcher = new VersionWatcher(() => {
      reads++;
      return fail ? Promise.reject(new Error('down')) : Promise.resolve(version);
    }, 5);
    await sleep(20);
    assert.equal(reads, 0, 'no listener, no polling');
    const seen: WatchEvent[] = [];
    const unsubscribe = watcher.subscribe((e) => seen.push(e));
    await until(() => seen.length === 1);
    assert.equal(watcher.current(), 'a');
    const readsBefore = reads;
    await until(() => reads > readsBefore + 2);
    assert.equal(seen.length, 1, 'an unchanged version is not announced again');
    version = 'b';
    await until(() => seen.length === 2);
    fail = true;
    await until(() => seen.length === 3);
    fail = false;
    await until(() => seen.length === 4);
    assert.deepEqual(seen, [
      { type: 'version', version: 'a' },
      { type: 'version', version: 'b' },
      { type: 'problem', message: 'down' },
      { type: 'version', version: 'b' },
    ]);
    const late: WatchEvent[] = [];
    const unsubscribeLate = watcher.subscribe((e) => late.push(e));
    assert.deepEqual(late, [{ type: 'version', version: 'b' }], 'a late listener hears the current version');
    unsubscribe();
    unsubscribeLate();
    await sleep(20);
    const readsWhenIdle = reads;
    await sleep(30);
    assert.equal(reads, readsWhenIdle, 'polling stops when the last listener leaves');
    assert.equal(watcher.current(), undefined);
    watcher.stop();
  });
});
