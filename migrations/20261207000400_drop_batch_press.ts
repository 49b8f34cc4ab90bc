// The contract step of the leaner DUPLICATE registry (20261207000300): once no worker of a release that
// writes batch_press is left, its rows move to batch_line (every line's raw bytes) and batch_duplicate (the
// keys of the lines that are not accepted), and batch_press goes. An accepted line's key is its interaction
// row's. The way down rebuilds batch_press row for row from the same three places.
import type { Knex } from 'knex';

export const phase = 'contract';

// Frozen here, like every migration: batch/partitions.ts and batch/interaction-kinds.ts hold the same.
const BATCH_WRITE_LOCK = `select pg_advisory_xact_lock(hashtextextended('kiosk-pipeline batch load', 0))`;
const KINDS = [
  { code: 0, parent: 'rating_interaction', value: 'rating_value' },
  { code: 1, parent: 'request_interaction', value: 'request_value' },
];
const NAME = 'migration 20261207000400_drop_batch_press';

const count = async (knex: Knex, sql: string) =>
  Number((await knex.raw<{ rows: { n: string }[] }>(sql)).rows[0]!.n);

export async function up(knex: Knex): Promise<void> {
  // A load that started before waits for nothing more: it holds the lock until it commits.
  await knex.raw(BATCH_WRITE_LOCK);
  await knex.raw('truncate batch_line, batch_duplicate');
  await knex.raw(`insert into batch_line (source_object, source_line, raw)
    select source_object, source_line, raw from batch_press`);
  // A registered line whose accepted row has its key is known by that row; every other one is a DUPLICATE.
  await knex.raw(`insert into batch_duplicate (kind, exhibition_id, event_at, value, source_object, source_line)
    select b.kind, b.exhibition_id, b.event_at, b.value, b.source_object, b.source_line from batch_press b
    where ${KINDS.map(
      ({ code, parent, value }) => `not exists (select 1 from ${parent} t where b.kind = ${code}
        and t.source_object = b.source_object and t.source_line = b.source_line and t.event_at = b.event_at
        and t.exhibition_id = b.exhibition_id and t.${value} = b.value)`,
    ).join(' and ')}`);
  const presses = await count(knex, 'select count(*) as n from batch_press');
  const duplicates = await count(knex, 'select count(*) as n from batch_duplicate');
  const accepted = await count(
    knex,
    `select ${KINDS.map(
      ({ parent }) => `(select count(*) from ${parent} where source_object is not null)`,
    ).join(' + ')} as n`,
  );
  const unregistered = await count(
    knex,
    `select ${KINDS.map(
      ({ parent }) => `(select count(*) from ${parent} t where t.source_object is not null and not exists (
        select 1 from batch_line l where l.source_object = t.source_object and l.source_line = t.source_line))`,
    ).join(' + ')} as n`,
  );
  if (presses !== accepted + duplicates || unregistered > 0) {
    // The way down could not give batch_press back as it is: change nothing.
    throw new Error(
      `${NAME}: batch_press has ${presses} lines, but the interaction tables hold ${accepted} batch rows ` +
        `(${unregistered} of them not in batch_press) and ${duplicates} lines are not accepted; nothing ` +
        `was changed`,
    );
  }
  await knex.raw('drop table batch_press');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(BATCH_WRITE_LOCK);
  // As 20261130000200 made it.
  await knex.raw(`
    create table batch_press (
      kind          smallint not null check (kind in (0, 1)), -- 0 rating, 1 request
      exhibition_id smallint not null,
      event_at      timestamptz not null,
      value         smallint not null,
      source_object text not null,
      source_line   integer not null,
      raw           bytea, -- the line as read; null only for presses moved here from the per-object tables
      primary key (source_object, source_line)
    );`);
  await knex.raw(`insert into batch_press (kind, exhibition_id, event_at, value, source_object, source_line, raw)
    select k.kind, k.exhibition_id, k.event_at, k.value, k.source_object, k.source_line, l.raw
    from (${KINDS.map(
      ({ code, parent, value }) => `select ${code} as kind, exhibition_id, event_at, ${value} as value,
        source_object, source_line from ${parent} where source_object is not null`,
    ).join(' union all ')}
      union all select kind, exhibition_id, event_at, value, source_object, source_line from batch_duplicate) k
    left join batch_line l using (source_object, source_line)`);
  await knex.raw(`create index batch_press_judge on batch_press
    (kind, exhibition_id, event_at, value, source_object collate "C", source_line)`);
  // The registry is batch_press again; a later contract step fills these afresh.
  await knex.raw('truncate batch_line, batch_duplicate');
}
