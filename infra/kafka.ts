// The one place that knows kafkajs (in maintenance mode): the rest of the code sees only this seam.
import LZ4Codec from '@2l/kafkajs-lz4';
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { generateAuthToken, generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import {
  CompressionCodecs,
  CompressionTypes,
  Kafka,
  logLevel,
  type KafkaConfig,
  type SASLOptions,
} from 'kafkajs';
import snappyCodec from 'kafkajs-snappy';
import type { Config } from './config';
import { explainTlsRefusal } from './dependency-errors';

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
    ssl: k.ssl && k.sslCa !== undefined ? { ca: [k.sslCa] } : k.ssl,
    sasl: kafkajsSasl(k.sasl),
    logLevel: options.probe ? logLevel.NOTHING : logLevel.ERROR,
    connectionTimeout: 5000,
    retry: options.probe ? { retries: 0 } : { retries: 5, initialRetryTime: 200 },
  };
  return new Kafka(config);
}

type CredentialsProvider = Parameters<
  typeof generateAuthTokenFromCredentialsProvider
>[0]['awsCredentialsProvider'];

/**
 * Amazon MSK's IAM login: a token signed (by AWS's signer package) with the credentials of the default
 * chain, which on ECS is the task role's, rotated by AWS. Asked for at every login, so a token never outlives
 * the credentials that signed it.
 */
export function mskIamToken(region: string, credentials?: CredentialsProvider): () => Promise<string> {
  return async () => {
    const { token } = credentials
      ? await generateAuthTokenFromCredentialsProvider({ region, awsCredentialsProvider: credentials })
      : await generateAuthToken({ region });
    return token;
  };
}

export function kafkajsSasl(sasl: Config['kafka']['sasl']): SASLOptions | undefined {
  if (sasl === undefined) return undefined;
  if (sasl.mechanism === 'aws-msk-iam') {
    const token = mskIamToken(sasl.region);
    return { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await token() }) };
  }
  const { username, password } = sasl;
  if (sasl.mechanism === 'plain') return { mechanism: 'plain', username, password };
  return { mechanism: sasl.mechanism, username, password };
}

/** The same TLS and SASL for @platformatic/kafka (kafka/topic-id.ts), from the same settings. */
export function platformaticConnection(k: Config['kafka']) {
  const tls = k.ssl ? (k.sslCa !== undefined ? { ca: [k.sslCa] } : {}) : undefined;
  const s = k.sasl;
  if (s === undefined) return { tls, sasl: undefined };
  if (s.mechanism === 'aws-msk-iam') {
    return { tls, sasl: { mechanism: 'OAUTHBEARER' as const, token: mskIamToken(s.region) } };
  }
  const mechanism = (
    { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const
  )[s.mechanism];
  return { tls, sasl: { mechanism, username: s.username, password: s.password } };
}

/**
 * A Kafka login or TLS failure as a sentence naming the settings to check; other errors pass unchanged.
 * kafkajs keeps the TLS error's code on its connection error.
 */
export function describeKafkaError(err: unknown, k: Config['kafka']): unknown {
  const e = err as { name?: unknown; message?: unknown };
  if (
    e?.name === 'KafkaJSSASLAuthenticationError' ||
    /SASL|authentication failed/i.test(String(e?.message))
  ) {
    const who =
      k.sasl?.mechanism === 'aws-msk-iam'
        ? "the task role's IAM credentials (KAFKA_SASL_MECHANISM aws-msk-iam)"
        : `KAFKA_SASL_USERNAME '${k.sasl?.username ?? ''}' and KAFKA_SASL_PASSWORD (KAFKA_SASL_MECHANISM ${k.sasl?.mechanism ?? 'unset'})`;
    return new Error(`Kafka refused the login: ${String(e.message)}; check ${who}`, { cause: err });
  }
  return explainTlsRefusal(err, 'Kafka', 'KAFKA_SSL_CA');
}
