// Splits a partition's records into signal-sized chunks, by bytes as well as by count: a count alone lets a
// run of large values exceed Temporal's payload limit.
import { encodedMessageBytes, MAX_VALUE_BYTES, OVERSIZE_KEPT_BYTES, type StreamMessage } from './stream';

export interface KafkaRecord {
  offset: number;
  /** null for a tombstone. */
  value: Buffer | null;
  /** Record timestamp, ms since the epoch. */
  timestamp: number;
}

/**
 * A record as the workflow takes it. A value over MAX_VALUE_BYTES travels as its first OVERSIZE_KEPT_BYTES
 * and its full length, and is stored as an OVERSIZE reject: no signal could carry it whole.
 */
export function toStreamMessage(record: KafkaRecord): StreamMessage {
  const { offset, value, timestamp } = record;
  if (value === null) return { offset, value: null, timestamp };
  if (value.length <= MAX_VALUE_BYTES) return { offset, value: value.toString('base64'), timestamp };
  return {
    offset,
    value: value.subarray(0, OVERSIZE_KEPT_BYTES).toString('base64'),
    timestamp,
    length: value.length,
  };
}

/**
 * Chunks in offset order, each within maxBytes (as `bytes` counts them) and maxMessages. Each holds at least
 * one item, so a value bigger than maxBytes travels alone instead of blocking the partition (values over
 * MAX_VALUE_BYTES travel cut, so every chunk fits a payload).
 */
export function chunkBySize<T>(
  items: readonly T[],
  bytes: (item: T) => number,
  maxBytes: number,
  maxMessages: number,
): T[][] {
  const chunks: T[][] = [];
  for (let from = 0; from < items.length;) {
    const end = chunkEnd(items, from, bytes, maxBytes, maxMessages);
    chunks.push(items.slice(from, end));
    from = end;
  }
  return chunks;
}

/** Where the chunk that starts at `from` ends (exclusive): at least one item, then within both limits. */
export function chunkEnd<T>(
  items: readonly T[],
  from: number,
  bytes: (item: T) => number,
  maxBytes: number,
  maxMessages: number,
): number {
  let end = from;
  let size = 0;
  while (end < items.length && end - from < maxMessages) {
    const n = bytes(items[end]!);
    if (end > from && size + n > maxBytes) break;
    size += n;
    end++;
  }
  return end;
}

/** Messages in chunks by their encoded size (see chunkBySize). */
export function chunkMessages(
  messages: readonly StreamMessage[],
  maxBytes: number,
  maxMessages: number,
): StreamMessage[][] {
  return chunkBySize(messages, encodedMessageBytes, maxBytes, maxMessages);
}
