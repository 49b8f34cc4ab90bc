// The one place that knows kafkajs (in maintenance mode): the rest of the code sees only this seam.
import LZ4Codec from '@2l/kafkajs-lz4';
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import snappyCodec from 'kafkajs-snappy';
import type { Config } from './config';

// kafkajs decompresses gzip only; producers elsewhere (the Java client, MSK's defaults) also write snappy, lz4
// and zstd. The codecs come from packages: snappyjs (pure JavaScript) and lz4/zstd bindings whose prebuilt
// binaries ship inside the npm packages. Registering is global to kafkajs, so it happens once, on import.
CompressionCodecs[CompressionTypes.Snappy] = snappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: (encoder: { buffer: Buffer }) => zstdCompress(encoder.buffer),
  decompress: (buffer: Buffer) => zstdDecompress(buffer),
});

// kafkajs 2.2.4 schedules its request queue's check with a negative delay, which Node 24 warns about on stderr
// (TimeoutNegativeWarning; Node waits 1 ms, which is what kafkajs means). That warning is dropped, so commands'
// output stays clean; every other warning still reaches Node's printer (or a service's log, infra/log.ts).
const listeners = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  const fromKafkajs = /kafkajs[\\/]src[\\/]network[\\/]/.test(warning.stack ?? '');
  if (warning.name === 'TimeoutNegativeWarning' && fromKafkajs) return;
  for (const listener of listeners) listener(warning);
});

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
