// The one place that knows kafkajs (in maintenance mode): the rest of the code sees only this seam.
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import type { Config } from './config';

export function createKafka(k: Config['kafka'], clientIdSuffix = ''): Kafka {
  const config: KafkaConfig = {
    clientId: k.clientId + clientIdSuffix,
    brokers: k.brokers,
    ssl: k.ssl,
    sasl: k.sasl ? { mechanism: 'plain', username: k.sasl.username, password: k.sasl.password } : undefined,
    logLevel: logLevel.ERROR,
    connectionTimeout: 5000,
    retry: { retries: 5, initialRetryTime: 200 },
  };
  return new Kafka(config);
}
