// Where a batch object's accepted rows live: one rating table and one request table per source object, each
// a child (table inheritance) of rating_interaction or request_interaction, so every query of the parents sees
// them. PostgreSQL checks a foreign key with one trigger query per inserted row, but checks a key added to a
// filled table with one join; indexes too are cheaper built once than grown row by row. So an object's table
// is filled bare, then indexed and key-checked in bulk when it is prepared, and attached when it is loaded
// (activities/batch-load.ts). On 1M rows: 30.6 s into the keyed, indexed parent, 3.6 s this way
// (bench/README.md).
//
// What the parent's unique indexes did for batch rows, the object tables do by construction: one table per
// object (its name is a digest of the object key, and a check pins the key), the source line unique inside
// it, and the natural key of every accepted press unique across objects in accepted_batch_press.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { missingTables } from '../infra/db';

export const OBJECT_SCHEMA = 'batch_objects';

export type InteractionKind = 'rating' | 'request';
export const INTERACTION_KINDS: readonly InteractionKind[] = ['rating', 'request'];

interface KindShape {
  parent: string;
  id: string;
  value: string;
  /** The kind's code in staging tables and in accepted_batch_press. */
  code: 0 | 1;
}

export const KIND_SHAPE: Record<InteractionKind, KindShape> = {
  rating: {
    parent: 'rating_interaction',
    id: 'rating_interaction_id',
    value: 'rating_value',
    code: 0,
  },
  request: {
    parent: 'request_interaction',
    id: 'request_interaction_id',
    value: 'request_value',
    code: 1,
  },
};

/** The parent's rule that keeps batch rows out of it; LIKE copies it, so each object table drops it. */
const batchRowsElsewhere = (kind: InteractionKind) => `${KIND_SHAPE[kind].parent}_batch_rows_elsewhere`;

/** The table holding one object's accepted rows of one kind (schema-qualified, safe to interpolate). */
export function objectTable(kind: InteractionKind, uri: string): string {
  return `${OBJECT_SCHEMA}.${kind}_${createHash('sha256').update(uri).digest('hex').slice(0, 24)}`;
}

/**
 * DDL of the object's empty table, without indexes or foreign keys, under its final name or another (a
 * prepared table, renamed when attached). Ids come from the parent's identity sequence (named by PostgreSQL's
 * convention), so they stay unique across the family. A regclass literal is resolved once, here: a
 * pg_get_serial_sequence() call in the default would cost catalogue look-ups on every row.
 */
export function createObjectTableSql(
  kind: InteractionKind,
  uri: string,
  table = objectTable(kind, uri),
): string {
  const s = KIND_SHAPE[kind];
  return `
    create table ${table} (like ${s.parent} including defaults including constraints including storage);
    alter table ${table}
      drop constraint ${batchRowsElsewhere(kind)},
      alter column ${s.id} set default nextval('${s.parent}_${s.id}_seq'::regclass),
      alter column source_object set not null,
      alter column source_line set not null,
      add constraint ${kind}_of_one_object check (source_object = ${pg.escapeLiteral(uri)});`;
}

/** The indexes of a filled object table, each built in one pass. */
export function indexObjectTableSql(kind: InteractionKind, table: string): string {
  return `
    alter table ${table} add primary key (${KIND_SHAPE[kind].id});
    create unique index on ${table} (source_line);
    create index on ${table} (event_at);`;
}

/**
 * The object table joins its parent, after moving in under its final name when it was prepared elsewhere.
 * Cheap locks: readers and the stream carry on meanwhile.
 */
export function attachObjectTableSql(kind: InteractionKind, uri: string, prepared?: string): string {
  const final = objectTable(kind, uri);
  const move =
    prepared === undefined
      ? ''
      : `alter table ${prepared} set schema ${OBJECT_SCHEMA};
         alter table ${OBJECT_SCHEMA}.${prepared.split('.').pop()} rename to ${final.split('.').pop()};`;
  return `${move}
    alter table ${final} inherit ${KIND_SHAPE[kind].parent};`;
}

