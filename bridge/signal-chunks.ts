// Splits a partition's records into signal-sized chunks, by bytes as well as by count: a count alone lets a
// run of large values exceed Temporal's payload limit.
import { encodedMessageBytes, type StreamMessage } from '../workflows/stream-api';
import type { KafkaRecord } from './kafka-consumer';

// Temporal refuses payloads over 2 MiB; a single record beyond this cannot travel in any signal.
export const MAX_SINGLE_MESSAGE_BYTES = 2 * 1024 * 1024 - 16 * 1024;

export function toStreamMessage(record: KafkaRecord): StreamMessage {
  return {
    offset: record.offset,
    value: record.value === null ? null : record.value.toString('base64'),
    timestamp: record.timestamp,
  };
}

export class OversizeMessageError extends Error {
  constructor(
    readonly offset: number,
    readonly bytes: number,
  ) {
    super(
      `message at offset ${offset} needs ${bytes} bytes in a signal, over Temporal's payload limit; ` +
        `keep the topic's max.message.bytes under 1.5 MB`,
    );
    this.name = 'OversizeMessageError';
  }
}

/**
 * Chunks in offset order. Each holds at least one message, so a value bigger than maxBytes (but within the
 * payload limit) travels alone instead of blocking the partition.
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
    if (size > MAX_SINGLE_MESSAGE_BYTES) throw new OversizeMessageError(message.offset, size);
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
