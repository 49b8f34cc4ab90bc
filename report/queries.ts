// Every SQL statement behind the report and the dashboard, in one place to review.
//
// Definitions (README "Report and dashboard" repeats them for staff):
// - A visit is a rating press. A visitor rates once on leaving; requests are pressed during a visit by people
//   who may also rate, and an emergency is not a visit, so counting them would double-count people.
// - Hours, "before/after 1 pm" and the date filter use the Europe/London wall clock. 13:00:00 is "after".
// - Positive means rating >= 3 (Good, Amazing); a top rating is 4 (Amazing).
import type { Knex } from 'knex';
import type { DateRange } from './range';

const LONDON = `'Europe/London'`;

// The date bounds as two timestamptz values (London midnight of `from`, London midnight after `to`) so a filter
// on event_at can use its indexes; casting event_at to a London date per row could not. Missing ends are
// +-infinity, which PostgreSQL carries through the date arithmetic. The bounds are read as scalar subqueries,
// not joined, so the partitioned tables skip the months outside the range while the query runs.
// Bindings: [from, to].
const BOUNDS = `
  bounds as (
    select (coalesce(?::date, '-infinity'::date))::timestamp at time zone ${LONDON} as lo,
           (coalesce(?::date, 'infinity'::date) + 1)::timestamp at time zone ${LONDON} as hi
  )`;

// The figures are summed from interaction_count (migration 20261130000801: counts per London day, exhibition,
// London hour and value, kept exact by triggers in every writer's transaction) rather than from the rows, so
// no instant is converted to London time here and a range of years reads months of counts: whole months
// inside the range from the month grain, the days at its ends from the day grain. `span` holds those bounds
// (the whole months [month_lo, month_hi), when there are none both are the day after the range); `cell` is
// one (exhibition, hour) of the range with its rating counts r0..r4, assistance and emergencies. Counts
// summing to zero (rows added, then removed) are no data. Bindings: [from, to].
const SPAN = `
  range as (
    select coalesce(?::date, '-infinity'::date) as lo, coalesce(?::date, 'infinity'::date) as hi
  ),
  months as (
    select lo, hi,
           case when lo = date_trunc('month', lo::timestamp)::date then lo
                else (date_trunc('month', lo::timestamp) + interval '1 month')::date end as month_lo,
           date_trunc('month', (hi + 1)::timestamp)::date as month_hi
    from range
  ),
  span as (
    select lo, hi,
           case when month_lo < month_hi then month_lo else hi + 1 end as month_lo,
           case when month_lo < month_hi then month_hi else hi + 1 end as month_hi
    from months
  )`;
const COUNTED = `
  counted as (
    select c.* from interaction_count c
    where c.grain = 'm' and c.day >= (select month_lo from span) and c.day < (select month_hi from span)
    union all
    select c.* from interaction_count c
    where c.grain = 'h' and c.day >= (select lo from span) and c.day < (select month_lo from span)
    union all
    select c.* from interaction_count c
    where c.grain = 'h' and c.day >= (select month_hi from span) and c.day <= (select hi from span)
  )`;
const CELLS = `${SPAN}, ${COUNTED},
  cell as (
    select c.exhibition_id, c.hour, sum(c.r0) as r0, sum(c.r1) as r1, sum(c.r2) as r2, sum(c.r3) as r3,
           sum(c.r4) as r4, sum(c.assistance) as assistance, sum(c.emergencies) as emergencies
    from counted c
    group by c.exhibition_id, c.hour
    having sum(c.r0 + c.r1 + c.r2 + c.r3 + c.r4 + c.assistance + c.emergencies) <> 0
  )`;

