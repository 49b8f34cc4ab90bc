// Publishes kiosk presses to Kafka for the CLI, the demo, tests and benchmarks: generated (realistic, with the
// real sample's noise) or replayed byte-for-byte from a file, paced at a rate.
import fs from 'node:fs';
import { type Publisher } from '../kafka/publisher';
import { simulationStart } from './kiosk-clock';
import { parseReplayFile } from './kiosk-replay';
import { KioskTraffic } from './kiosk-traffic';

const TICK_MS = 100;
// One produce request per tick at most this big; a slow broker makes the next tick catch up.
const MAX_PER_SEND = 10_000;

export interface SimulateOptions {
  /** Messages per second. */
  rate: number;
  durationS: number;
  noise: number;
  seed: number;
  /** The simulated clock's start (ms since the epoch); default simulationStart(now). */
  startMs?: number;
}

export interface Published {
  messages: number;
  noisy: number;
  seconds: number;
}

export type ProgressListener = (sent: number, total: number, elapsedS: number) => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Paces sending at `rate` per second. Message i carries the time start + i / rate, so `at` moves with the
 * real clock and is never in the future.
 */
async function paced(
  total: number,
  rate: number,
  publisher: Publisher,
  make: (index: number) => Buffer,
  onProgress?: ProgressListener,
): Promise<number> {
  const began = Date.now();
  let sent = 0;
  while (sent < total) {
    const elapsedS = (Date.now() - began) / 1000;
    const due = Math.min(total, rate === Infinity ? total : Math.floor(rate * elapsedS) + 1);
    const count = Math.min(due - sent, MAX_PER_SEND);
    if (count > 0) {
      const values = Array.from({ length: count }, (_, k) => make(sent + k));
      await publisher.publish(values);
      sent += count;
      onProgress?.(sent, total, elapsedS);
    } else {
      await sleep(TICK_MS);
    }
  }
  return (Date.now() - began) / 1000;
}

export async function simulateTraffic(
  publisher: Publisher,
  options: SimulateOptions,
  onProgress?: ProgressListener,
): Promise<Published> {
  const traffic = new KioskTraffic(options.seed, options.noise);
  const start = options.startMs ?? simulationStart(Date.now());
  const total = Math.round(options.rate * options.durationS);
  let noisy = 0;
  const seconds = await paced(
    total,
    options.rate,
    publisher,
    (i) => {
      const press = traffic.next(start + Math.floor((i * 1000) / options.rate));
      if (press.fault !== null) noisy++;
      return Buffer.from(press.value, 'utf8');
    },
    onProgress,
  );
  return { messages: total, noisy, seconds };
}

/** Publishes the values as given, in order, at `rate` per second (Infinity: as fast as the broker takes). */
export async function replayValues(
  publisher: Publisher,
  values: readonly Buffer[],
  rate = Infinity,
  onProgress?: ProgressListener,
): Promise<Published> {
  const seconds = await paced(values.length, rate, publisher, (i) => values[i]!, onProgress);
  return { messages: values.length, noisy: 0, seconds };
}

export function readReplayValues(file: string): Buffer[] {
  return parseReplayFile(fs.readFileSync(file, 'utf8')).map((raw) => Buffer.from(raw, 'utf8'));
}
