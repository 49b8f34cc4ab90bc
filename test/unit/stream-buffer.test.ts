import assert from 'node:assert/strict';
import { encodedMessageBytes, resolveSettings, type StreamMessage } from '../../contracts/stream';
import { OffsetBuffer, splitAtStored, type Flush } from '../../stream/workflow-buffer';
import { encodeRecordBlock } from '../../contracts/record-block';

const msg = (offset: number, value: string | null = 'eyJ2YWwiOiAxfQ=='): StreamMessage => ({
  offset,
  value,
  timestamp: 1_700_000_000_000 + offset,
});
const offsets = (batch: Flush | StreamMessage[]) =>
  Array.isArray(batch)
    ? batch.map((m) => m.offset)
    : batch.kind === 'messages'
      ? batch.messages.map((m) => m.offset)
      : batch.blocks.map((b) => `block ${b.block.firstTaken}..${b.block.info.lastOffset}`);
const block = (from: number, to: number, skip: number[] = []) =>
  encodeRecordBlock(
    Array.from({ length: to - from + 1 }, (_, i) => from + i)
      .filter((o) => !skip.includes(o))
      .map((offset) => ({ offset, value: Buffer.from(`{"val": ${offset % 5}}`), timestamp: offset })),
  );

describe('stream workflow buffer', () => {
  it('takes each offset once: redeliveries at or below the last offset are dropped', () => {
    const buffer = new OffsetBuffer(-1);
    assert.deepEqual(buffer.accept([msg(0), msg(1), msg(2)], 10), { taken: 3, dropped: 0 });
    // A redelivered signal, a rebalance that resends from the last commit, then new offsets.
    assert.deepEqual(buffer.accept([msg(1), msg(2)], 11), { taken: 0, dropped: 2 });
    assert.deepEqual(buffer.accept([msg(2), msg(3), msg(4)], 12), { taken: 2, dropped: 1 });
    assert.equal(buffer.lastOffset, 4);
    assert.deepEqual(offsets(buffer.take(100, 1e9, 13)), [0, 1, 2, 3, 4]);
  });

  it('accepts gaps in the offsets (compaction, transaction markers)', () => {
    const buffer = new OffsetBuffer(9);
    assert.deepEqual(buffer.accept([msg(7), msg(12), msg(30)], 0), { taken: 2, dropped: 1 });
    assert.equal(buffer.lastOffset, 30);
  });

  it('hands out batches by count and by bytes, at least one message even when it alone is too big', () => {
    const buffer = new OffsetBuffer(-1);
    const big = 'x'.repeat(5000);
    buffer.accept([msg(0), msg(1), msg(2, big), msg(3), msg(4), msg(5)], 0);
    const small = encodedMessageBytes(msg(0));
    assert.equal(buffer.byteSize, 5 * small + encodedMessageBytes(msg(2, big)));
    assert.deepEqual(offsets(buffer.take(10, small * 2, 1)), [0, 1]);
    assert.deepEqual(offsets(buffer.take(10, small * 2, 1)), [2]);
    assert.deepEqual(offsets(buffer.take(2, 1e9, 1)), [3, 4]);
    assert.equal(buffer.size, 1);
    assert.deepEqual(offsets(buffer.take(2, 1e9, 1)), [5]);
    assert.equal(buffer.size, 0);
    assert.equal(buffer.byteSize, 0);
    assert.equal(buffer.oldestArrival, undefined);
  });

  it('remembers when the oldest buffered message arrived, for the age rule', () => {
    const buffer = new OffsetBuffer(-1);
    buffer.accept([msg(0)], 100);
    buffer.accept([msg(1)], 200);
    assert.equal(buffer.oldestArrival, 100);
    buffer.take(1, 1e9, 300);
    assert.equal(buffer.oldestArrival, 300);
  });

  it('restores the messages a previous run handed over, then keeps deduplicating from its last offset', () => {
    const first = new OffsetBuffer(-1);
    first.accept([msg(0), msg(1), msg(2), msg(3, null)], 0);
    first.take(2, 1e9, 0);
    const pending = first.drain().messages;
    assert.equal(first.size, 0);
    const next = new OffsetBuffer(first.lastOffset, pending, 50);
    assert.equal(next.size, 2);
    assert.equal(next.oldestArrival, 50);
    assert.deepEqual(next.accept([msg(3), msg(4)], 60), { taken: 1, dropped: 1 });
    assert.deepEqual(offsets(next.take(100, 1e9, 70)), [2, 3, 4]);
  });

  it('stays correct over many small batches (compaction of the consumed prefix)', () => {
    const buffer = new OffsetBuffer(-1);
    const seen: (number | string)[] = [];
    for (let i = 0; i < 5000; i += 10) {
      buffer.accept(
        Array.from({ length: 10 }, (_, k) => msg(i + k)),
        i,
      );
      seen.push(...offsets(buffer.take(7, 1e9, i)));
    }
    seen.push(...offsets(buffer.drain().messages));
    assert.deepEqual(
      seen,
      Array.from({ length: 5000 }, (_, i) => i),
    );
  });

  it('takes record blocks whole, drops redelivered ones, and marks where an overlapping one starts', async () => {
    const buffer = new OffsetBuffer(-1);
    const a = await block(0, 9);
    const overlap = await block(5, 14);
    const gappy = await block(15, 24, [17, 18]);
    assert.deepEqual(buffer.acceptBlock(a.info, a.data, 1), { taken: 10, dropped: 0 });
    assert.deepEqual(buffer.acceptBlock(a.info, a.data, 2), { taken: 0, dropped: 10 });
    assert.deepEqual(buffer.acceptBlock(overlap.info, overlap.data, 3), { taken: 5, dropped: 5 });
    assert.deepEqual(gappy.info.offsets, [15, 16, 19, 20, 21, 22, 23, 24]);
    assert.equal(buffer.size, 15);
    assert.equal(buffer.lastOffset, 14);
    assert.equal(buffer.byteSize, a.data.byteLength + overlap.data.byteLength);
    assert.equal(buffer.oldestArrival, 1);
    // A redelivery of a block with gaps that overlaps: only the offsets beyond the mark count.
    buffer.acceptBlock(gappy.info, gappy.data, 4);
    const partial = await block(15, 30, [17, 18]);
    assert.deepEqual(buffer.acceptBlock(partial.info, partial.data, 5), { taken: 6, dropped: 8 });
    const flush = buffer.take(100, 1e9, 6);
    assert.equal(flush.kind, 'blocks');
    if (flush.kind !== 'blocks') return;
    assert.deepEqual(
      flush.blocks.map((b) => [b.block.firstTaken, b.block.skipThrough, b.block.taken]),
      [
        [0, undefined, 10],
        [10, 9, 5],
        [15, undefined, 8],
        [25, 24, 6],
      ],
    );
    assert.equal(buffer.size, 0);
  });

  it('hands out blocks and messages in separate flushes, by count and bytes, and carries both over', async () => {
    const buffer = new OffsetBuffer(-1);
    buffer.accept([msg(0), msg(1)], 0);
    const b1 = await block(2, 5);
    const b2 = await block(6, 9);
    buffer.acceptBlock(b1.info, b1.data, 0);
    buffer.acceptBlock(b2.info, b2.data, 0);
    buffer.accept([msg(10)], 0);
    assert.deepEqual(offsets(buffer.take(100, 1e9, 1)), [0, 1]);
    // Four messages per block: a limit of six takes one block; at least one is taken even over the limits.
    assert.deepEqual(offsets(buffer.take(6, 1e9, 1)), ['block 2..5']);
    const next = new OffsetBuffer(buffer.lastOffset, buffer.drain().messages, 7, []);
    assert.equal(next.size, 1);
    const carried = new OffsetBuffer(9, [], 8, [{ block: takeOne(b2).block, data: b2.data }]);
    assert.deepEqual(offsets(carried.take(1, 1, 9)), ['block 6..9']);
    assert.equal(carried.size, 0);
  });

  it('gives back what a load did not store: it goes out first, as old as when it was taken', () => {
    const buffer = new OffsetBuffer(-1);
    buffer.accept(
      [0, 1, 2, 3, 4, 5].map((o) => msg(o)),
      10,
    );
    const batch = buffer.take(100, 1e9, 20);
    buffer.accept([msg(6), msg(7)], 30);
    const { stored, unstored } = splitAtStored(batch, 4);
    assert.deepEqual(
      [offsets(stored), unstored && offsets(unstored)],
      [
        [0, 1, 2, 3],
        [4, 5],
      ],
    );
    buffer.putBack(unstored!, 20);
    assert.deepEqual(
      [buffer.size, buffer.oldestArrival, buffer.firstOffset, buffer.lastOffset],
      [4, 20, 4, 7],
    );
    assert.equal(
      buffer.byteSize,
      [4, 5, 6, 7].reduce((n, o) => n + encodedMessageBytes(msg(o)), 0),
    );
    assert.deepEqual(offsets(buffer.take(100, 1e9, 40)), [4, 5, 6, 7]);
  });

  it('splits a flush of blocks only between blocks, and a whole count or none leaves it stored', async () => {
    const buffer = new OffsetBuffer(-1);
    for (const [from, to] of [
      [0, 3],
      [4, 9],
      [10, 11],
    ] as const) {
      const b = await block(from, to);
      buffer.acceptBlock(b.info, b.data, 0);
    }
    const batch = buffer.take(100, 1e9, 1);
    const split = (handled: number) => {
      const { stored, unstored } = splitAtStored(batch, handled);
      return [offsets(stored), unstored && offsets(unstored)];
    };
    assert.deepEqual(split(10), [['block 0..3', 'block 4..9'], ['block 10..11']]);
    assert.deepEqual(split(4), [['block 0..3'], ['block 4..9', 'block 10..11']]);
    for (const handled of [12, 0, 5]) assert.deepEqual(split(handled), [offsets(batch), undefined]);
    buffer.putBack(splitAtStored(batch, 4).unstored!, 1);
    assert.deepEqual([buffer.size, offsets(buffer.take(100, 1e9, 2))], [8, ['block 4..9', 'block 10..11']]);
  });

  it('fills in default settings around partial ones', () => {
    const settings = resolveSettings({ flush: { maxMessages: 10 }, continueAsNewAfterEvents: 50 });
    assert.deepEqual(settings, {
      flush: { maxMessages: 10, maxBytes: 1024 * 1024, maxAgeMs: 100 },
      continueAsNewAfterEvents: 50,
      loadTimeoutMs: 60_000,
    });
  });
});

function takeOne(b: Awaited<ReturnType<typeof block>>) {
  const buffer = new OffsetBuffer(-1);
  buffer.acceptBlock(b.info, b.data, 0);
  const flush = buffer.take(1e9, 1e9, 0);
  if (flush.kind !== 'blocks') throw new Error('expected a block');
  return flush.blocks[0]!;
}
