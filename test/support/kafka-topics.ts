// A suite's or bench's own topic: created with its partitions and leaders ready, and removed afterwards.
import type { Admin } from 'kafkajs';
import type { Config } from '../../infra/config';
import { createKafka } from '../../infra/kafka';

/** Runs `fn` with a connected admin client, disconnecting whatever happens. */
export async function withKafkaAdmin<T>(cfg: Config, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createKafka(cfg.kafka, '-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export function createTopic(cfg: Config, partitions: number): Promise<void> {
  return withKafkaAdmin(cfg, async (admin) => {
    await admin.createTopics({
      topics: [{ topic: cfg.kafka.topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  });
}

export function deleteTopic(cfg: Config): Promise<void> {
  return withKafkaAdmin(cfg, (admin) => admin.deleteTopics({ topics: [cfg.kafka.topic] }));
}
