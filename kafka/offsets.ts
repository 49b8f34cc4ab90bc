// The status command's seam over the kafkajs admin client: per partition, the log's end and the group's
// committed position.
import type { Config } from '../infra/config';
import { createKafka } from '../infra/kafka';

export interface PartitionOffsets {
  partition: number;
  /** Earliest offset still retained. */
  start: number;
  /** Offset the next record will get (the high watermark). */
  end: number;
  /** The group's committed position (the next offset it will read), or null when it has committed nothing. */
  committed: number | null;
}

export async function readPartitionOffsets(
  kafka: Config['kafka'],
  topic: string,
  groupId: string,
): Promise<PartitionOffsets[]> {
  const admin = createKafka(kafka, '-status').admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`cannot reach Kafka at ${kafka.brokers.join(',')}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committedBy = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
    return ends
      .map((e) => {
        const position = committedBy.get(e.partition);
        return {
          partition: e.partition,
          start: Number(e.low),
          end: Number(e.high),
          committed: position === undefined || position < 0 ? null : position,
        };
      })
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/** The partition's log end offset (the high watermark) now; 0 for a partition the topic does not have. */
export async function readLogEnd(kafka: Config['kafka'], topic: string, partition: number): Promise<number> {
  const admin = createKafka(kafka, '-status').admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return Number(offsets.find((o) => o.partition === partition)?.high ?? 0);
  } finally {
    await admin.disconnect();
  }
}
