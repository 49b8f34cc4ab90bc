// Batch rows move from the interaction tables into one table per source object, children of those tables by
// inheritance (activities/object-tables.ts says why: bulk index builds and bulk foreign key checks). The
// parents keep the stream's rows and refuse batch rows; accepted_batch_press keeps the natural key of every
// accepted batch press unique across objects, as the parents' partial unique indexes did. Rows already
// loaded move too, and back down again.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { escapeLiteral as literal } from 'pg';

// Frozen here on purpose, like every migration; activities/object-tables.ts names tables the same way, and
// test/integration/migrations.test.ts proves the two agree.
// The reference table of each kind's value is named like the kind (rating, request).
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

const objectTable = (kind: string, uri: string) =>
  `batch_objects.${kind}_${createHash('sha256').update(uri).digest('hex').slice(0, 24)}`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create schema batch_objects;
    -- One row per accepted batch press; DUPLICATE (SPEC 3) is a press whose key is already here. No foreign
    -- keys and no lineage: every row mirrors a row of an object table, whose keys are checked.
    create table accepted_batch_press (
      exhibition_id smallint not null,
      event_at      timestamptz not null,
      kind          smallint not null check (kind in (0, 1)), -- 0 rating, 1 request
      value         smallint not null,
      primary key (exhibition_id, event_at, kind, value)
    );`);
  for (const k of KINDS) {
    const objects = await knex.raw<{ rows: { uri: string }[] }>(
      `select distinct source_object as uri from only ${k.parent} where source_object is not null`,
    );
    for (const { uri } of objects.rows) {
      const t = objectTable(k.kind, uri);
      await knex.raw(`
        create table ${t} (like ${k.parent} including defaults including constraints including storage);
        alter table ${t}
          alter column ${k.id} set default nextval('${k.parent}_${k.id}_seq'::regclass),
          alter column source_object set not null,
          alter column source_line set not null,
          add constraint ${k.kind}_of_one_object check (source_object = ${literal(uri)});
        insert into ${t} select * from only ${k.parent} where source_object = ${literal(uri)};
        alter table ${t} add primary key (${k.id});
        create unique index on ${t} (source_line);
        create index on ${t} (event_at);
        alter table ${t}
          add foreign key (exhibition_id) references exhibition (exhibition_id),
          add foreign key (${k.value}) references ${k.kind} (${k.value}),
          add foreign key (run_id) references pipeline_run (run_id),
          inherit ${k.parent};
        insert into accepted_batch_press (exhibition_id, event_at, kind, value)
          select exhibition_id, event_at, ${k.code}, ${k.value} from ${t};`);
    }
    await knex.raw(`
      delete from only ${k.parent} where source_object is not null;
      drop index ${k.kind}_batch_natural_key, ${k.kind}_source_object_line;
      alter table ${k.parent} add constraint ${k.parent}_batch_rows_elsewhere
        check (source_object is null) no inherit;`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const k of KINDS) {
    await knex.raw(`
      alter table ${k.parent} drop constraint ${k.parent}_batch_rows_elsewhere;
      insert into ${k.parent} overriding system value
        select * from ${k.parent} where tableoid <> '${k.parent}'::regclass;
      create unique index ${k.kind}_batch_natural_key on ${k.parent} (exhibition_id, event_at, ${k.value})
        where source_object is not null;
      create unique index ${k.kind}_source_object_line on ${k.parent} (source_object, source_line)
        where source_object is not null;`);
  }
  await knex.raw(`
    drop schema batch_objects cascade;
    drop table accepted_batch_press;`);
}
