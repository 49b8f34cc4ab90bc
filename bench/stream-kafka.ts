// The stream bench's Kafka side: a topic of its own, filled with the simulator's realistic traffic (the real
// producer's format and noise), and a paced producer that records when each offset was sent.
import { CompressionTypes, type Producer } from 'kafkajs';
import { KioskTraffic, REAL_NOISE } from '../simulator/kiosk-traffic';
import { londonWallClockToInstant } from '../domain/london-time';
import type { Config } from '../infra/config';
import { createKafka } from '../infra/kafka';
import { sleep } from './common';

/** 10:00 London time yesterday: every generated press is inside opening hours and in the past. */
export function yesterdayAtTen(): number {
  const date = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  return londonWallClockToInstant(`${date} 10:00:00`)!.getTime();
}

async function connectProducer(cfg: Config): Promise<Producer> {
  const producer = createKafka(cfg.kafka, '-bench-producer').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

/**
 * Sends `values` round-robin over the partitions (no key, as the real kiosks; the partition is chosen here so
 * that every offset's send time is known). Resolves with the send start time per partition and offset base.
 */
async function send(
  producer: Producer,
  topic: string,
  partitions: number,
  first: number,
  values: readonly string[],
): Promise<{ partition: number; baseOffset: number; count: number }[]> {
  const metadata = await producer.send({
    topic,
    acks: -1,
    compression: CompressionTypes.None,
    messages: values.map((value, k) => ({ value, partition: (first + k) % partitions })),
  });
  return metadata.map((m) => ({
    partition: m.partition,
    baseOffset: Number(m.baseOffset),
    count: values.filter((_, k) => (first + k) % partitions === m.partition).length,
  }));
}

/** Fills the topic with `total` presses, one millisecond apart on the kiosk clock, as fast as Kafka takes them. */
export async function fillTopic(
  cfg: Config,
  partitions: number,
  total: number,
  seed: number,
  onProgress: (sent: number) => void,
): Promise<{ seconds: number; noisy: number }> {
  const producer = await connectProducer(cfg);
  const traffic = new KioskTraffic(seed, REAL_NOISE);
  const start = yesterdayAtTen();
  const began = performance.now();
  let noisy = 0;
  try {
    for (let sent = 0; sent < total;) {
      const count = Math.min(10_000, total - sent);
      const values = Array.from({ length: count }, (_, k) => {
        const press = traffic.next(start + sent + k);
        if (press.fault !== null) noisy++;
        return press.value;
      });
      await send(producer, cfg.kafka.topic, partitions, sent, values);
      sent += count;
      if (sent % 100_000 === 0 || sent === total) onProgress(sent);
    }
  } finally {
    await producer.disconnect();
  }
  return { seconds: (performance.now() - began) / 1000, noisy };
}

/** When each offset was handed to the producer, per partition (offset base, count and send time of each send). */
export type SendLog = Map<number, { baseOffset: number; count: number; sentAt: number }[]>;

/**
 * Produces at `rate` per second for `seconds`, in ticks of `tickMs`, each press stamped with the real clock
 * (the kiosk clock is now, or 10:00 yesterday when the museum is closed, moving with real time).
 */
export async function producePaced(
  cfg: Config,
  partitions: number,
  rate: number,
  seconds: number,
  seed: number,
  tickMs = 20,
): Promise<{ sent: number; log: SendLog; seconds: number }> {
  const producer = await connectProducer(cfg);
  const traffic = new KioskTraffic(seed, REAL_NOISE);
  const total = Math.round(rate * seconds);
  const log: SendLog = new Map();
  const began = performance.now();
  const clockStart = yesterdayAtTen();
  let sent = 0;
  try {
    while (sent < total) {
      const elapsed = performance.now() - began;
      const due = Math.min(total, Math.floor((rate * elapsed) / 1000) + 1);
      if (due > sent) {
        const at = performance.timeOrigin + performance.now();
        const values = Array.from(
          { length: due - sent },
          (_, k) => traffic.next(clockStart + Math.floor(((sent + k) * 1000) / rate)).value,
        );
        for (const s of await send(producer, cfg.kafka.topic, partitions, sent, values)) {
          const list = log.get(s.partition) ?? [];
          list.push({ baseOffset: s.baseOffset, count: s.count, sentAt: at });
          log.set(s.partition, list);
        }
        sent = due;
      }
      await sleep(Math.max(0, tickMs - ((performance.now() - began) % tickMs)));
    }
  } finally {
    await producer.disconnect();
  }
  return { sent, log, seconds: (performance.now() - began) / 1000 };
}
