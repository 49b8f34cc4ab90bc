// The schema of SPEC section 4: reference data, the exhibition catalogue, the interactions, and the
// pipeline's own ledger, rejects and lineage. Constraints keep bad data out at the last line of defence.
import type { Knex } from 'knex';

import { REASON_DESCRIPTIONS } from '../domain/reasons';

// The codes as they were at this migration, frozen for the check constraints; their descriptions have one
// home, domain/reasons.ts.
const REASON_CODES = [
  'MALFORMED',
  'UNKNOWN_KEY',
  'MISSING_AT',
  'MISSING_SITE',
  'MISSING_VAL',
  'BAD_AT',
  'OUTSIDE_HOURS',
  'FUTURE_AT',
  'BAD_SITE',
  'UNKNOWN_SITE',
  'BAD_VAL',
  'MISSING_TYPE',
  'BAD_TYPE',
  'UNEXPECTED_TYPE',
  'DUPLICATE',
] as const;

const reasonArray = `array[${REASON_CODES.map((c) => `'${c}'`).join(',')}]::text[]`;

// Every interaction and reject says where it came from: an object and line (batch) or a topic, partition
// and offset (stream). Exactly one of the two families is set.
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

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table floor (
      floor_id   smallint generated always as identity primary key,
      name       text not null unique check (btrim(name) <> '')
    );

    create table department (
      department_id smallint generated always as identity primary key,
      name          text not null unique check (btrim(name) <> '')
    );

    create table exhibition (
      exhibition_id smallint generated always as identity primary key,
      site          integer not null unique check (site >= 0),
      public_id     text not null unique check (public_id ~ '^EXH_[0-9]+$'),
      name          text not null check (btrim(name) <> ''),
      description   text not null default '',
      floor_id      smallint not null references floor (floor_id),
      department_id smallint not null references department (department_id),
      start_date    date not null,
      updated_at    timestamptz not null default now()
    );

    create table rating (
      rating_value smallint primary key check (rating_value between 0 and 4),
      description  text not null unique
    );

    create table request (
      request_value smallint primary key check (request_value in (0, 1)),
      description   text not null unique
    );

    create table reject_reason (
      code        text primary key check (code = any (${reasonArray})),
      description text not null
    );

    create table pipeline_run (
      run_id             text primary key check (btrim(run_id) <> ''),
      kind               text not null check (kind in ('batch', 'stream')),
      workflow_id        text not null,
      source             text not null,
      status             text not null default 'running' check (status in ('running', 'completed', 'failed')),
      started_at         timestamptz not null default now(),
      finished_at        timestamptz,
      read_count         bigint not null default 0 check (read_count >= 0),
      loaded_count       bigint not null default 0 check (loaded_count >= 0),
      rejected_count     bigint not null default 0 check (rejected_count >= 0),
      rejected_by_reason jsonb not null default '{}'::jsonb check (jsonb_typeof(rejected_by_reason) = 'object'),
      constraint run_counts_balance check (read_count = loaded_count + rejected_count),
      constraint run_finished_after_start check (finished_at is null or finished_at >= started_at)
    );

    -- One row per object a batch loaded: what was read from it, so a repeated run can skip an unchanged
    -- object and a reprocess can replace exactly what that object loaded.
    create table source_object (
      source_object  text primary key check (btrim(source_object) <> ''),
      etag           text not null,
      size_bytes     bigint not null check (size_bytes >= 0),
      run_id         text not null references pipeline_run (run_id),
      loaded_at      timestamptz not null default now(),
      read_count     bigint not null check (read_count >= 0),
      loaded_count   bigint not null check (loaded_count >= 0),
      rejected_count bigint not null check (rejected_count >= 0),
      constraint object_counts_balance check (read_count = loaded_count + rejected_count)
    );

    create table rating_interaction (
      rating_interaction_id bigint generated always as identity primary key,
      exhibition_id smallint not null references exhibition (exhibition_id),
      rating_value  smallint not null references rating (rating_value),
      event_at      timestamptz not null,
      run_id        text not null references pipeline_run (run_id),
      ${SOURCE_COLUMNS}
    );

    create table request_interaction (
      request_interaction_id bigint generated always as identity primary key,
      exhibition_id smallint not null references exhibition (exhibition_id),
      request_value smallint not null references request (request_value),
      event_at      timestamptz not null,
      run_id        text not null references pipeline_run (run_id),
      ${SOURCE_COLUMNS}
    );

    -- DUPLICATE (SPEC 3): in the batch history, one press is one (exhibition, second, value).
    create unique index rating_batch_natural_key on rating_interaction (exhibition_id, event_at, rating_value)
      where source_object is not null;
    create unique index request_batch_natural_key on request_interaction (exhibition_id, event_at, request_value)
      where source_object is not null;
    create index rating_event_at on rating_interaction (event_at);
    create index request_event_at on request_interaction (event_at);
    -- Each source key is unique; partial, so a batch row never enters the stream key's index or the reverse
    -- (each index entry costs on every bulk insert).
    create unique index rating_source_object_line on rating_interaction (source_object, source_line)
      where source_object is not null;
    create unique index rating_source_topic_offset on rating_interaction (source_topic, source_partition, source_offset)
      where source_topic is not null;
    create unique index request_source_object_line on request_interaction (source_object, source_line)
      where source_object is not null;
    create unique index request_source_topic_offset on request_interaction (source_topic, source_partition, source_offset)
      where source_topic is not null;

    create table rejected_interaction (
      rejected_interaction_id bigint generated always as identity primary key,
      raw         bytea not null,
      reasons     text[] not null check (cardinality(reasons) > 0 and reasons <@ ${reasonArray}),
      run_id      text not null references pipeline_run (run_id),
      rejected_at timestamptz not null default now(),
      ${SOURCE_COLUMNS}
    );
    create unique index rejected_source_object_line on rejected_interaction (source_object, source_line)
      where source_object is not null;
    create unique index rejected_source_topic_offset on rejected_interaction (source_topic, source_partition, source_offset)
      where source_topic is not null;
  `);

  await knex('rating').insert([
    { rating_value: 0, description: 'Terrible' },
    { rating_value: 1, description: 'Bad' },
    { rating_value: 2, description: 'Neutral' },
    { rating_value: 3, description: 'Good' },
    { rating_value: 4, description: 'Amazing' },
  ]);
  await knex('request').insert([
    { request_value: 0, description: 'Assistance' },
    { request_value: 1, description: 'Emergency' },
  ]);
  await knex('reject_reason').insert(
    REASON_CODES.map((code) => ({ code, description: REASON_DESCRIPTIONS[code] })),
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table if exists rejected_interaction;
    drop table if exists request_interaction;
    drop table if exists rating_interaction;
    drop table if exists source_object;
    drop table if exists pipeline_run;
    drop table if exists reject_reason;
    drop table if exists request;
    drop table if exists rating;
    drop table if exists exhibition;
    drop table if exists department;
    drop table if exists floor;
  `);
}
