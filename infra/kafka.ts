// The one place that knows kafkajs (in maintenance mode): the rest of the code sees only this seam.
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import type { Config } from './config';

/**
 * `probe`: a one-shot question whose caller reports a failure itself (the dashboard's log end offsets): no
 * retries and no kafkajs logging, so a dead broker costs one attempt and no log line per poll.
 */
export function createKafka(
  k: Config['kafka'],
  clientIdSuffix = '',
  options: { probe?: boolean } = {},
): Kafka {
  const config: KafkaConfig = {
    clientId: k.clientId + clientIdSuffix,
    brokers: k.brokers,
    ssl: k.ssl,
    sasl: k.sasl ? { mechanism: 'plain', username: k.sasl.username, password: k.sasl.password } : undefined,
    logLevel: options.probe ? logLevel.NOTHING : logLevel.ERROR,
    connectionTimeout: 5000,
    retry: options.probe ? { retries: 0 } : { retries: 5, initialRetryTime: 200 },
  };
  return new Kafka(config);
}
