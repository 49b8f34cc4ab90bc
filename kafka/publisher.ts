// The simulator's seam over the kafkajs producer: values in, nothing else (the real kiosks send no key).
import { CompressionTypes, Partitioners, type Producer } from 'kafkajs';
import type { Config } from '../infra/config';
import { createKafka } from '../infra/kafka';

export interface Publisher {
  /** Sends the values in order and resolves once the broker acknowledged all of them. */
  publish(values: readonly (Buffer | null)[]): Promise<void>;
  close(): Promise<void>;
}

class KafkajsPublisher implements Publisher {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async publish(values: readonly (Buffer | null)[]): Promise<void> {
    if (values.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      compression: CompressionTypes.None,
      messages: values.map((value) => ({ value })),
    });
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

export async function connectPublisher(kafka: Config['kafka'], topic: string): Promise<Publisher> {
  const producer = createKafka(kafka, '-simulator').producer({
    // Keyless records spread round-robin over the partitions, as the real producer's do.
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  try {
    await producer.connect();
  } catch (err) {
    throw new Error(`cannot reach Kafka at ${kafka.brokers.join(',')}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return new KafkajsPublisher(producer, topic);
}
