// A Kafka topic deleted and created again keeps its name but gets a new topic id and restarts at offset 0.
// These activities give each incarnation its own source_topic for the stream's rows (so its offsets never meet
// the old ones' unique keys) and close the ledger row of a chain whose incarnation is gone.
import { readLogEnd } from '../kafka/offsets';
import { supersedeRun } from '../ledger/pipeline-run';
import type { ActivityDeps } from '../infra/activity-deps';

export interface IncarnationInput {
  topic: string;
  topicId: string;
}

export interface CloseStreamRunInput {
  ledgerRunId: string;
  /** Why the chain ended, in the operator's words; kept in pipeline_run.note. */
  note: string;
}

/**
 * The source_topic of this topic id: the first id ever seen for a topic keeps the plain name (rows written
 * before ids were recorded are under it), every later one is `<topic>@<topicId>`. Partitions of one topic
 * resolve concurrently, hence the lock on the topic's name.
 */
export async function resolveSourceTopic(
  knex: ActivityDeps['knex'],
  { topic, topicId }: IncarnationInput,
): Promise<string> {
  return knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`stream-topic:${topic}`]);
    const rows = await trx('stream_topic_incarnation')
      .where({ topic })
      .select<{ topic_id: string; source_topic: string }[]>('topic_id', 'source_topic');
    const known = rows.find((r) => r.topic_id === topicId);
    if (known !== undefined) return known.source_topic;
    const sourceTopic = rows.length === 0 ? topic : `${topic}@${topicId}`;
    await trx('stream_topic_incarnation').insert({ topic, topic_id: topicId, source_topic: sourceTopic });
    return sourceTopic;
  });
}

export function createStreamTopicActivities(deps: ActivityDeps) {
  return {
    resolveStreamIncarnation: (input: IncarnationInput): Promise<string> =>
      resolveSourceTopic(deps.knex, input),

    /** The partition's log end now: whether a batch with a lower one was stale or the log really went back. */
    readPartitionLogEnd: ({ topic, partition }: { topic: string; partition: number }): Promise<number> =>
      readLogEnd(deps.config.kafka, topic, partition),

    closeStreamRun: ({ ledgerRunId, note }: CloseStreamRunInput): Promise<void> =>
      supersedeRun(deps.knex, ledgerRunId, note),
  };
}

export type StreamTopicActivities = ReturnType<typeof createStreamTopicActivities>;
