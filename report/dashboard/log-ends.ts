// The Operations view's one Kafka question: each partition's log end offset. Answered within a deadline and
// shared for a few seconds, so many browsers or a dead broker never make the page wait long or pile up
// connections.
import type { Config } from '../../infra/config';
import { createKafka } from '../../infra/kafka';
import type { LogEnds } from '../operations';

export function createLogEnds(
  kafka: Config['kafka'],
  topic: string,
  timeoutMs = 3000,
  cacheMs = 5000,
): LogEnds {
  let cached: { at: number; value: Promise<Map<number, number>> } | undefined;

  async function read(): Promise<Map<number, number>> {
    const admin = createKafka(kafka, '-dashboard', { probe: true }).admin();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from ${kafka.brokers.join(',')} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const ends = await Promise.race([admin.connect().then(() => admin.fetchTopicOffsets(topic)), deadline]);
      return new Map(ends.map((e) => [e.partition, Number(e.high)]));
    } finally {
      clearTimeout(timer);
      // A connection still retrying past the deadline is dropped in the background.
      void admin.disconnect().catch(() => undefined);
    }
  }

  return () => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > cacheMs) {
      const value = read();
      value.catch(() => undefined);
      cached = { at: now, value };
    }
    return cached.value;
  };
}
