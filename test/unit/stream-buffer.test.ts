import assert from 'node:assert/strict';
import { encodedMessageBytes, resolveSettings, type StreamMessage } from '../../contracts/stream';
import { OffsetBuffer } from '../../stream/workflow-buffer';

const msg = (offset: number, value: string | null = 'eyJ2YWwiOiAxfQ=='): StreamMessage => ({
  offset,
  value,
  timestamp: 1_700_000_000_000 + offset,
});
const offsets = (messages: StreamMessage[]) => messages.map((m) => m.offset);

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
    const pending = first.drain();
    assert.equal(first.size, 0);
    const next = new OffsetBuffer(first.lastOffset, pending, 50);
    assert.equal(next.size, 2);
    assert.equal(next.oldestArrival, 50);
    assert.deepEqual(next.accept([msg(3), msg(4)], 60), { taken: 1, dropped: 1 });
    assert.deepEqual(offsets(next.take(100, 1e9, 70)), [2, 3, 4]);
  });

  it('stays correct over many small batches (compaction of the consumed prefix)', () => {
    const buffer = new OffsetBuffer(-1);
    const seen: number[] = [];
    for (let i = 0; i < 5000; i += 10) {
      buffer.accept(
        Array.from({ length: 10 }, (_, k) => msg(i + k)),
        i,
      );
      seen.push(...offsets(buffer.take(7, 1e9, i)));
    }
    seen.push(...offsets(buffer.drain()));
    assert.deepEqual(
      seen,
      Array.from({ length: 5000 }, (_, i) => i),
    );
  });

  it('fills in default settings around partial ones', () => {
    const settings = resolveSettings({ flush: { maxMessages: 10 }, continueAsNewAfterEvents: 50 });
    assert.deepEqual(settings, {
      flush: { maxMessages: 10, maxBytes: 1024 * 1024, maxAgeMs: 1000 },
      continueAsNewAfterEvents: 50,
      loadTimeoutMs: 60_000,
    });
  });
});
