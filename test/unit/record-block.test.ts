import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  decodeRecordBlock,
  encodeRecordBlock,
  encodeRecordBlockWithin,
  takenRecords,
  toRawMessage,
} from '../../contracts/record-block';
import { MAX_VALUE_BYTES, OVERSIZE_KEPT_BYTES } from '../../contracts/stream';
import type { KafkaRecord } from '../../contracts/stream-chunks';

const record = (
  offset: number,
  value: Buffer | null,
  timestamp = 1_764_000_000_000 + offset,
): KafkaRecord => ({
  offset,
  value,
  timestamp,
});

describe('record blocks (the signal format between the bridge and the load)', () => {
  it('gives back every record byte for byte: tombstones, empty values, invalid UTF-8, oversize values', async () => {
    const oversize = Buffer.alloc(MAX_VALUE_BYTES + 1, 0x61);
    const records = [
      record(10, Buffer.from('{"at": "2026-11-29T10:00:00+00:00", "site": "1", "val": 3}')),
      record(11, null),
      record(12, Buffer.alloc(0)),
      record(13, Buffer.from([0xff, 0xfe, 0x00, 0x7b])),
      record(14, oversize),
      record(15, Buffer.from('{}'), 0),
    ];
    const { info, data } = await encodeRecordBlock(records);
    assert.deepEqual(info, { firstOffset: 10, lastOffset: 15, count: 6, lastTimestamp: 0 });
    const decoded = decodeRecordBlock(data);
    assert.deepEqual(decoded, records.map(toRawMessage));
    assert.equal(decoded[4]!.value!.length, OVERSIZE_KEPT_BYTES);
    assert.equal(decoded[4]!.length, MAX_VALUE_BYTES + 1);
    assert.equal(decoded[1]!.value, null);
    assert.deepEqual(decoded[2]!.value, Buffer.alloc(0));
  });

  it('lists the offsets only when they have gaps, and deflates only what shrinks', async () => {
    const text = Array.from({ length: 200 }, (_, i) =>
      record(i * 2, Buffer.from(`{"site": "${i % 7}", "val": 1}`)),
    );
    const packed = await encodeRecordBlock(text);
    assert.deepEqual(
      packed.info.offsets,
      text.map((r) => r.offset),
    );
    assert.equal(packed.data[3], 1, 'kiosk JSON is deflated');
    const noise = [record(0, randomBytes(4000)), record(1, randomBytes(4000))];
    const raw = await encodeRecordBlock(noise);
    assert.equal(raw.info.offsets, undefined);
    assert.equal(raw.data[3], 0, 'random bytes stay raw');
    assert.deepEqual(decodeRecordBlock(raw.data), noise.map(toRawMessage));
  });

  it('packs the longest prefix that fits a payload: kiosk JSON whole, values that do not deflate split', async () => {
    const kiosk = Array.from({ length: 20_000 }, (_, i) =>
      record(
        i,
        Buffer.from(
          `{"at": "2026-11-29T10:00:${String(i % 60).padStart(2, '0')}+00:00", "site": "${i % 6}", "val": ${i % 5}}`,
        ),
      ),
    );
    const whole = await encodeRecordBlockWithin(kiosk, 1024 * 1024);
    assert.equal(whole.info.count, 20_000);
    assert.deepEqual(decodeRecordBlock(whole.data), kiosk.map(toRawMessage));

    const noise = Array.from({ length: 40 }, (_, i) => record(100 + i, randomBytes(64 * 1024)));
    const part = await encodeRecordBlockWithin(noise, 1024 * 1024);
    assert.ok(part.data.byteLength <= 1024 * 1024, `${part.data.byteLength} bytes`);
    assert.ok(part.info.count >= 8 && part.info.count < 40, `${part.info.count} records`);
    assert.equal(part.info.lastOffset, 100 + part.info.count - 1);
    assert.deepEqual(decodeRecordBlock(part.data), noise.slice(0, part.info.count).map(toRawMessage));

    const alone = await encodeRecordBlockWithin([record(7, randomBytes(MAX_VALUE_BYTES))], 1024);
    assert.equal(alone.info.count, 1, 'a record larger than the limit still travels, alone');
  });

  it('skips what a redelivery overlapped', async () => {
    const { data } = await encodeRecordBlock([5, 6, 9, 12].map((o) => record(o, Buffer.from('x'))));
    const all = decodeRecordBlock(data);
    assert.deepEqual(
      takenRecords(all, 6).map((m) => m.offset),
      [9, 12],
    );
    assert.deepEqual(
      takenRecords(all, undefined).map((m) => m.offset),
      [5, 6, 9, 12],
    );
  });

  it('refuses bytes it did not write, and an empty block', async () => {
    const { data } = await encodeRecordBlock([record(1, Buffer.from('{"val": 1}'))]);
    assert.throws(() => decodeRecordBlock(data.subarray(0, 4)), /not a record block/);
    assert.throws(() => decodeRecordBlock(Buffer.from('{"messages": []}')), /not a record block/);
    const truncated = Buffer.from(data);
    truncated.writeUInt32LE(2, 4);
    assert.throws(() => decodeRecordBlock(truncated));
    await assert.rejects(encodeRecordBlock([]), /at least one record/);
  });
});
