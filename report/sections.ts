// The report as presentation-neutral sections: each question, its one-line answer, and tables with the chart
// that belongs beside each. The text and HTML formats only lay these out, so they cannot disagree.
import { RATING_LABELS, type Answers, type ExhibitionRef, type Share } from './answers';
import {
  ASSISTANCE_COLOUR,
  EMERGENCY_COLOUR,
  barChart,
  hourLabel,
  ratingsByHourChart,
  type ChartSize,
} from './charts';
import type * as echarts from 'echarts';

export interface Column {
  label: string;
  numeric?: boolean;
}

export interface Table {
  columns: Column[];
  rows: string[][];
}

export interface Chart {
  option: echarts.EChartsOption;
  /** One sentence saying what the chart shows; the SVG's accessible name. */
  description: string;
  size?: ChartSize;
}

export interface Block {
  caption?: string;
  table: Table;
  chart?: Chart;
}

export interface Section {
  id: string;
  title: string;
  /** The answer in one or two sentences, for someone who reads nothing else. */
  answer: string;
  blocks: Block[];
}

export const NO_DATA = '–';

export function formatAverage(n: number | null): string {
  return n === null ? NO_DATA : n.toFixed(2);
}

export function formatShare(s: number | null): string {
  return s === null ? NO_DATA : `${(s * 100).toFixed(1)}%`;
}

function percent(s: number | null): number | null {
  return s === null ? null : Math.round(s * 1000) / 10;
}

/** Numbered floors read "Floor 2"; named ones ("Vault") stand alone. */
export function floorLabel(name: string): string {
  return /^\d+$/.test(name) ? `Floor ${name}` : name;
}

export function exhibitionLabel(e: ExhibitionRef): string {
  return `${e.name} (${e.publicId})`;
}

