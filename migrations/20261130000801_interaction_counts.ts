// interaction_count: how many presses of each value per London day, exhibition and London hour, kept exact
// by statement triggers in the transaction of every statement that writes the interaction tables (batch and
// stream loads, reprocesses, replays, migrations), so the report sums a few thousand counts instead of reading
// years of rows (report/queries.ts). Three grains:
// - 'h': one exhibition, one London hour of one London day;
// - 'm': the same for a whole month (day = its first), so a range of years reads months, and days only at its
//   ragged ends;
// - 'd': a London day's totals (exhibition and hour null), for the days with data and the first and last.
//
// Writers never wait for each other here: each statement appends its changes as rows, and folds in the rows
// of the same keys that no other transaction is folding (FOR UPDATE SKIP LOCKED), so a key has a few rows at
// most and no row is ever updated in place. A key's true count is the sum of its rows. A partition dropped or
// truncated directly (not through its parent) would leave the counts stale: nothing does that.
import type { Knex } from 'knex';

// Frozen here, like every migration.
const KINDS = [
  {
    kind: 'rating',
    table: 'rating_interaction',
    counts: (v: string) =>
      `(${v} = 0)::int, (${v} = 1)::int, (${v} = 2)::int, (${v} = 3)::int, (${v} = 4)::int, 0, 0`,
    value: 'rating_value',
    zero: 'r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0',
  },
  {
    kind: 'request',
    table: 'request_interaction',
    counts: (v: string) => `0, 0, 0, 0, 0, (${v} = 0)::int, (${v} = 1)::int`,
    value: 'request_value',
    zero: 'assistance = 0, emergencies = 0',
  },
];
const N = ['r0', 'r1', 'r2', 'r3', 'r4', 'assistance', 'emergencies'];
const SUMS = N.map((n) => `sum(${n})`).join(', ');
const LONDON = `'Europe/London'`;

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
    ),
    gone as (
      delete from interaction_count c where c.id = any (array(select id from folded))
      returning c.grain, c.day, c.exhibition_id, c.hour, ${N.map((n) => `c.${n}`).join(', ')}
    )
    insert into interaction_count (grain, day, exhibition_id, hour, ${N.join(', ')})
    select grain, day, exhibition_id, hour, ${SUMS}
    from (select * from delta union all select * from gone) x
    group by grain, day, exhibition_id, hour
    having ${N.map((n) => `sum(${n}) <> 0`).join(' or ')};`;
}

const fn = (kind: string, op: string) => `interaction_count_${kind}_${op}`;

function triggerFunctions(k: (typeof KINDS)[number]): string {
  const body = (sql: string) => `returns trigger language plpgsql as $body$
    begin ${sql} return null; end $body$;`;
  return `
    create or replace function ${fn(k.kind, 'insert')}() ${body(applyChanges(k, [['new_rows', 1]]))}
    create or replace function ${fn(k.kind, 'delete')}() ${body(applyChanges(k, [['old_rows', -1]]))}
    create or replace function ${fn(k.kind, 'update')}() ${body(
      applyChanges(k, [
        ['new_rows', 1],
        ['old_rows', -1],
      ]),
    )}
    create or replace function ${fn(k.kind, 'truncate')}() ${body(`
      update interaction_count set ${k.zero};
      delete from interaction_count where ${N.map((n) => `${n} = 0`).join(' and ')};`)}
    create trigger interaction_count_insert after insert on ${k.table}
      referencing new table as new_rows for each statement execute function ${fn(k.kind, 'insert')}();
    create trigger interaction_count_delete after delete on ${k.table}
      referencing old table as old_rows for each statement execute function ${fn(k.kind, 'delete')}();
    create trigger interaction_count_update after update on ${k.table}
      referencing new table as new_rows old table as old_rows
      for each statement execute function ${fn(k.kind, 'update')}();
    create trigger interaction_count_truncate after truncate on ${k.table}
      for each statement execute function ${fn(k.kind, 'truncate')}();`;
}

/** Every existing row counted once, grouped per key (the build of the table from what is there). */
const BUILD = `
  with changed (local_at, exhibition_id, ${N.join(', ')}) as (
    ${KINDS.map(
      (k) => `select t.event_at at time zone ${LONDON}, t.exhibition_id, ${k.counts(`t.${k.value}`)}
    from ${k.table} t`,
    ).join(' union all ')}
  )
  insert into interaction_count (grain, day, exhibition_id, hour, ${N.join(', ')})
  select 'h', local_at::date, exhibition_id, extract(hour from local_at), ${SUMS}
  from changed group by 2, 3, 4
  union all
  select 'm', date_trunc('month', local_at)::date, exhibition_id, extract(hour from local_at), ${SUMS}
  from changed group by 2, 3, 4
  union all
  select 'd', local_at::date, null, null, ${SUMS}
  from changed group by 2;`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table interaction_count (
      id            bigint generated always as identity primary key,
      grain         text not null check (grain in ('h', 'm', 'd')),
      day           date not null,
      exhibition_id smallint,
      hour          smallint check (hour between 0 and 23),
      r0 integer not null, r1 integer not null, r2 integer not null, r3 integer not null, r4 integer not null,
      assistance integer not null, emergencies integer not null,
      check ((grain = 'd') = (exhibition_id is null and hour is null)),
      check (grain <> 'm' or extract(day from day) = 1)
    );
    create index interaction_count_key on interaction_count (grain, day, exhibition_id, hour);`);
  // Writers wait for the build (share mode), so no row is counted twice or missed.
  await knex.raw(`lock table rating_interaction, request_interaction in share mode`);
  await knex.raw(BUILD);
  for (const k of KINDS) await knex.raw(triggerFunctions(k));
  await knex.raw('analyze interaction_count');
}

export async function down(knex: Knex): Promise<void> {
  for (const k of KINDS) {
    await knex.raw(
      ['insert', 'delete', 'update', 'truncate']
        .map((op) => `drop trigger interaction_count_${op} on ${k.table}; drop function ${fn(k.kind, op)}();`)
        .join('\n'),
    );
  }
  await knex.raw('drop table interaction_count');
}