// The figures computed for any grouping (exhibition, floor, department, hour); `i` is the cell alias, null
// where a left join found no cell. The average divides the same integer sum and count as avg() would.
const RATED = `(i.r0 + i.r1 + i.r2 + i.r3 + i.r4)`;
const POSITIVE = `(i.r3 + i.r4)`;
const FIGURES = `
  coalesce(sum(${RATED}), 0)::int as "ratings",
  (sum(i.r1 + 2 * i.r2 + 3 * i.r3 + 4 * i.r4) / nullif(sum(${RATED}), 0))::float8 as "avgRating",
  array[
    coalesce(sum(i.r0), 0), coalesce(sum(i.r1), 0), coalesce(sum(i.r2), 0),
    coalesce(sum(i.r3), 0), coalesce(sum(i.r4), 0)
  ]::int[] as "ratingCounts",
  coalesce(sum(${POSITIVE}), 0)::int as "positive",
  coalesce(sum(${RATED}) filter (where i.hour < 13), 0)::int as "ratingsBefore1pm",
  coalesce(sum(${POSITIVE}) filter (where i.hour < 13), 0)::int as "positiveBefore1pm",
  coalesce(sum(${RATED}) filter (where i.hour >= 13), 0)::int as "ratingsAfter1pm",
  coalesce(sum(${POSITIVE}) filter (where i.hour >= 13), 0)::int as "positiveAfter1pm",
  coalesce(sum(i.assistance), 0)::int as "assistance",
  coalesce(sum(i.emergencies), 0)::int as "emergencies"`;

export interface Figures {
  /** Rating presses: the visits. */
  ratings: number;
  /** Mean rating 0..4, null when there are no ratings. */
  avgRating: number | null;
  /** Presses of each rating value, index 0 (Terrible) .. 4 (Amazing). */
  ratingCounts: number[];
  positive: number;
  ratingsBefore1pm: number;
  positiveBefore1pm: number;
  ratingsAfter1pm: number;
  positiveAfter1pm: number;
  assistance: number;
  emergencies: number;
}

export interface ExhibitionFigures extends Figures {
  site: number;
  publicId: string;
  name: string;
  floor: string;
  department: string;
}

export interface GroupFigures extends Figures {
  /** The floor or department name. */
  name: string;
  exhibitions: number;
}

export interface HourFigures extends Figures {
  /** Hour of the day on the London clock, 0..23. */
  hour: number;
}

export interface ExhibitionHourRequests {
  site: number;
  hour: number;
  assistance: number;
  emergencies: number;
}

export interface Overview {
  ratings: number;
  requests: number;
  /** First and last interaction in the range, London wall clock 'YYYY-MM-DD HH:MM:SS'. */
  firstLocal: string | null;
  lastLocal: string | null;
  days: number;
}

export interface EmergencyRow {
  id: number;
  site: number;
  name: string;
  floor: string;
  /** London wall clock 'YYYY-MM-DD HH:MM:SS'. */
  localTime: string;
  source: 'batch' | 'stream';
}

export interface DataVersion {
  maxRatingId: number;
  maxRequestId: number;
}

function bindings(range: DateRange): [string | null, string | null] {
  return [range.from ?? null, range.to ?? null];
}

async function rows<T>(knex: Knex, sql: string, values: readonly unknown[]): Promise<T[]> {
  const result = await knex.raw<{ rows: T[] }>(sql, values as Knex.RawBinding[]);
  return result.rows;
}

/** Every catalogued exhibition, with zeros (and a null average) where its kiosk sent nothing in the range. */
export function exhibitionFigures(knex: Knex, range: DateRange): Promise<ExhibitionFigures[]> {
  return rows(
    knex,
    `with ${CELLS}
     select e.site, e.public_id as "publicId", e.name, f.name as floor, d.name as department, ${FIGURES}
     from exhibition e
     join floor f using (floor_id)
     join department d using (department_id)
     left join cell i using (exhibition_id)
     group by e.exhibition_id, f.name, d.name
     order by e.site`,
    bindings(range),
  );
}

/** One row per floor or department in the catalogue; averages weight every rating equally. */
export function groupFigures(
  knex: Knex,
  range: DateRange,
  by: 'floor' | 'department',
): Promise<GroupFigures[]> {
  const table = by === 'floor' ? 'floor' : 'department';
  return rows(
    knex,
    `with ${CELLS}
     select g.name, count(distinct e.exhibition_id)::int as "exhibitions", ${FIGURES}
     from ${table} g
     left join exhibition e using (${table}_id)
     left join cell i using (exhibition_id)
     group by g.${table}_id, g.name
     order by g.name`,
    bindings(range),
  );
}

/** Hours of the London day that had at least one interaction. */
export function hourFigures(knex: Knex, range: DateRange): Promise<HourFigures[]> {
  return rows(
    knex,
    `with ${CELLS}
     select i.hour::int as hour, ${FIGURES}
     from cell i
     group by 1
     order by 1`,
    bindings(range),
  );
}

