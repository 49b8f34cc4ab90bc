// A block of Kafka records as the bridge signals them and the load activity reads them: one binary payload per
// signal instead of one JSON object per message. Temporal passes a Uint8Array through untouched (binary/plain),
// so the bytes are neither base64-encoded nor parsed anywhere between the bridge and the load; the workflow
// only reads the small descriptor that travels beside them. Node only (zlib): the workflow never decodes one.
//
// Layout: an 8-byte header (magic "KB", version, compression, record count), then the body, deflated when that
// pays: the offsets and timestamps, each as its difference from the one before (the first as it is; float64,
// exact for Kafka's values, and runs of equal differences deflate to almost nothing), the bytes kept of each
// value (int32, -1 for a tombstone) and each value's full length (uint32, larger than kept only for an oversize
// value), then the kept bytes of every value, one after another.
import zlib from 'node:zlib';
import { MAX_VALUE_BYTES, OVERSIZE_KEPT_BYTES, type RecordBlockInfo } from './stream';
import type { KafkaRecord } from './stream-chunks';

/** One record as the load reads it back: the value's bytes as Kafka gave them (cut when oversize). */
export interface RawMessage {
  offset: number;
  /** null for a tombstone. */
  value: Buffer | null;
  timestamp: number;
  /** Set when `value` holds only the first OVERSIZE_KEPT_BYTES of a value this many bytes long. */
  length?: number;
}

const MAGIC = 0x4b42; // "KB"
const VERSION = 1;
const HEADER_BYTES = 8;
const PER_RECORD_BYTES = 8 + 8 + 4 + 4;
const RAW = 0;
const DEFLATED = 1;
const TOMBSTONE = -1;

/** Bytes a record adds to a block before compression: what signal and flush limits count. */
export function recordBlockBytes(record: KafkaRecord): number {
  return PER_RECORD_BYTES + Math.min(record.value?.length ?? 0, MAX_VALUE_BYTES);
}

function keptBytes(value: Buffer): number {
  return value.length > MAX_VALUE_BYTES ? OVERSIZE_KEPT_BYTES : value.length;
}

/** A record as the load takes it, without a block in between (what a block's decode gives back). */
export function toRawMessage(record: KafkaRecord): RawMessage {
  const { offset, value, timestamp } = record;
  if (value === null || value.length <= MAX_VALUE_BYTES) return { offset, value, timestamp };
  return { offset, value: value.subarray(0, OVERSIZE_KEPT_BYTES), timestamp, length: value.length };
}

/**
 * Packs records (in offset order) into one block. Deflate level 1: kiosk values are small JSON objects that
 * shrink several times at a cost far below what the bytes would cost Temporal (bench/README.md); a block that
 * does not shrink (hostile or already compressed values) stays raw.
 */
export async function encodeRecordBlock(
  records: readonly KafkaRecord[],
): Promise<{ info: RecordBlockInfo; data: Uint8Array }> {
  if (records.length === 0) throw new Error('a record block holds at least one record');
  const count = records.length;
  let valueBytes = 0;
  for (const r of records) if (r.value !== null) valueBytes += keptBytes(r.value);
  const body = Buffer.allocUnsafe(count * PER_RECORD_BYTES + valueBytes);
  let at = count * PER_RECORD_BYTES;
  let contiguous = true;
  records.forEach((r, i) => {
    const before = i > 0 ? records[i - 1]! : { offset: 0, timestamp: 0 };
    body.writeDoubleLE(r.offset - before.offset, i * 8);
    body.writeDoubleLE(r.timestamp - before.timestamp, (count + i) * 8);
    const kept = r.value === null ? TOMBSTONE : keptBytes(r.value);
    body.writeInt32LE(kept, count * 16 + i * 4);
    body.writeUInt32LE(r.value?.length ?? 0, count * 20 + i * 4);
    if (r.value !== null) at += r.value.copy(body, at, 0, kept);
    if (i > 0 && r.offset !== records[i - 1]!.offset + 1) contiguous = false;
  });
  const deflated = await new Promise<Buffer>((resolve, reject) =>
    zlib.deflateRaw(body, { level: 1 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  const compress = deflated.length < body.length * 0.9;
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(MAGIC, 0);
  header.writeUInt8(VERSION, 2);
  header.writeUInt8(compress ? DEFLATED : RAW, 3);
  header.writeUInt32LE(count, 4);
  const data = Buffer.concat([header, compress ? deflated : body]);
  const first = records[0]!;
  const last = records[count - 1]!;
  return {
    info: {
      firstOffset: first.offset,
      lastOffset: last.offset,
      count,
      ...(contiguous ? {} : { offsets: records.map((r) => r.offset) }),
      lastTimestamp: last.timestamp,
    },
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

/**
 * Packs a prefix of `records` whose block is at most `maxBytes`, and at least one record: values that do not
 * deflate make a block of their packed size, which must still fit a payload. A block over the limit is cut in
 * proportion (with a margin), so incompressible values cost about two deflates, not one per halving.
 */
export async function encodeRecordBlockWithin(
  records: readonly KafkaRecord[],
  maxBytes: number,
): Promise<{ info: RecordBlockInfo; data: Uint8Array }> {
  let taken = records;
  for (;;) {
    const block = await encodeRecordBlock(taken);
    if (block.data.byteLength <= maxBytes || taken.length === 1) return block;
    const fits = Math.floor(((taken.length * maxBytes) / block.data.byteLength) * 0.9);
    taken = taken.slice(0, Math.max(1, Math.min(fits, taken.length - 1)));
  }
}

/** Unpacks a block; throws on anything the bridge could not have written (the load fails, nothing is lost). */
export function decodeRecordBlock(data: Uint8Array): RawMessage[] {
  const block = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (block.length < HEADER_BYTES || block.readUInt16BE(0) !== MAGIC || block.readUInt8(2) !== VERSION) {
    throw new Error('not a record block of version 1');
  }
  const count = block.readUInt32LE(4);
  const compression = block.readUInt8(3);
  const packed = block.subarray(HEADER_BYTES);
  const body = compression === DEFLATED ? zlib.inflateRawSync(packed) : packed;
  const messages: RawMessage[] = new Array<RawMessage>(count);
  let at = count * PER_RECORD_BYTES;
  let offset = 0;
  let timestamp = 0;
  for (let i = 0; i < count; i++) {
    const kept = body.readInt32LE(count * 16 + i * 4);
    const full = body.readUInt32LE(count * 20 + i * 4);
    offset += body.readDoubleLE(i * 8);
    timestamp += body.readDoubleLE((count + i) * 8);
    const message: RawMessage = {
      offset,
      timestamp,
      value: kept === TOMBSTONE ? null : body.subarray(at, at + kept),
    };
    if (kept !== TOMBSTONE) {
      at += kept;
      if (full > kept) message.length = full;
    }
    messages[i] = message;
  }
  if (at !== body.length)
    throw new Error(`record block of ${count} records has ${body.length - at} stray bytes`);
  return messages;
}

/** The records of a block that a workflow took: those after `skipThrough` (a redelivery's overlap). */
export function takenRecords(messages: readonly RawMessage[], skipThrough: number | undefined): RawMessage[] {
  return skipThrough === undefined ? [...messages] : messages.filter((m) => m.offset > skipThrough);
}
