// The interaction_count triggers of 20261130000801 made cheaper, keeping the same counts and the same folding
// (a statement appends its deltas and folds the rows of its keys that no other transaction is folding):
// - a statement's rows are grouped once, by London hour, exhibition and value (a few thousand groups for a
//   load), and the 'h', 'm' and 'd' deltas are summed from those groups instead of from every row three times;
// - each changed key is found by an index probe on its whole key: `is not distinct from` could use only
//   (grain, day), so each probe walked the day's (or month's) other keys and their dead versions.
// The truncate functions and the triggers themselves are unchanged. Down restores 20261130000801's bodies.
import type { Knex } from 'knex';

// Frozen here, like every migration (20261130000801 holds the same).
const KINDS = [
  {
    kind: 'rating',
    table: 'rating_interaction',
    counts: (v: string) =>
      `(${v} = 0)::int, (${v} = 1)::int, (${v} = 2)::int, (${v} = 3)::int, (${v} = 4)::int, 0, 0`,
    value: 'rating_value',
    // The value each count column counts.
    valueOf: { r0: 0, r1: 1, r2: 2, r3: 3, r4: 4 } as Record<string, number>,
  },
  {
    kind: 'request',
    table: 'request_interaction',
    counts: (v: string) => `0, 0, 0, 0, 0, (${v} = 0)::int, (${v} = 1)::int`,
    value: 'request_value',
    valueOf: { assistance: 0, emergencies: 1 } as Record<string, number>,
  },
];
type Kind = (typeof KINDS)[number];
type Sources = [string, 1 | -1][];
const N = ['r0', 'r1', 'r2', 'r3', 'r4', 'assistance', 'emergencies'];
const SUMS = N.map((n) => `sum(${n})`).join(', ');
const LONDON = `'Europe/London'`;
// Both bodies end alike: the folded rows deleted, and the deltas plus what they held appended, one row a key.
const FOLD = `
    gone as (
      delete from interaction_count c where c.id = any (array(select id from folded))
      returning c.grain, c.day, c.exhibition_id, c.hour, ${N.map((n) => `c.${n}`).join(', ')}
    )
    insert into interaction_count (grain, day, exhibition_id, hour, ${N.join(', ')})
    select grain, day, exhibition_id, hour, ${SUMS}
    from (select * from delta union all select * from gone) x
    group by grain, day, exhibition_id, hour
    having ${N.map((n) => `sum(${n}) <> 0`).join(' or ')};`;

/** The change a statement made to one kind's rows: `sources` are transition tables with a sign each. */
function applyChangesLean(k: Kind, sources: Sources): string {
  const binned = sources
    .map(
      ([table, sign]) => `
      select date_trunc('hour', t.event_at at time zone ${LONDON}) as local_hour, t.exhibition_id,
             t.${k.value} as value, ${sign} * count(*)::int as n
      from ${table} t group by 1, 2, 3`,
    )
    .join(' union all ');
  const pivot = N.map((n) =>
    k.valueOf[n] === undefined
      ? `0 as ${n}`
      : `coalesce(sum(n) filter (where value = ${k.valueOf[n]}), 0)::int as ${n}`,
  ).join(', ');
  const summed = N.map((n) => `sum(${n})::int`).join(', ');
  return `
    with binned (local_hour, exhibition_id, value, n) as (${binned}),
    hourly as (
      select local_hour::date as day, exhibition_id, extract(hour from local_hour)::smallint as hour, ${pivot}
      from binned group by 1, 2, 3
    ),
    delta as (
      select 'h'::text as grain, day, exhibition_id, hour, ${N.join(', ')} from hourly
      union all
      select 'm', date_trunc('month', day::timestamp)::date, exhibition_id, hour, ${summed}
      from hourly group by 2, 3, 4
      union all
      select 'd', day, null::smallint, null::smallint, ${summed}
      from hourly group by 2
    ),
    folded as (
      -- One index probe on the whole key per changed key (a join could hash the whole table, whose size
      -- grows with the years); a 'd' row's exhibition and hour are null (the table's check).
      select f.id from delta d cross join lateral (
        select c.id from interaction_count c
        where c.grain = d.grain and c.day = d.day and c.exhibition_id = d.exhibition_id and c.hour = d.hour
        for update of c skip locked
      ) f where d.grain <> 'd'
      union all
      select f.id from delta d cross join lateral (
        select c.id from interaction_count c
        where c.grain = 'd' and c.day = d.day and c.exhibition_id is null and c.hour is null
        for update of c skip locked
      ) f where d.grain = 'd'
    ),${FOLD}`;
}

// 20261130000801's body, text for text, for the way down.
/** The change a statement made to one kind's rows: `sources` are transition tables with a sign each. */
function applyChanges(k: (typeof KINDS)[number], sources: [string, 1 | -1][]): string {
  const rows = sources
    .map(
      ([table, sign]) => `
      select (t.event_at at time zone ${LONDON}) as local_at, t.exhibition_id, ${sign} as sign,
             ${k.counts(`t.${k.value}`)}
      from ${table} t`,
    )
    .join(' union all ');
  const signed = N.map((n) => `sum(sign * ${n}) as ${n}`).join(', ');
  return `
    with changed (local_at, exhibition_id, sign, ${N.join(', ')}) as (${rows}),
    delta as (
      select 'h'::text as grain, local_at::date as day, exhibition_id,
             extract(hour from local_at)::smallint as hour, ${signed}
      from changed group by 2, 3, 4
      union all
      select 'm', date_trunc('month', local_at)::date, exhibition_id, extract(hour from local_at)::smallint,
             ${signed}
      from changed group by 2, 3, 4
      union all
      select 'd', local_at::date, null::smallint, null::smallint, ${signed}
      from changed group by 2
    ),
    folded as (
      -- One index probe per changed key (a join could hash the whole table, whose size grows with the years).
      select f.id from delta d cross join lateral (
        select c.id from interaction_count c
        where c.grain = d.grain and c.day = d.day
          and c.exhibition_id is not distinct from d.exhibition_id and c.hour is not distinct from d.hour
        for update of c skip locked
      ) f
    ),${FOLD}`;
}

const fn = (kind: string, op: string) => `interaction_count_${kind}_${op}`;

/** The insert, delete and update functions with bodies made by `apply` (the triggers call them by name). */
function replaceFunctions(k: Kind, apply: (k: Kind, sources: Sources) => string): string {
  const body = (sql: string) => `returns trigger language plpgsql as $body$
    begin ${sql} return null; end $body$;`;
  return `
    create or replace function ${fn(k.kind, 'insert')}() ${body(apply(k, [['new_rows', 1]]))}
    create or replace function ${fn(k.kind, 'delete')}() ${body(apply(k, [['old_rows', -1]]))}
    create or replace function ${fn(k.kind, 'update')}() ${body(
      apply(k, [
        ['new_rows', 1],
        ['old_rows', -1],
      ]),
    )}`;
}

export async function up(knex: Knex): Promise<void> {
  for (const k of KINDS) await knex.raw(replaceFunctions(k, applyChangesLean));
}

export async function down(knex: Knex): Promise<void> {
  for (const k of KINDS) await knex.raw(replaceFunctions(k, applyChanges));
}
