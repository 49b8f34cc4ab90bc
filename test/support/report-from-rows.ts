// The report's figures computed from the interaction rows themselves, the way report/queries.ts did before
// it read interaction_count: an independent computation to compare the report (and the counts) against.
import type { Knex } from 'knex';
import type {
  ExhibitionFigures,
  ExhibitionHourRequests,
  GroupFigures,
  HourFigures,
  Overview,
} from '../../report/queries';
import type { DateRange } from '../../report/range';

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

function bindings(range: DateRange): [string | null, string | null] {
  return [range.from ?? null, range.to ?? null];
}

async function rows<T>(knex: Knex, sql: string, values: readonly unknown[]): Promise<T[]> {
  const result = await knex.raw<{ rows: T[] }>(sql, values as Knex.RawBinding[]);
  return result.rows;
}

/** Every catalogued exhibition, with zeros (and a null average) where its kiosk sent nothing in the range. */
function exhibitionFigures(knex: Knex, range: DateRange): Promise<ExhibitionFigures[]> {
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
function groupFigures(knex: Knex, range: DateRange, by: 'floor' | 'department'): Promise<GroupFigures[]> {
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
function hourFigures(knex: Knex, range: DateRange): Promise<HourFigures[]> {
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
function requestsByExhibitionHour(knex: Knex, range: DateRange): Promise<ExhibitionHourRequests[]> {
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

async function overview(knex: Knex, range: DateRange): Promise<Overview> {
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

/** Everything the report and the dashboard aggregate, from the rows, in one repeatable-read snapshot. */
export function figuresFromRows(knex: Knex, range: DateRange) {
  return knex.transaction(
    async (trx) => ({
      overview: await overview(trx, range),
      exhibitions: await exhibitionFigures(trx, range),
      floors: await groupFigures(trx, range, 'floor'),
      departments: await groupFigures(trx, range, 'department'),
      hours: await hourFigures(trx, range),
      cells: await requestsByExhibitionHour(trx, range),
    }),
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

/** Keys whose counts in interaction_count differ from a count of the rows (empty when they are exact). */
export async function countMismatches(knex: Knex): Promise<unknown[]> {
  const r = await knex.raw<{ rows: unknown[] }>(`
    with changed as (
      select event_at at time zone 'Europe/London' as local_at, exhibition_id,
             (rating_value = 0)::int as r0, (rating_value = 1)::int as r1, (rating_value = 2)::int as r2,
             (rating_value = 3)::int as r3, (rating_value = 4)::int as r4, 0 as assistance, 0 as emergencies
      from rating_interaction
      union all
      select event_at at time zone 'Europe/London', exhibition_id, 0, 0, 0, 0, 0,
             (request_value = 0)::int, (request_value = 1)::int
      from request_interaction
    ),
    expected as (
      select 'h' as grain, local_at::date as day, exhibition_id, extract(hour from local_at)::smallint as hour,
             sum(r0) r0, sum(r1) r1, sum(r2) r2, sum(r3) r3, sum(r4) r4, sum(assistance) a, sum(emergencies) e
      from changed group by 2, 3, 4
      union all
      select 'm', date_trunc('month', local_at)::date, exhibition_id, extract(hour from local_at)::smallint,
             sum(r0), sum(r1), sum(r2), sum(r3), sum(r4), sum(assistance), sum(emergencies)
      from changed group by 2, 3, 4
      union all
      select 'd', local_at::date, null, null, sum(r0), sum(r1), sum(r2), sum(r3), sum(r4), sum(assistance),
             sum(emergencies)
      from changed group by 2
    ),
    actual as (
      select grain, day, exhibition_id, hour, sum(r0) r0, sum(r1) r1, sum(r2) r2, sum(r3) r3, sum(r4) r4,
             sum(assistance) a, sum(emergencies) e
      from interaction_count group by 1, 2, 3, 4
      having sum(r0 + r1 + r2 + r3 + r4 + assistance + emergencies) <> 0
    )
    select * from ((table expected except table actual) union all (table actual except table expected)) x
    order by 1, 2, 3, 4`);
  return r.rows;
}
