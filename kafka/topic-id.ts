// The topic's id: Kafka gives a topic a new id when it is deleted and created again under the same name, and
// kafkajs (Metadata v6) never sees ids. @platformatic/kafka (a maintained client speaking the current protocol)
// answers this one question; everything else stays on kafkajs. It is an ES module, hence the dynamic import.
import type { Config } from '../infra/config';
import { platformaticConnection } from '../infra/kafka';

export interface TopicIdReader {
  /** The topic's current id (a UUID); throws when the topic does not exist or Kafka does not answer. */
  read(): Promise<string>;
  close(): Promise<void>;
}

export async function connectTopicIdReader(kafka: Config['kafka'], topic: string): Promise<TopicIdReader> {
  const { Admin } = await import('@platformatic/kafka');
  const admin = new Admin({
    clientId: `${kafka.clientId}-topic-id`,
    bootstrapBrokers: kafka.brokers,
    ...platformaticConnection(kafka),
    retries: 3,
  });
  return {
    async read() {
      // forceUpdate: the client's own cache would answer with the id of a topic since deleted.
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      const id = metadata.topics.get(topic)?.id;
      if (id === undefined || /^0{8}-/.test(id))
        throw new Error(`topic '${topic}' has no id in Kafka's metadata`);
      return id;
    },
    close: () => admin.close(),
  };
}

/** One look-up, for `stream status` and tests. */
export async function readTopicId(kafka: Config['kafka'], topic: string): Promise<string> {
  const reader = await connectTopicIdReader(kafka, topic);
  try {
    return await reader.read();
  } finally {
    await reader.close();
  }
}
