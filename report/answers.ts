// The answers to LMNH's questions, derived from the figures without touching the database: pure, so each
// rule (ties, empty ranges, what "below average" averages over) is unit-tested on its own.
import type { ReportData } from './data';
import type { ExhibitionFigures, Figures, GroupFigures, HourFigures } from './queries';

export const RATING_LABELS = ['Terrible', 'Bad', 'Neutral', 'Good', 'Amazing'] as const;

export interface ExhibitionRef {
  site: number;
  publicId: string;
  name: string;
}

export interface Share {
  count: number;
  of: number;
  /** count / of, null when `of` is 0. */
  share: number | null;
}

export interface Answers {
  /** Exhibitions ranked by visits (rating presses), most first; `top` holds every exhibition tied first. */
  mostVisited: {
    top: ExhibitionRef[];
    visits: number;
    ranking: (ExhibitionRef & { visits: number; interactions: number })[];
  };
  /** Highest average first; exhibitions without ratings last. */
  averageRating: (ExhibitionRef & { avgRating: number | null; ratings: number })[];
  /** Every hour from the first to the last with data, so gaps show as zeros rather than vanish. */
  ratingsByHour: { hour: number; ratings: number; avgRating: number | null; ratingCounts: number[] }[];
  topRatingShare: (ExhibitionRef & Share)[];
  positiveBeforeAfter1pm: {
    before: Share;
    after: Share;
    byExhibition: (ExhibitionRef & { before: Share; after: Share })[];
  };
  requestsByExhibition: (ExhibitionRef & RequestCounts)[];
  requestsByFloor: ({ floor: string } & RequestCounts)[];
  requestsByHour: ({ hour: number } & RequestCounts)[];
  /** Highest average first; groups without ratings last. */
  floorsByRating: GroupRating[];
  departmentsByRating: GroupRating[];
  belowAverageAssistance: {
    /** Mean assistance requests per reporting exhibition; null when none reported. */
    average: number | null;
    /** Exhibitions averaged over: those with at least one interaction in the range. */
    reporting: number;
    exhibitions: (ExhibitionRef & { assistance: number })[];
    /** Catalogued exhibitions with no interaction in the range: no data, so neither below nor above. */
    noData: ExhibitionRef[];
  };
}

export interface RequestCounts {
  assistance: number;
  emergencies: number;
}

export interface GroupRating {
  name: string;
  avgRating: number | null;
  ratings: number;
  exhibitions: number;
}

function ref(e: ExhibitionFigures): ExhibitionRef {
  return { site: e.site, publicId: e.publicId, name: e.name };
}

export function share(count: number, of: number): Share {
  return { count, of, share: of === 0 ? null : count / of };
}

/** Descending by a nullable number, nulls last; ties keep their input order (site, name). */
function byDescending<T>(key: (t: T) => number | null): (a: T, b: T) => number {
  return (a, b) => {
    const [x, y] = [key(a), key(b)];
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return y - x;
  };
}

function interactions(f: Figures): number {
  return f.ratings + f.assistance + f.emergencies;
}

export function fillHours<T extends { hour: number }>(rows: readonly T[], empty: (hour: number) => T): T[] {
  if (rows.length === 0) return [];
  const byHour = new Map(rows.map((r) => [r.hour, r]));
  const hours = rows.map((r) => r.hour);
  const out: T[] = [];
  for (let h = Math.min(...hours); h <= Math.max(...hours); h++) out.push(byHour.get(h) ?? empty(h));
  return out;
}

function groupRatings(groups: readonly GroupFigures[]): GroupRating[] {
  return groups
    .map((g) => ({ name: g.name, avgRating: g.avgRating, ratings: g.ratings, exhibitions: g.exhibitions }))
    .sort(byDescending((g) => g.avgRating));
}

function mostVisited(exhibitions: readonly ExhibitionFigures[]): Answers['mostVisited'] {
  const ranking = exhibitions
    .map((e) => ({ ...ref(e), visits: e.ratings, interactions: interactions(e) }))
    .sort(byDescending((e) => e.visits));
  const visits = ranking[0]?.visits ?? 0;
  // With no visits at all there is no most visited exhibition, not a tie between all of them.
  const top =
    visits === 0
      ? []
      : ranking
          .filter((e) => e.visits === visits)
          .map(({ site, publicId, name }) => ({ site, publicId, name }));
  return { top, visits, ranking };
}

function belowAverageAssistance(
  exhibitions: readonly ExhibitionFigures[],
): Answers['belowAverageAssistance'] {
  const reporting = exhibitions.filter((e) => interactions(e) > 0);
  const average =
    reporting.length === 0 ? null : reporting.reduce((sum, e) => sum + e.assistance, 0) / reporting.length;
  return {
    average,
    reporting: reporting.length,
    exhibitions:
      average === null
        ? []
        : reporting
            .filter((e) => e.assistance < average)
            .map((e) => ({ ...ref(e), assistance: e.assistance })),
    noData: exhibitions.filter((e) => interactions(e) === 0).map(ref),
  };
}

function emptyHour(hour: number): HourFigures {
  return {
    hour,
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
  };
}

export function deriveAnswers(data: ReportData): Answers {
  const { exhibitions } = data;
  const hours = fillHours(data.hours, emptyHour);
  const sum = (pick: (e: ExhibitionFigures) => number) => exhibitions.reduce((s, e) => s + pick(e), 0);
  return {
    mostVisited: mostVisited(exhibitions),
    averageRating: exhibitions
      .map((e) => ({ ...ref(e), avgRating: e.avgRating, ratings: e.ratings }))
      .sort(byDescending((e) => e.avgRating)),
    ratingsByHour: hours.map((h) => ({
      hour: h.hour,
      ratings: h.ratings,
      avgRating: h.avgRating,
      ratingCounts: h.ratingCounts,
    })),
    topRatingShare: exhibitions.map((e) => ({ ...ref(e), ...share(e.ratingCounts[4] ?? 0, e.ratings) })),
    positiveBeforeAfter1pm: {
      before: share(
        sum((e) => e.positiveBefore1pm),
        sum((e) => e.ratingsBefore1pm),
      ),
      after: share(
        sum((e) => e.positiveAfter1pm),
        sum((e) => e.ratingsAfter1pm),
      ),
      byExhibition: exhibitions.map((e) => ({
        ...ref(e),
        before: share(e.positiveBefore1pm, e.ratingsBefore1pm),
        after: share(e.positiveAfter1pm, e.ratingsAfter1pm),
      })),
    },
    requestsByExhibition: exhibitions.map((e) => ({
      ...ref(e),
      assistance: e.assistance,
      emergencies: e.emergencies,
    })),
    requestsByFloor: data.floors.map((f) => ({
      floor: f.name,
      assistance: f.assistance,
      emergencies: f.emergencies,
    })),
    requestsByHour: hours.map((h) => ({
      hour: h.hour,
      assistance: h.assistance,
      emergencies: h.emergencies,
    })),
    floorsByRating: groupRatings(data.floors),
    departmentsByRating: groupRatings(data.departments),
    belowAverageAssistance: belowAverageAssistance(exhibitions),
  };
}
