// The expand step of a leaner DUPLICATE registry (SPEC 3). batch_press keeps every valid batch line's natural
// key and raw bytes under a six-column key index; an accepted line's key is already in its interaction row,
// under the unique batch_natural_key index. The new registry keeps:
// - batch_line: every valid batch line's raw bytes, to demote an accepted line to a DUPLICATE reject;
// - batch_duplicate: the natural key of the DUPLICATE lines only, so a freed key finds its next-lowest press.
// Both stay empty while batch_press exists: the releases on either side of this one keep loading through
// batch_press, and the contract step (20261207000400) fills these from it and drops it.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table batch_line (
      source_object text not null,
      source_line   integer not null,
      raw           bytea, -- null only for presses moved from the per-object tables (20261130000200)
      primary key (source_object, source_line)
    );
    create table batch_duplicate (
      kind          smallint not null check (kind in (0, 1)), -- 0 rating, 1 request
      exhibition_id smallint not null,
      event_at      timestamptz not null,
      value         smallint not null,
      source_object text not null,
      source_line   integer not null,
      primary key (source_object, source_line)
    );
    create index batch_duplicate_judge on batch_duplicate
      (kind, exhibition_id, event_at, value, source_object collate "C", source_line);`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table batch_duplicate, batch_line');
}
