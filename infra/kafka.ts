// The one place that knows kafkajs (in maintenance mode): the rest of the code sees only this seam.
import LZ4Codec from '@2l/kafkajs-lz4';
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import snappyCodec from 'kafkajs-snappy';
import type { Config } from './config';

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const decompression = { compressedBytes: 0, decompressedBytes: 0 };

/**
 * Bytes of compressed record batches this process has decompressed, in and out, since it started: how much a
 * fetch, which the broker limits in bytes as stored, grows once decoded (kafka/fetch-budget.ts).
 */
export function decompressionTotals(): { compressedBytes: number; decompressedBytes: number } {
  return { ...decompression };
}

function metered(factory: () => Codec): () => Codec {
  return () => {
    const codec = factory();
    return {
      compress: (encoder) => codec.compress(encoder),
      decompress: async (buffer) => {
        const out = await codec.decompress(buffer);
        decompression.compressedBytes += buffer.length;
        decompression.decompressedBytes += out.length;
        return out;
      },
    };
  };
}

// kafkajs decompresses gzip only; producers elsewhere (the Java client, MSK's defaults) also write snappy, lz4
// and zstd. The codecs come from packages: snappyjs (pure JavaScript) and lz4/zstd bindings whose prebuilt
// binaries ship inside the npm packages. Registering is global to kafkajs, so it happens once, on import.
CompressionCodecs[CompressionTypes.GZIP] = metered(CompressionCodecs[CompressionTypes.GZIP] as () => Codec);
CompressionCodecs[CompressionTypes.Snappy] = metered(snappyCodec);
CompressionCodecs[CompressionTypes.LZ4] = metered(new LZ4Codec().codec);
CompressionCodecs[CompressionTypes.ZSTD] = metered(() => ({
  compress: (encoder: { buffer: Buffer }) => zstdCompress(encoder.buffer),
  decompress: (buffer: Buffer) => zstdDecompress(buffer),
}));

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
