// Reads a range of one partition straight from Kafka, outside the bridge's consumer group: what a new workflow
// chain uses to re-read messages an earlier chain accepted but never stored (see stream/reread.ts).
import { randomUUID } from 'node:crypto';
import type { Config } from '../infra/config';
import { createKafka } from '../infra/kafka';
import type { KafkaRecord } from './consumer';

export interface RangeLimits {
  maxMessages: number;
  /** Stop once the values read add up to this many bytes (at least one record is always returned). */
  maxBytes: number;
  timeoutMs: number;
}

export interface RangeRead {
  records: KafkaRecord[];
  /** True when every retained record before `before` has been read. */
  complete: boolean;
}

/** Records of `partition` with offsets in [from, before), as far as the log still retains them. */
export async function readPartitionRange(
  kafka: Config['kafka'],
  topic: string,
  partition: number,
  from: number,
  before: number,
  limits: RangeLimits,
): Promise<RangeRead> {
  const admin = createKafka(kafka, '-reread').admin();
  await admin.connect();
  let start: number;
  let end: number;
  try {
    const offsets = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition);
    start = Math.max(from, Number(offsets?.low ?? 0));
    end = Math.min(before, Number(offsets?.high ?? 0));
  } finally {
    await admin.disconnect();
  }
  if (start >= end) return { records: [], complete: true };

  // A throwaway group that never commits: it exists only to fetch, and expires on its own.
  const consumer = createKafka(kafka, '-reread').consumer({
    groupId: `${kafka.groupId}-reread-${randomUUID()}`,
    maxBytesPerPartition: 2 * 1024 * 1024,
  });
  const records: KafkaRecord[] = [];
  let bytes = 0;
  await consumer.connect();
  try {
    // fromBeginning false: the other partitions start at their end and fetch nothing.
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    const complete = await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${records.length} records of ${topic}/${partition} [${start}, ${end})`)),
        limits.timeoutMs,
      );
      const finish = (done: boolean) => {
        clearTimeout(timer);
        resolve(done);
      };
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return;
            for (const m of batch.messages) {
              const offset = Number(m.offset);
              if (offset < start) continue;
              if (offset >= end) return finish(true);
              if (records.length >= limits.maxMessages || (records.length > 0 && bytes >= limits.maxBytes)) {
                return finish(false);
              }
              records.push({ offset, value: m.value, timestamp: Number(m.timestamp) });
              bytes += m.value?.length ?? 0;
            }
            // Offsets can skip (transaction markers, compaction): the batch's last offset says how far it went.
            if (Number(batch.lastOffset()) + 1 >= end) finish(true);
            await Promise.resolve();
          },
        })
        .then(() => consumer.seek({ topic, partition, offset: String(start) }))
        .catch(reject);
    });
    return { records, complete };
  } finally {
    await consumer.disconnect();
  }
}
