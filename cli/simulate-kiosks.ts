// `simulate kiosks`: the command line over simulator/kiosk-publishing.ts.
import { randomInt } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { connectPublisher } from '../kafka/publisher';
import {
  readReplayValues,
  replayValues,
  simulateTraffic,
  type ProgressListener,
} from '../simulator/kiosk-publishing';
import { REAL_NOISE } from '../simulator/kiosk-traffic';
import { loadConfig } from '../infra/config';

function positiveNumber(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0)
      throw new InvalidArgumentError(`${name} must be a positive number`);
    return value;
  };
}

function fraction(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new InvalidArgumentError('must be within 0..1');
  return value;
}

function integer(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError('must be an integer');
  return value;
}

function instant(text: string): number {
  const value = Date.parse(text);
  if (Number.isNaN(value)) throw new InvalidArgumentError('must be an ISO-8601 time');
  return value;
}

interface CliOptions {
  rate?: number;
  duration: number;
  noise: number;
  seed?: number;
  start?: number;
  replay?: string;
  topic?: string;
}

function progressPrinter(): ProgressListener {
  let lastPrint = 0;
  return (sent, total, elapsedS) => {
    if (sent < total && elapsedS - lastPrint < 1) return;
    lastPrint = elapsedS;
    console.log(`simulate: sent ${sent}/${total} (${Math.round(sent / Math.max(elapsedS, 0.001))}/s)`);
  };
}

export function registerSimulateCommands(program: Command): void {
  // The group is shared with `simulate history` (client.ts adds it): describe both.
  const simulate = program
    .command('simulate')
    .description('generate realistic kiosk data: live Kafka traffic, or historical CSV files');
  simulate
    .command('kiosks')
    .description(
      'publish kiosk presses to the Kafka topic in the real producer format; generated (with noise like the ' +
        'real sample) or replayed from a file',
    )
    .option('--rate <n>', 'messages per second (replay: default as fast as possible)', positiveNumber('rate'))
    .option('--duration <s>', 'seconds to run (generated traffic)', positiveNumber('duration'), 10)
    .option('--noise <f>', 'share of messages that break a rule', fraction, REAL_NOISE)
    .option('--seed <s>', 'random seed, to reproduce a run (default: random, printed)', integer)
    .option(
      '--start <iso>',
      'the kiosk clock at the first message (default: now while the museum is open, else 10:00 London time ' +
        'on the most recent day)',
      instant,
    )
    .option(
      '--replay <file>',
      "publish the values in FILE instead: one JSON string per line, or the shared sample's messages[].raw",
    )
    .option('--topic <topic>', 'topic to publish to (default: KAFKA_TOPIC)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  kiosk simulate kiosks --rate 50 --duration 60\n' +
        '  kiosk simulate kiosks --replay ../shared/data/lmnh/lmnh_kafka_sample_messages.json',
    )
    .action(async (opts: CliOptions) => {
      const config = loadConfig();
      const topic = opts.topic ?? config.kafka.topic;
      const values = opts.replay === undefined ? undefined : readReplayValues(opts.replay);
      const publisher = await connectPublisher(config.kafka, topic);
      try {
        if (values !== undefined) {
          const done = await replayValues(publisher, values, opts.rate, progressPrinter());
          console.log(
            `simulate: replayed ${done.messages} values from ${opts.replay} to ${topic} in ${done.seconds.toFixed(1)}s`,
          );
          return;
        }
        const seed = opts.seed ?? randomInt(2 ** 31);
        const rate = opts.rate ?? 10;
        console.log(
          `simulate: ${rate}/s for ${opts.duration}s to ${topic}, noise ${opts.noise}, seed ${seed}`,
        );
        const done = await simulateTraffic(
          publisher,
          { rate, durationS: opts.duration, noise: opts.noise, seed, startMs: opts.start },
          progressPrinter(),
        );
        console.log(
          `simulate: published ${done.messages} messages (${done.noisy} with a fault) in ${done.seconds.toFixed(1)}s`,
        );
      } finally {
        await publisher.close();
      }
    });
}