const foreignKeys = (kind: InteractionKind) => {
  const s = KIND_SHAPE[kind];
  return [
    { name: `${kind}_exhibition_fk`, column: 'exhibition_id', references: 'exhibition (exhibition_id)' },
    // Each value's reference table is named like its kind: rating, request.
    { name: `${kind}_value_fk`, column: s.value, references: `${kind} (${s.value})` },
    { name: `${kind}_run_fk`, column: 'run_id', references: 'pipeline_run (run_id)' },
  ];
};

/**
 * The three foreign keys. Validated, each is checked by one join over the filled table, but adding a key
 * locks the tables it references against writes (pipeline_run included) until commit. `notValid` adds them
 * unchecked, a catalogue change of milliseconds, for validateObjectForeignKeysSql to check in another
 * transaction under a lock that lets writers through.
 */
export function addObjectForeignKeysSql(kind: InteractionKind, table: string, notValid = false): string {
  const keys = foreignKeys(kind).map(
    (k) =>
      `add constraint ${k.name} foreign key (${k.column}) references ${k.references}${notValid ? ' not valid' : ''}`,
  );
  return `alter table ${table} ${keys.join(', ')};`;
}

export function validateObjectForeignKeysSql(kind: InteractionKind, table: string): string {
  return `alter table ${table} ${foreignKeys(kind)
    .map((k) => `validate constraint ${k.name}`)
    .join(', ')};`;
}

/** How many of the table's foreign keys are still unchecked (an object table attaches only at 0). */
export const uncheckedForeignKeysSql = (table: string) =>
  `select count(*)::int as n from pg_constraint where conrelid = '${table}'::regclass and contype = 'f'
     and not convalidated`;

/**
 * Registers every row of the filled table in accepted_batch_press, in key order so the index takes its
 * entries in order. A table written in that order (as the load's are) needs no sort for it.
 */
export function registerAcceptedPressesSql(
  kind: InteractionKind,
  uri: string,
  writtenInKeyOrder: boolean,
): string {
  const s = KIND_SHAPE[kind];
  return `
    insert into accepted_batch_press (exhibition_id, event_at, kind, value)
    select exhibition_id, event_at, ${s.code}, ${s.value} from ${objectTable(kind, uri)}
    ${writtenInKeyOrder ? '' : `order by exhibition_id, event_at, ${s.value}`};`;
}

const replacedName = (table: string) => `${table.split('.').pop()}_replaced`;

/**
 * Takes what an earlier load of the object left out of the family: its presses leave the registry, its
 * tables leave their parents and step aside under another name. Dropping them has to wait for
 * dropReplacedObjectTables: dropping a table with foreign keys locks the tables they reference (exhibition,
 * pipeline_run) against readers and writers until commit.
 */
export async function detachObjectTables(client: pg.ClientBase, uri: string): Promise<void> {
  for (const kind of INTERACTION_KINDS) {
    const s = KIND_SHAPE[kind];
    const t = objectTable(kind, uri);
    if ((await missingTables(client, [t])).length > 0) continue;
    await client.query(
      `delete from accepted_batch_press p using ${t} o
       where p.exhibition_id = o.exhibition_id and p.event_at = o.event_at and p.kind = ${s.code}
         and p.value = o.${s.value}`,
    );
    await client.query(`alter table ${t} no inherit ${s.parent}`);
    await client.query(`alter table ${t} rename to ${replacedName(t)}`);
  }
}

/** Drops what detachObjectTables set aside: the caller's last step before committing. */
export async function dropReplacedObjectTables(client: pg.ClientBase, uri: string): Promise<void> {
  const tables = INTERACTION_KINDS.map((kind) => `${OBJECT_SCHEMA}.${replacedName(objectTable(kind, uri))}`);
  await client.query(`drop table if exists ${tables.join(', ')}`);
}