/** Requests per exhibition and London hour, only the cells that had one. */
export function requestsByExhibitionHour(knex: Knex, range: DateRange): Promise<ExhibitionHourRequests[]> {
  return rows(
    knex,
    `with ${CELLS}
     select e.site, i.hour::int as hour,
            sum(i.assistance)::int as "assistance",
            sum(i.emergencies)::int as "emergencies"
     from cell i join exhibition e using (exhibition_id)
     where i.assistance + i.emergencies > 0
     group by 1, 2
     order by 1, 2`,
    bindings(range),
  );
}

/** The instants of both tables within the London day `ends` names by its prefix (first_, last_). */
function dayRows(end: 'first' | 'last'): string {
  return ['rating_interaction', 'request_interaction']
    .map(
      (table) => `select t.event_at from ${table} t
       where t.event_at >= (select ${end}_lo from ends) and t.event_at < (select ${end}_hi from ends)`,
    )
    .join(' union all ');
}

export async function overview(knex: Knex, range: DateRange): Promise<Overview> {
  // Days and totals from the counts; the first and last wall-clock times from the rows of the first and last
  // London day only (an index range each).
  const [row] = await rows<Overview>(
    knex,
    `with day_total as (
       select c.day, sum(c.r0 + c.r1 + c.r2 + c.r3 + c.r4) as ratings, sum(c.assistance + c.emergencies) as requests
       from interaction_count c
       where c.grain = 'd' and c.day >= coalesce(?::date, '-infinity'::date)
         and c.day <= coalesce(?::date, 'infinity'::date)
       group by c.day
       having sum(c.r0 + c.r1 + c.r2 + c.r3 + c.r4 + c.assistance + c.emergencies) <> 0
     ),
     ends as (
       select min(day)::timestamp at time zone ${LONDON} as first_lo,
              (min(day) + 1)::timestamp at time zone ${LONDON} as first_hi,
              max(day)::timestamp at time zone ${LONDON} as last_lo,
              (max(day) + 1)::timestamp at time zone ${LONDON} as last_hi
       from day_total
     ),
     first_day as (${dayRows('first')}),
     last_day as (${dayRows('last')})
     select coalesce(sum(t.ratings), 0)::int as "ratings", coalesce(sum(t.requests), 0)::int as "requests",
            (select to_char(min(f.event_at at time zone ${LONDON}), 'YYYY-MM-DD HH24:MI:SS') from first_day f)
              as "firstLocal",
            (select to_char(max(l.event_at at time zone ${LONDON}), 'YYYY-MM-DD HH24:MI:SS') from last_day l)
              as "lastLocal",
            count(t.day)::int as "days"
     from day_total t`,
    bindings(range),
  );
  if (row === undefined) throw new Error('overview query returned no row');
  return row;
}

/** The newest emergencies in the range, newest first, with where they came from (batch file or stream). */
export function latestEmergencies(knex: Knex, range: DateRange, limit: number): Promise<EmergencyRow[]> {
  return rows(
    knex,
    `with ${BOUNDS}
     select q.request_interaction_id as id, e.site, e.name, f.name as floor,
            to_char(q.event_at at time zone ${LONDON}, 'YYYY-MM-DD HH24:MI:SS') as "localTime",
            case when q.source_topic is null then 'batch' else 'stream' end as source
     from request_interaction q
     join exhibition e using (exhibition_id)
     join floor f using (floor_id)
     where q.request_value = 1 and q.event_at >= (select lo from bounds) and q.event_at < (select hi from bounds)
     order by q.event_at desc, q.request_interaction_id desc
     limit ?`,
    [...bindings(range), limit],
  );
}

/**
 * A cheap fingerprint of the interaction tables (two index look-ups), to tell whether anything new arrived
 * without re-running the aggregates. Ids only grow, and a reprocess re-inserts its rows with new ids.
 */
export async function dataVersion(knex: Knex): Promise<DataVersion> {
  const [row] = await rows<DataVersion>(
    knex,
    `select coalesce((select max(rating_interaction_id) from rating_interaction), 0)::float8 as "maxRatingId",
            coalesce((select max(request_interaction_id) from request_interaction), 0)::float8 as "maxRequestId"`,
    [],
  );
  if (row === undefined) throw new Error('version query returned no row');
  return row;
}
