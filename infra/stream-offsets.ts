// Where the stream has got to in PostgreSQL, for the bridge's lag gauge and the dashboard's Operations view.
import type { Knex } from 'knex';

/**
 * Highest stored offset per partition of the topic's latest incarnation (a recreated topic's rows are under
 * `<topic>@<topicId>`, stream/topic.ts), over the three tables that hold stream rows; each max() is one probe
 * of the table's (topic, partition, offset) unique index.
 */
export async function lastStoredOffsets(
  knex: Knex,
  topic: string,
  partitions: readonly number[],
  timeoutMs = 2000,
): Promise<Map<number, number>> {
  const source = `coalesce((select source_topic from stream_topic_incarnation where topic = :topic
                            order by first_seen_at desc limit 1), :topic)`;
  const newest = (table: string) =>
    `(select max(source_offset) from ${table} where source_topic = ${source} and source_partition = p)`;
  const r = await knex
    .raw<{ rows: { p: number; last: number | null }[] }>(
      `select p, greatest(${newest('rating_interaction')}, ${newest('request_interaction')},
         ${newest('rejected_interaction')}) as last
       from unnest(:partitions::int[]) as p`,
      { topic, partitions: [...partitions] },
    )
    .timeout(timeoutMs, { cancel: true });
  return new Map(r.rows.filter((x) => x.last !== null).map((x) => [x.p, Number(x.last)]));
}
