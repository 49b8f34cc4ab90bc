// What one dashboard refresh shows, for one date range: the figures of both views and their charts as SVG.
// Read in one repeatable-read transaction together with the data version, so the version a client holds
// always describes exactly the figures it displays.
import type { Knex } from 'knex';
import { RATING_LABELS } from '../answers';
import {
  ASSISTANCE_COLOUR,
  EMERGENCY_COLOUR,
  barChart,
  hourLabel,
  ratingDistributionChart,
  ratingsByHourChart,
  renderSvg,
  requestHeatmap,
} from '../charts';
import {
  dataVersion,
  exhibitionFigures,
  hourFigures,
  latestEmergencies,
  requestsByExhibitionHour,
  type DataVersion,
  type EmergencyRow,
} from '../queries';
import type { DateRange } from '../range';

export const LATEST_EMERGENCIES = 10;

export interface Snapshot {
  version: string;
  range: { from: string | null; to: string | null };
  generatedAt: string;
  totals: { visits: number; avgRating: number | null; assistance: number; emergencies: number };
  manager: {
    exhibitions: {
      site: number;
      publicId: string;
      name: string;
      visits: number;
      avgRating: number | null;
      ratingCounts: number[];
    }[];
    hours: { hour: number; ratings: number; avgRating: number | null }[];
    charts: { popularity: string; distribution: string; byHour: string };
  };
  security: {
    exhibitions: {
      site: number;
      publicId: string;
      name: string;
      floor: string;
      assistance: number;
      emergencies: number;
    }[];
    hours: { hour: number; assistance: number; emergencies: number }[];
    latestEmergencies: EmergencyRow[];
    charts: { byExhibition: string; byHour: string; heatmap: string };
  };
}

export function versionString(v: DataVersion): string {
  return `${v.maxRatingId}.${v.maxRequestId}`;
}

/** Opening hours, shown when the range has no data so the hour charts keep their shape. */
const DEFAULT_HOURS = { first: 8, last: 18 };

function span(hours: number[]): number[] {
  const first = hours.length ? Math.min(...hours) : DEFAULT_HOURS.first;
  const last = hours.length ? Math.max(...hours) : DEFAULT_HOURS.last;
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

export async function buildSnapshot(knex: Knex, range: DateRange, now = new Date()): Promise<Snapshot> {
  const read = await knex.transaction(
    async (trx) => ({
      version: await dataVersion(trx),
      exhibitions: await exhibitionFigures(trx, range),
      hours: await hourFigures(trx, range),
      cells: await requestsByExhibitionHour(trx, range),
      emergencies: await latestEmergencies(trx, range, LATEST_EMERGENCIES),
    }),
    { isolationLevel: 'repeatable read', readOnly: true },
  );
  const { exhibitions } = read;
  const hourList = span(read.hours.map((h) => h.hour));
  const byHour = new Map(read.hours.map((h) => [h.hour, h]));
  const hourRows = hourList.map((hour) => {
    const h = byHour.get(hour);
    return {
      hour,
      ratings: h?.ratings ?? 0,
      avgRating: h?.avgRating ?? null,
      assistance: h?.assistance ?? 0,
      emergencies: h?.emergencies ?? 0,
    };
  });
  // The overall average from the counts, exactly, rather than re-weighting rounded averages.
  const counts = [0, 1, 2, 3, 4].map((v) => exhibitions.reduce((s, e) => s + (e.ratingCounts[v] ?? 0), 0));
  const ratings = counts.reduce((a, b) => a + b, 0);
  const ratingSum = counts.reduce((sum, n, v) => sum + n * v, 0);
  const names = exhibitions.map((e) => e.name);
  const siteIndex = new Map(exhibitions.map((e, i) => [e.site, i]));
  const requestSeries = (rows: { assistance: number; emergencies: number }[]) => [
    { name: 'assistance', values: rows.map((r) => r.assistance), colour: ASSISTANCE_COLOUR },
    { name: 'emergency', values: rows.map((r) => r.emergencies), colour: EMERGENCY_COLOUR },
  ];

  return {
    version: versionString(read.version),
    range: { from: range.from ?? null, to: range.to ?? null },
    generatedAt: now.toISOString(),
    totals: {
      visits: ratings,
      avgRating: ratings === 0 ? null : ratingSum / ratings,
      assistance: exhibitions.reduce((s, e) => s + e.assistance, 0),
      emergencies: exhibitions.reduce((s, e) => s + e.emergencies, 0),
    },
    manager: {
      exhibitions: exhibitions.map((e) => ({
        site: e.site,
        publicId: e.publicId,
        name: e.name,
        visits: e.ratings,
        avgRating: e.avgRating,
        ratingCounts: e.ratingCounts,
      })),
      hours: hourRows.map((h) => ({ hour: h.hour, ratings: h.ratings, avgRating: h.avgRating })),
      charts: {
        popularity: renderSvg(
          barChart({
            categories: names,
            valueName: 'visits',
            horizontal: true,
            series: [
              { name: 'visits', values: exhibitions.map((e) => e.ratings), colour: ASSISTANCE_COLOUR },
            ],
          }),
          'Visits (rating presses) per exhibition.',
        ),
        distribution: renderSvg(
          ratingDistributionChart(
            exhibitions.map((e) => ({ label: e.name, counts: e.ratingCounts })),
            true,
          ),
          `Share of each rating (${RATING_LABELS.join(', ')}) per exhibition.`,
        ),
        byHour: renderSvg(ratingsByHourChart(hourRows), 'Ratings per London hour with the average rating.'),
      },
    },
    security: {
      exhibitions: exhibitions.map((e) => ({
        site: e.site,
        publicId: e.publicId,
        name: e.name,
        floor: e.floor,
        assistance: e.assistance,
        emergencies: e.emergencies,
      })),
      hours: hourRows.map((h) => ({ hour: h.hour, assistance: h.assistance, emergencies: h.emergencies })),
      latestEmergencies: read.emergencies,
      charts: {
        byExhibition: renderSvg(
          barChart({
            categories: names,
            valueName: 'requests',
            horizontal: true,
            series: requestSeries(exhibitions),
          }),
          'Assistance and emergency requests per exhibition.',
        ),
        byHour: renderSvg(
          barChart({
            categories: hourRows.map((h) => hourLabel(h.hour)),
            valueName: 'requests',
            stacked: true,
            series: requestSeries(hourRows),
          }),
          'Assistance and emergency requests per London hour.',
        ),
        heatmap: renderSvg(
          requestHeatmap(
            names,
            hourList,
            read.cells.map((c) => ({
              exhibition: siteIndex.get(c.site) ?? 0,
              hourIndex: hourList.indexOf(c.hour),
              value: c.assistance + c.emergencies,
            })),
          ),
          'Requests (assistance and emergency) per exhibition and London hour.',
          { width: 560, height: 340 },
        ),
      },
    },
  };
}
