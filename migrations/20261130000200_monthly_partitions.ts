// The interaction tables become declaratively partitioned by month of event_at (stream and batch rows in the
// same tables), replacing the per-object tables of 20261128000100 whose count grew with every object. A DEFAULT
// partition takes rows of a month that has no partition yet; activities/partitions.ts creates months as loads
// need them. batch_press registers every valid batch press (raw bytes included) so DUPLICATE can be judged
// again whenever an object is loaded or reprocessed (activities/batch-load.ts).
//
// Runs outside one transaction: thousands of per-object tables cannot be dropped (or, on the way down, made)
// in one transaction without exhausting the lock table. Each step commits on its own and a rerun resumes.
import type { Knex } from 'knex';
import { createHash } from 'node:crypto';
import { escapeLiteral as literal } from 'pg';

export const config = { transaction: false };

// Frozen here, like every migration.
const KINDS = [
  {
    kind: 'rating',
    parent: 'rating_interaction',
    id: 'rating_interaction_id',
    value: 'rating_value',
    code: 0,
  },
  {
    kind: 'request',
    parent: 'request_interaction',
    id: 'request_interaction_id',
    value: 'request_value',
    code: 1,
  },
];
const SOURCE_COLUMNS = `
  source_object    text,
  source_line      integer check (source_line >= 1),
  source_topic     text,
  source_partition integer check (source_partition >= 0),
  source_offset    bigint check (source_offset >= 0),
  constraint source_is_batch_or_stream check (
    (source_object is not null and source_line is not null
       and source_topic is null and source_partition is null and source_offset is null)
    or
    (source_object is null and source_line is null
       and source_topic is not null and source_partition is not null and source_offset is not null)
  )`;
const COLUMNS = (k: (typeof KINDS)[number]) =>
  `${k.id}, exhibition_id, ${k.value}, event_at, run_id, source_object, source_line, source_topic, ` +
  `source_partition, source_offset`;
// Tables dropped or made per transaction when moving per-object tables (each holds several locks).
const TABLES_PER_STEP = 200;

const objectTable = (kind: string, uri: string) =>
  `batch_objects.${kind}_${createHash('sha256').update(uri).digest('hex').slice(0, 24)}`;

const monthName = (parent: string, month: string) => `${parent}_p${month.slice(0, 7).replace('-', '_')}`;

async function exists(knex: Knex, name: string): Promise<boolean> {
  const r = await knex.raw<{ rows: { t: string | null }[] }>('select to_regclass(?)::text as t', [name]);
  return r.rows[0]?.t !== null;
}

async function tablesIn(knex: Knex, schema: string): Promise<string[]> {
  const r = await knex.raw<{ rows: { t: string }[] }>(
    `select schemaname || '.' || tablename as t from pg_tables where schemaname = ? order by 1`,
    [schema],
  );
  return r.rows.map((x) => x.t);
}

async function dropInSteps(knex: Knex, tables: string[]): Promise<void> {
  for (let i = 0; i < tables.length; i += TABLES_PER_STEP) {
    await knex.raw(`drop table if exists ${tables.slice(i, i + TABLES_PER_STEP).join(', ')}`);
  }
}

/** The partitioned table, its months and DEFAULT partition, filled from `from`, then indexed and keyed. */
async function createPartitioned(knex: Knex, k: (typeof KINDS)[number], from: string): Promise<void> {
  const next = `${k.parent}_next`;
  await knex.transaction(async (trx) => {
    await trx.raw(`
      create table ${next} (
        ${k.id} bigint generated always as identity,
        exhibition_id smallint not null,
        ${k.value} smallint not null,
        event_at      timestamptz not null,
        run_id        text not null,
        ${SOURCE_COLUMNS}
      ) partition by range (event_at);
      create table ${k.parent}_pdefault partition of ${next} default;`);
    const months = await trx.raw<{ rows: { m: string }[] }>(
      `select distinct to_char(date_trunc('month', event_at at time zone 'UTC'), 'YYYY-MM-DD') as m from ${from}
       union select to_char(date_trunc('month', now() at time zone 'UTC') + i * interval '1 month', 'YYYY-MM-DD')
       from generate_series(0, 1) i`,
    );
    for (const { m } of months.rows) {
      await trx.raw(`
        create table ${monthName(k.parent, m)} partition of ${next}
          for values from ('${m} 00:00:00+00') to (('${m}'::date + interval '1 month')::timestamp at time zone 'UTC')`);
    }
    await trx.raw(
      `insert into ${next} (${COLUMNS(k)}) overriding system value select ${COLUMNS(k)} from ${from}`,
    );
    await trx.raw(`select setval(pg_get_serial_sequence('${next}', '${k.id}'),
      greatest((select max(${k.id}) from ${next}), (select last_value from ${k.parent}_${k.id}_seq)))`);
  });
}