function names(list: ExhibitionRef[]): string {
  const labels = list.map(exhibitionLabel);
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} and ${labels.at(-1)}`;
}

function shareCells(s: Share): string[] {
  return [String(s.count), String(s.of), formatShare(s.share)];
}

function mostVisited(a: Answers): Section {
  const { top, visits, ranking } = a.mostVisited;
  return {
    id: 'most-visited',
    title: 'Most visited exhibition',
    answer:
      top.length === 0
        ? 'No visits in this period.'
        : `${names(top)}, with ${visits} visits${top.length > 1 ? ' each (a tie)' : ''}. ` +
          'A visit is one rating press; "all presses" adds assistance and emergency requests.',
    blocks: [
      {
        table: {
          columns: [
            { label: 'rank', numeric: true },
            { label: 'exhibition' },
            { label: 'visits', numeric: true },
            { label: 'all presses', numeric: true },
          ],
          rows: ranking.map((e, i) => [
            String(i + 1),
            exhibitionLabel(e),
            String(e.visits),
            String(e.interactions),
          ]),
        },
        chart: {
          description: 'Visits (rating presses) per exhibition, most visited first.',
          option: barChart({
            categories: ranking.map((e) => e.name),
            valueName: 'visits',
            horizontal: true,
            series: [{ name: 'visits', values: ranking.map((e) => e.visits), colour: '#3b7dd8' }],
          }),
        },
      },
    ],
  };
}

function averageRating(a: Answers): Section {
  const rated = a.averageRating.filter((e) => e.avgRating !== null);
  const best = rated[0];
  const worst = rated.at(-1);
  return {
    id: 'average-rating',
    title: 'Average rating per exhibition',
    answer:
      best === undefined || worst === undefined
        ? 'No ratings in this period.'
        : `Highest: ${exhibitionLabel(best)} at ${formatAverage(best.avgRating)}; lowest: ` +
          `${exhibitionLabel(worst)} at ${formatAverage(worst.avgRating)} (0 Terrible .. 4 Amazing).`,
    blocks: [
      {
        table: {
          columns: [
            { label: 'exhibition' },
            { label: 'ratings', numeric: true },
            { label: 'average', numeric: true },
          ],
          rows: a.averageRating.map((e) => [
            exhibitionLabel(e),
            String(e.ratings),
            formatAverage(e.avgRating),
          ]),
        },
        chart: {
          description: 'Average rating per exhibition on the 0 to 4 scale, highest first.',
          option: barChart({
            categories: a.averageRating.map((e) => e.name),
            valueName: 'average rating (0..4)',
            decimals: 2,
            max: 4,
            horizontal: true,
            series: [
              {
                name: 'average rating',
                values: a.averageRating.map((e) =>
                  e.avgRating === null ? null : Number(e.avgRating.toFixed(2)),
                ),
                colour: '#2e8b57',
              },
            ],
          }),
        },
      },
    ],
  };
}

function ratingsByHour(a: Answers): Section {
  const rows = a.ratingsByHour;
  const busiest = [...rows].sort((x, y) => y.ratings - x.ratings)[0];
  const rated = rows.filter((r) => r.avgRating !== null);
  const best = [...rated].sort((x, y) => (y.avgRating ?? 0) - (x.avgRating ?? 0))[0];
  return {
    id: 'ratings-by-hour',
    title: 'Ratings by hour of day (Europe/London)',
    answer:
      busiest === undefined || best === undefined
        ? 'No ratings in this period.'
        : `Most ratings in the hour from ${hourLabel(busiest.hour)} (${busiest.ratings}); ` +
          `best average from ${hourLabel(best.hour)} (${formatAverage(best.avgRating)}).`,
    blocks: [
      {
        table: {
          columns: [
            { label: 'hour' },
            { label: 'ratings', numeric: true },
            { label: 'average', numeric: true },
            ...RATING_LABELS.map((label) => ({ label, numeric: true })),
          ],
          rows: rows.map((r) => [
            hourLabel(r.hour),
            String(r.ratings),
            formatAverage(r.avgRating),
            ...r.ratingCounts.map(String),
          ]),
        },
        chart: {
          description: 'Ratings per hour of the London day as bars, with the average rating as a line.',
          option: ratingsByHourChart(rows),
        },
      },
    ],
  };
}

function topRatings(a: Answers): Section {
  const ranked = [...a.topRatingShare]
    .filter((e) => e.share !== null)
    .sort((x, y) => (y.share ?? 0) - (x.share ?? 0));
  const best = ranked[0];
  return {
    id: 'top-ratings',
    title: 'Share of top ratings (Amazing) per exhibition',
    answer:
      best === undefined
        ? 'No ratings in this period.'
        : `${exhibitionLabel(best)} has the largest share of Amazing ratings: ${formatShare(best.share)} ` +
          `(${best.count} of ${best.of}).`,
    blocks: [
      {
        table: {
          columns: [
            { label: 'exhibition' },
            { label: 'Amazing', numeric: true },
            { label: 'ratings', numeric: true },
            { label: 'share', numeric: true },
          ],
          rows: a.topRatingShare.map((e) => [exhibitionLabel(e), ...shareCells(e)]),
        },
        chart: {
          description: 'Share of each exhibition’s ratings that are Amazing (4), in percent.',
          option: barChart({
            categories: a.topRatingShare.map((e) => e.name),
            valueName: 'Amazing ratings, % of ratings',
            horizontal: true,
            percent: true,
            series: [
              { name: 'share', values: a.topRatingShare.map((e) => percent(e.share)), colour: '#2e8b57' },
            ],
          }),
        },
      },
    ],
  };
}

function positiveBeforeAfter(a: Answers): Section {
  const { before, after, byExhibition } = a.positiveBeforeAfter1pm;
  const rows = [
    ...byExhibition.map((e) => [exhibitionLabel(e), ...shareCells(e.before), ...shareCells(e.after)]),
    ['All exhibitions', ...shareCells(before), ...shareCells(after)],
  ];
  return {
    id: 'positive-before-after-1pm',
    title: 'Positive ratings before and after 1 pm',
    answer:
      `Before 1 pm ${before.count} of ${before.of} ratings were positive (${formatShare(before.share)}); ` +
      `from 1 pm ${after.count} of ${after.of} (${formatShare(after.share)}). Positive means Good or Amazing.`,
    blocks: [
      {
        table: {
          columns: [
            { label: 'exhibition' },
            { label: 'positive <13:00', numeric: true },
            { label: 'ratings <13:00', numeric: true },
            { label: 'share <13:00', numeric: true },
            { label: 'positive ≥13:00', numeric: true },
            { label: 'ratings ≥13:00', numeric: true },
            { label: 'share ≥13:00', numeric: true },
          ],
          rows,
        },
        chart: {
          description: 'Share of positive ratings before and after 1 pm, per exhibition and overall.',
          option: barChart({
            categories: [...byExhibition.map((e) => e.name), 'All exhibitions'],
            valueName: 'positive, % of ratings',
            horizontal: true,
            percent: true,
            series: [
              {
                name: 'before 1 pm',
                values: [...byExhibition.map((e) => percent(e.before.share)), percent(before.share)],
                colour: '#9db7d5',
              },
              {
                name: 'from 1 pm',
                values: [...byExhibition.map((e) => percent(e.after.share)), percent(after.share)],
                colour: '#2e8b57',
              },
            ],
          }),
        },
      },
    ],
  };
}

function requestSeries(rows: { assistance: number; emergencies: number }[]) {
  return [
    { name: 'assistance', values: rows.map((r) => r.assistance), colour: ASSISTANCE_COLOUR },
    { name: 'emergency', values: rows.map((r) => r.emergencies), colour: EMERGENCY_COLOUR },
  ];
}

const REQUEST_COLUMNS: Column[] = [
  { label: 'assistance', numeric: true },
  { label: 'emergency', numeric: true },
];

function requests(a: Answers): Section {
  const assistance = a.requestsByExhibition.reduce((s, e) => s + e.assistance, 0);
  const emergencies = a.requestsByExhibition.reduce((s, e) => s + e.emergencies, 0);
  return {
    id: 'requests',
    title: 'Assistance and emergency requests',
    answer: `${assistance} assistance and ${emergencies} emergency requests in this period.`,
    blocks: [
      {
        caption: 'Per exhibition',
        table: {
          columns: [{ label: 'exhibition' }, ...REQUEST_COLUMNS],
          rows: a.requestsByExhibition.map((e) => [
            exhibitionLabel(e),
            String(e.assistance),
            String(e.emergencies),
          ]),
        },
        chart: {
          description: 'Assistance and emergency requests per exhibition.',
          option: barChart({
            categories: a.requestsByExhibition.map((e) => e.name),
            valueName: 'requests',
            horizontal: true,
            series: requestSeries(a.requestsByExhibition),
          }),
        },
      },
      {
        caption: 'Per floor',
        table: {
          columns: [{ label: 'floor' }, ...REQUEST_COLUMNS],
          rows: a.requestsByFloor.map((f) => [
            floorLabel(f.floor),
            String(f.assistance),
            String(f.emergencies),
          ]),
        },
        chart: {
          description: 'Assistance and emergency requests per floor.',
          size: { width: 560, height: 240 },
          option: barChart({
            categories: a.requestsByFloor.map((f) => floorLabel(f.floor)),
            valueName: 'requests',
            series: requestSeries(a.requestsByFloor),
          }),
        },
      },
      {
        caption: 'Per hour (Europe/London)',
        table: {
          columns: [{ label: 'hour' }, ...REQUEST_COLUMNS],
          rows: a.requestsByHour.map((h) => [hourLabel(h.hour), String(h.assistance), String(h.emergencies)]),
        },
        chart: {
          description: 'Assistance and emergency requests per hour of the London day.',
          option: barChart({
            categories: a.requestsByHour.map((h) => hourLabel(h.hour)),
            valueName: 'requests',
            stacked: true,
            series: requestSeries(a.requestsByHour),
          }),
        },
      },
    ],
  };
}

function groupBlock(
  caption: string,
  what: string,
  groups: Answers['floorsByRating'],
  label: (n: string) => string,
): Block {
  return {
    caption,
    table: {
      columns: [
        { label: what },
        { label: 'exhibitions', numeric: true },
        { label: 'ratings', numeric: true },
        { label: 'average', numeric: true },
      ],
      rows: groups.map((g) => [
        label(g.name),
        String(g.exhibitions),
        String(g.ratings),
        formatAverage(g.avgRating),
      ]),
    },
    chart: {
      description: `Average rating per ${what}, highest first.`,
      size: { width: 560, height: 260 },
      option: barChart({
        categories: groups.map((g) => label(g.name)),
        valueName: 'average rating (0..4)',
        decimals: 2,
        max: 4,
        horizontal: true,
        series: [
          {
            name: 'average rating',
            values: groups.map((g) => (g.avgRating === null ? null : Number(g.avgRating.toFixed(2)))),
            colour: '#2e8b57',
          },
        ],
      }),
    },
  };
}

function floorsAndDepartments(a: Answers): Section {
  const bestFloor = a.floorsByRating.find((g) => g.avgRating !== null);
  const bestDepartment = a.departmentsByRating.find((g) => g.avgRating !== null);
  return {
    id: 'floors-departments',
    title: 'Floors and departments compared by average rating',
    answer:
      bestFloor === undefined || bestDepartment === undefined
        ? 'No ratings in this period.'
        : `Best floor: ${floorLabel(bestFloor.name)} (${formatAverage(bestFloor.avgRating)}); best department: ` +
          `${bestDepartment.name} (${formatAverage(bestDepartment.avgRating)}). Every rating counts once.`,
    blocks: [
      groupBlock('Floors', 'floor', a.floorsByRating, floorLabel),
      groupBlock('Departments', 'department', a.departmentsByRating, (n) => n),
    ],
  };
}

function belowAverageAssistance(a: Answers, all: Answers['requestsByExhibition']): Section {
  const { average, reporting, exhibitions, noData } = a.belowAverageAssistance;
  const below = new Set(exhibitions.map((e) => e.site));
  const missing = new Set(noData.map((e) => e.site));
  const avgText = average === null ? NO_DATA : average.toFixed(2);
  const chartOption = barChart({
    categories: all.map((e) => e.name),
    valueName: 'assistance requests',
    horizontal: true,
    series: [{ name: 'assistance', values: all.map((e) => e.assistance), colour: ASSISTANCE_COLOUR }],
    reference:
      average === null ? undefined : { value: Number(average.toFixed(2)), label: `average ${avgText}` },
  });
  return {
    id: 'below-average-assistance',
    title: 'Exhibitions below the average for assistance requests',
    answer:
      average === null
        ? 'No interactions in this period.'
        : `Average ${avgText} assistance requests per exhibition (over the ${reporting} that reported). ` +
          (exhibitions.length === 0 ? 'None is below it.' : `Below it: ${names(exhibitions)}.`) +
          (noData.length > 0 ? ` No data from ${names(noData)}.` : ''),
    blocks: [
      {
        table: {
          columns: [{ label: 'exhibition' }, { label: 'assistance', numeric: true }, { label: 'vs average' }],
          rows: all.map((e) => [
            exhibitionLabel(e),
            String(e.assistance),
            missing.has(e.site) ? 'no data' : below.has(e.site) ? 'below' : 'at or above',
          ]),
        },
        chart: {
          description: 'Assistance requests per exhibition against their average.',
          option: chartOption,
        },
      },
    ],
  };
}

export function buildSections(a: Answers): Section[] {
  return [
    mostVisited(a),
    averageRating(a),
    ratingsByHour(a),
    topRatings(a),
    positiveBeforeAfter(a),
    requests(a),
    floorsAndDepartments(a),
    belowAverageAssistance(a, a.requestsByExhibition),
  ];
}
