// What a new workflow chain runs before its first load: the messages of its partition that Kafka holds, the
// database does not, and the bridge will not send again (their offsets were committed once an earlier chain,
// since terminated or reset, had accepted them). Reading them from Kafka keeps an operator's terminate from
// losing anything.
import { readPartitionRange } from '../kafka/range-reader';
import { toStreamMessage } from '../contracts/stream-chunks';
import type { StreamMessage } from '../contracts/stream';
import type { ActivityDeps } from '../infra/activity-deps';
import { lastStoredOffset } from './store';

export interface RereadInput {
  topic: string;
  partition: number;
  /** The source_topic this incarnation's rows are stored under (the topic's name when absent). */
  sourceTopic?: string;
  /** The first offset the new chain received from the bridge: everything before it was committed. */
  before: number;
  /** Where to go on from (the offset after the last one returned); the first call starts after the database's last. */
  from?: number;
}

export interface RereadResult {
  messages: StreamMessage[];
  /** Nothing left before `before`. */
  done: boolean;
}

// One answer stays well inside a 2 MiB payload; the workflow asks again for the rest.
const MAX_MESSAGES = 2000;
const MAX_BYTES = 512 * 1024;

export function createStreamRereadActivities(deps: ActivityDeps) {
  return {
    async readUnstoredMessages(input: RereadInput): Promise<RereadResult> {
      const { topic, partition, before } = input;
      const from =
        input.from ?? (await lastStoredOffset(deps.knex, input.sourceTopic ?? topic, partition)) + 1;
      if (from >= before) return { messages: [], done: true };
      const read = await readPartitionRange(deps.config.kafka, topic, partition, from, before, {
        maxMessages: MAX_MESSAGES,
        maxBytes: MAX_BYTES,
        timeoutMs: 60_000,
      });
      return { messages: read.records.map(toStreamMessage), done: read.complete };
    },
  };
}

export type StreamRereadActivities = ReturnType<typeof createStreamRereadActivities>;
