// A deleted and recreated Kafka topic has the same name, a new topic id and offsets from 0 again. Each topic id
// gets its own source_topic for the stream's rows (the first one seen keeps the plain name), so the new
// incarnation's offsets never meet the old one's unique keys; a chain closed by the recreation is 'superseded',
// with a note saying why.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table stream_topic_incarnation (
      topic         text not null,
      topic_id      text not null,
      source_topic  text not null unique,
      first_seen_at timestamptz not null default now(),
      primary key (topic, topic_id)
    );
    alter table pipeline_run add column note text;
    alter table pipeline_run drop constraint pipeline_run_status_check;
    alter table pipeline_run add constraint pipeline_run_status_check
      check (status in ('running', 'completed', 'failed', 'cancelled', 'superseded'));
  `);
}

export async function down(knex: Knex): Promise<void> {
  // Rows stored under a later incarnation's name would lose the record of what that name means.
  const later = await knex.raw<{ rows: { n: number }[] }>(
    'select count(*)::int as n from stream_topic_incarnation where source_topic <> topic',
  );
  const n = later.rows[0]?.n ?? 0;
  if (n > 0) {
    throw new Error(
      `${n} recreated topic incarnations are recorded in stream_topic_incarnation; roll back only once ` +
        'their rows are dealt with',
    );
  }
  // The older schema's nearest word for a chain that ended because its topic was recreated: it completed.
  await knex.raw(`
    update pipeline_run set status = 'completed' where status = 'superseded';
    alter table pipeline_run drop constraint pipeline_run_status_check;
    alter table pipeline_run add constraint pipeline_run_status_check
      check (status in ('running', 'completed', 'failed', 'cancelled'));
    alter table pipeline_run drop column note;
    drop table stream_topic_incarnation;
  `);
}
