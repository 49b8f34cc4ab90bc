// Kafka's own Java console producer and log dumper, from the jars the stack runs the broker with: where a
// producer's behaviour matters (compression, batching, size limits), tests use the real client, not kafkajs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../infra/config';
import { KIOSK_CACHE } from './stack-cache';

const KAFKA_LIBS = path.join(KIOSK_CACHE, 'kafka-4.1.1', 'libs', '*');

export type JavaCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

function runJava(
  mainClass: string,
  args: string[],
  input: string | Buffer,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-Xmx512m', '-cp', KAFKA_LIBS, mainClass, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${mainClass} exited ${code ?? signal}: ${out.slice(-2000)}`));
    });
    child.stdin.end(input);
  });
}

/**
 * Publishes each value as one record (values must not contain a newline) with Kafka's ConsoleProducer,
 * compressed with `codec`, acknowledged by the broker before it exits.
 */
export async function produceWithJava(
  cfg: Config,
  values: readonly (string | Buffer)[],
  codec: JavaCodec,
  producerProperties: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<void> {
  const props = Object.entries({ acks: 'all', 'linger.ms': '50', ...producerProperties }).flatMap(
    ([k, v]) => ['--producer-property', `${k}=${v}`],
  );
  const input = Buffer.concat(values.flatMap((v) => [Buffer.from(v), Buffer.from('\n')]));
  await runJava(
    'org.apache.kafka.tools.ConsoleProducer',
    [
      '--bootstrap-server',
      cfg.kafka.brokers.join(','),
      '--topic',
      cfg.kafka.topic,
      '--compression-codec',
      codec,
      ...props,
    ],
    input,
    timeoutMs,
  );
}

/** The codecs of the record batches in one log segment file, as Kafka's DumpLogSegments reads them. */
export async function batchCodecs(segmentFile: string): Promise<string[]> {
  const out = await runJava('kafka.tools.DumpLogSegments', ['--files', segmentFile], '', 60_000);
  return [...out.matchAll(/compresscodec: (\w+)/g)].map((m) => m[1]!.toLowerCase());
}

/**
 * Kafka's own topic tool (TopicCommand, what `kafka-topics` runs) against the stack's broker, e.g.
 * `['--delete', '--topic', t]`; resolves with what it printed.
 */
export function kafkaTopics(cfg: Config, args: readonly string[]): Promise<string> {
  return runJava(
    'org.apache.kafka.tools.TopicCommand',
    ['--bootstrap-server', cfg.kafka.brokers.join(','), ...args],
    '',
    120_000,
  );
}
