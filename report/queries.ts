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

// One definition of "the interactions in the range", shared by every query. The date bounds become two
// timestamptz values (London midnight of `from`, London midnight after `to`) so the filter can use the event_at
// indexes; casting event_at to a London date per row could not. Missing ends are +-infinity, which PostgreSQL
// carries through the date arithmetic. The bounds are read as scalar subqueries, not joined, so the
// partitioned tables skip the months outside the range while the query runs. Bindings: [from, to].
const BOUNDS = `
  bounds as (
    select (coalesce(?::date, '-infinity'::date))::timestamp at time zone ${LONDON} as lo,
           (coalesce(?::date, 'infinity'::date) + 1)::timestamp at time zone ${LONDON} as hi
  )`;
const INTERACTIONS = `${BOUNDS},
  interaction as (
    select r.exhibition_id, r.event_at at time zone ${LONDON} as local_at,
           r.rating_value, null::smallint as request_value
    from rating_interaction r
    where r.event_at >= (select lo from bounds) and r.event_at < (select hi from bounds)
    union all
    select q.exhibition_id, q.event_at at time zone ${LONDON},
           null::smallint, q.request_value
    from request_interaction q
    where q.event_at >= (select lo from bounds) and q.event_at < (select hi from bounds)
  )`;

// The figures computed for any grouping (exhibition, floor, department, hour); `i` is the interaction alias.
// count(rating_value) counts ratings only, because request rows carry a null rating.
const FIGURES = `
  count(i.rating_value)::int as "ratings",
  avg(i.rating_value)::float8 as "avgRating",
  array[
    count(*) filter (where i.rating_value = 0), count(*) filter (where i.rating_value = 1),
    count(*) filter (where i.rating_value = 2), count(*) filter (where i.rating_value = 3),
    count(*) filter (where i.rating_value = 4)
  ]::int[] as "ratingCounts",
  count(*) filter (where i.rating_value >= 3)::int as "positive",
  count(*) filter (where i.rating_value is not null and i.local_at::time < '13:00')::int as "ratingsBefore1pm",
  count(*) filter (where i.rating_value >= 3 and i.local_at::time < '13:00')::int as "positiveBefore1pm",
  count(*) filter (where i.rating_value is not null and i.local_at::time >= '13:00')::int as "ratingsAfter1pm",
  count(*) filter (where i.rating_value >= 3 and i.local_at::time >= '13:00')::int as "positiveAfter1pm",
  count(*) filter (where i.request_value = 0)::int as "assistance",
  count(*) filter (where i.request_value = 1)::int as "emergencies"`;

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
    `with ${INTERACTIONS}
     select e.site, e.public_id as "publicId", e.name, f.name as floor, d.name as department, ${FIGURES}
     from exhibition e
     join floor f using (floor_id)
     join department d using (department_id)
     left join interaction i using (exhibition_id)
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
    `with ${INTERACTIONS}
     select g.name, count(distinct e.exhibition_id)::int as "exhibitions", ${FIGURES}
     from ${table} g
     left join exhibition e using (${table}_id)
     left join interaction i using (exhibition_id)
     group by g.${table}_id, g.name
     order by g.name`,
    bindings(range),
  );
}

/** Hours of the London day that had at least one interaction. */
export function hourFigures(knex: Knex, range: DateRange): Promise<HourFigures[]> {
  return rows(
    knex,
    `with ${INTERACTIONS}
     select extract(hour from i.local_at)::int as hour, ${FIGURES}
     from interaction i
     group by 1
     order by 1`,
    bindings(range),
  );
}

/** Requests per exhibition and London hour, only the cells that had one. */
export function requestsByExhibitionHour(knex: Knex, range: DateRange): Promise<ExhibitionHourRequests[]> {
  return rows(
    knex,
    `with ${INTERACTIONS}
     select e.site, extract(hour from i.local_at)::int as hour,
            count(*) filter (where i.request_value = 0)::int as "assistance",
            count(*) filter (where i.request_value = 1)::int as "emergencies"
     from interaction i join exhibition e using (exhibition_id)
     where i.request_value is not null
     group by 1, 2
     order by 1, 2`,
    bindings(range),
  );
}

export async function overview(knex: Knex, range: DateRange): Promise<Overview> {
  const [row] = await rows<Overview>(
    knex,
    `with ${INTERACTIONS}
     select count(i.rating_value)::int as "ratings", count(i.request_value)::int as "requests",
            to_char(min(i.local_at), 'YYYY-MM-DD HH24:MI:SS') as "firstLocal",
            to_char(max(i.local_at), 'YYYY-MM-DD HH24:MI:SS') as "lastLocal",
            count(distinct i.local_at::date)::int as "days"
     from interaction i`,
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