/** Indexes and keys under the final names, built once over the moved rows. */
async function indexPartitioned(knex: Knex, k: (typeof KINDS)[number]): Promise<void> {
  await knex.raw(`
    alter sequence ${k.parent}_next_${k.id}_seq rename to ${k.parent}_${k.id}_seq;
    alter table ${k.parent}_next rename to ${k.parent};
    -- Unique indexes of a partitioned table must hold the partition key. A source position (object and line,
    -- or topic, partition and offset) always yields the same event_at, so these stay unique per position.
    alter table ${k.parent} add constraint ${k.parent}_pkey primary key (${k.id}, event_at);
    create unique index ${k.kind}_batch_natural_key on ${k.parent} (exhibition_id, event_at, ${k.value})
      where source_object is not null;
    create unique index ${k.kind}_source_object_line on ${k.parent} (source_object, source_line, event_at)
      where source_object is not null;
    create unique index ${k.kind}_source_topic_offset on ${k.parent}
      (source_topic, source_partition, source_offset, event_at) where source_topic is not null;
    create index ${k.kind}_event_at on ${k.parent} (event_at);
    alter table ${k.parent}
      add foreign key (exhibition_id) references exhibition (exhibition_id),
      add foreign key (${k.value}) references ${k.kind} (${k.value}),
      add foreign key (run_id) references pipeline_run (run_id);`);
}

