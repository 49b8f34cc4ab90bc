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
 * Chunks in offset order. Each holds at least one message, so a value bigger than maxBytes travels alone
 * instead of blocking the partition (toStreamMessage keeps every message within a payload).
 */
export function chunkMessages(
  messages: readonly StreamMessage[],
  maxBytes: number,
  maxMessages: number,
): StreamMessage[][] {
  const chunks: StreamMessage[][] = [];
  let current: StreamMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = encodedMessageBytes(message);
    if (current.length > 0 && (bytes + size > maxBytes || current.length >= maxMessages)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