export async function up(knex: Knex): Promise<void> {
  for (const k of KINDS) {
    // A rerun after a failure resumes: each step is skipped when it is already done.
    if (!(await exists(knex, `${k.parent}_inherited`)) && !(await exists(knex, `${k.parent}_next`))) {
      await knex.raw(`alter table ${k.parent} rename to ${k.parent}_inherited`);
    }
    if (!(await exists(knex, `${k.parent}_next`))) await createPartitioned(knex, k, `${k.parent}_inherited`);
  }
  await knex.raw(`
    create table if not exists batch_press (
      kind          smallint not null check (kind in (0, 1)), -- 0 rating, 1 request
      exhibition_id smallint not null,
      event_at      timestamptz not null,
      value         smallint not null,
      source_object text not null,
      source_line   integer not null,
      raw           bytea, -- the line as read; null only for presses moved here from the per-object tables
      primary key (source_object, source_line)
    );`);
  if (await exists(knex, 'accepted_batch_press')) {
    await knex.transaction(async (trx) => {
      for (const k of KINDS) {
        await trx.raw(`
          insert into batch_press (kind, exhibition_id, event_at, value, source_object, source_line)
          select ${k.code}, exhibition_id, event_at, ${k.value}, source_object, source_line
          from ${k.parent}_next where source_object is not null`);
      }
      await trx.raw('drop table accepted_batch_press');
    });
  }
  await dropInSteps(knex, await tablesIn(knex, 'batch_objects'));
  await knex.transaction(async (trx) => {
    await trx.raw('drop schema if exists batch_objects');
    for (const k of KINDS) {
      await trx.raw(`drop table ${k.parent}_inherited`);
      await indexPartitioned(trx, k);
    }
    await trx.raw(`create index if not exists batch_press_judge on batch_press
      (kind, exhibition_id, event_at, value, source_object collate "C", source_line)`);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx.raw(`
      create schema batch_objects;
      create table accepted_batch_press (
        exhibition_id smallint not null,
        event_at      timestamptz not null,
        kind          smallint not null check (kind in (0, 1)), -- 0 rating, 1 request
        value         smallint not null,
        primary key (exhibition_id, event_at, kind, value)
      );`);
    for (const k of KINDS) {
      await trx.raw(`
        alter table ${k.parent} rename to ${k.parent}_partitioned;
        alter sequence ${k.parent}_${k.id}_seq rename to ${k.parent}_partitioned_${k.id}_seq;
        alter index ${k.kind}_event_at rename to ${k.kind}_event_at_partitioned;
        alter index ${k.kind}_source_topic_offset rename to ${k.kind}_source_topic_offset_partitioned;
        alter index ${k.kind}_batch_natural_key rename to ${k.kind}_batch_natural_key_partitioned;
        alter index ${k.kind}_source_object_line rename to ${k.kind}_source_object_line_partitioned;
        alter table ${k.parent}_partitioned rename constraint ${k.parent}_pkey to ${k.parent}_partitioned_pkey;
        create table ${k.parent} (
          ${k.id} bigint generated always as identity primary key,
          exhibition_id smallint not null references exhibition (exhibition_id),
          ${k.value}  smallint not null references ${k.kind} (${k.value}),
          event_at      timestamptz not null,
          run_id        text not null references pipeline_run (run_id),
          ${SOURCE_COLUMNS}
        );
        insert into ${k.parent} (${COLUMNS(k)}) overriding system value
          select ${COLUMNS(k)} from ${k.parent}_partitioned where source_object is null;
        select setval(pg_get_serial_sequence('${k.parent}', '${k.id}'),
          (select last_value from ${k.parent}_partitioned_${k.id}_seq));
        create index ${k.kind}_event_at on ${k.parent} (event_at);
        create unique index ${k.kind}_source_topic_offset on ${k.parent}
          (source_topic, source_partition, source_offset) where source_topic is not null;
        alter table ${k.parent} add constraint ${k.parent}_batch_rows_elsewhere
          check (source_object is null) no inherit;
        insert into accepted_batch_press (exhibition_id, event_at, kind, value)
          select exhibition_id, event_at, ${k.code}, ${k.value} from ${k.parent}_partitioned
          where source_object is not null;`);
    }
  });
  // One table per object and kind again, made a few hundred per transaction.
  for (const k of KINDS) {
    const objects = await knex.raw<{ rows: { uri: string }[] }>(
      `select distinct source_object as uri from ${k.parent}_partitioned where source_object is not null
       order by 1`,
    );
    const uris = objects.rows.map((r) => r.uri);
    for (let i = 0; i < uris.length; i += TABLES_PER_STEP) {
      await knex.transaction(async (trx) => {
        for (const uri of uris.slice(i, i + TABLES_PER_STEP)) {
          const t = objectTable(k.kind, uri);
          await trx.raw(`
            create table ${t} (like ${k.parent} including defaults including constraints including storage);
            alter table ${t}
              drop constraint ${k.parent}_batch_rows_elsewhere,
              alter column ${k.id} set default nextval('${k.parent}_${k.id}_seq'::regclass),
              alter column source_object set not null,
              alter column source_line set not null,
              add constraint ${k.kind}_of_one_object check (source_object = ${literal(uri)});
            insert into ${t} (${COLUMNS(k)}) select ${COLUMNS(k)} from ${k.parent}_partitioned
              where source_object = ${literal(uri)};
            alter table ${t} add primary key (${k.id});
            create unique index on ${t} (source_line);
            create index on ${t} (event_at);
            alter table ${t}
              add foreign key (exhibition_id) references exhibition (exhibition_id),
              add foreign key (${k.value}) references ${k.kind} (${k.value}),
              add foreign key (run_id) references pipeline_run (run_id),
              inherit ${k.parent};`);
        }
      });
    }
  }
  for (const k of KINDS) {
    await knex.raw(`drop table ${k.parent}_partitioned`);
  }
  await knex.raw('drop table batch_press');
}
