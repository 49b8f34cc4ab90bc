import assert from 'node:assert/strict';
import type { StreamMessage } from '../../contracts/stream';
import type { Arrival } from '../../stream/workflow-buffer';
import { OffsetStop, type StopFields } from '../../stream/workflow-stop';

const arrival = (...offsets: number[]): Arrival => ({
  messages: offsets.map((offset): StreamMessage => ({ offset, value: null, timestamp: offset })),
});
const AT = new Date('2026-12-07T08:00:00Z');

function stopAt(lastOffset: number): { chain: StopFields; stop: OffsetStop } {
  const chain: StopFields = { lastOffset };
  return { chain, stop: new OffsetStop(chain, 'lmnh', 3) };
}

describe('stream offset stop', () => {
  it('lets arrivals through while log ends stay above the last offset', () => {
    const { stop } = stopAt(9);
    assert.equal(stop.park(arrival(10, 11), 12), false);
    assert.equal(stop.park(arrival(12), undefined), false);
    assert.equal(stop.suspectLogEnd, undefined);
    assert.equal(stop.unsettled, false);
  });

  it('parks from a log end at or below the last offset until Kafka answers', () => {
    const { chain, stop } = stopAt(9);
    assert.equal(stop.park(arrival(3, 4), 9), true);
    assert.deepEqual(stop.suspectLogEnd, { logEnd: 9, lastOffset: 9 });
    // Later arrivals wait behind the check, whatever their own log end, and the first suspicion stays.
    chain.lastOffset = 20;
    assert.equal(stop.park(arrival(5), 6), true);
    assert.equal(stop.park(arrival(30), 31), true);
    assert.deepEqual(stop.suspectLogEnd, { logEnd: 9, lastOffset: 9 });
    assert.equal(stop.parkedCount, 4);
    assert.equal(stop.unsettled, true);
  });

  it('releases the parked arrivals in order when Kafka shows the log end was stale', () => {
    const { chain, stop } = stopAt(9);
    stop.park(arrival(10), 5);
    stop.park(arrival(11, 12), 12);
    const outcome = stop.settle(13, AT);
    assert.deepEqual(outcome, { released: [arrival(10), arrival(11, 12)] });
    assert.equal(chain.stopped, undefined);
    assert.equal(stop.suspectLogEnd, undefined);
    assert.equal(stop.parkedCount, 0);
    assert.equal(stop.unsettled, false);
  });

  it('stops when Kafka confirms the log went back, and keeps parking until a resume', () => {
    const { chain, stop } = stopAt(9);
    stop.park(arrival(0, 1), 2);
    const outcome = stop.settle(9, AT);
    const expected = {
      at: '2026-12-07T08:00:00.000Z',
      reason:
        "offsets went backwards: the log of lmnh/3 ends at 9, at or below this chain's last offset 9, under " +
        'the same topic id; records at or below it are not taken',
      lastOffset: 9,
      logEnd: 9,
    };
    assert.deepEqual(outcome, { stopped: expected });
    assert.deepEqual(chain.stopped, expected);
    assert.equal(stop.suspectLogEnd, undefined);
    // Stopped: everything is parked, and a low log end raises no new suspicion.
    assert.equal(stop.park(arrival(2), 3), true);
    assert.equal(stop.park(arrival(3), undefined), true);
    assert.equal(stop.suspectLogEnd, undefined);
    assert.equal(stop.parkedCount, 4);

    assert.deepEqual(stop.resume(), [arrival(0, 1), arrival(2), arrival(3)]);
    assert.equal(chain.stopped, undefined);
    assert.equal(stop.park(arrival(10), 11), false);
  });

  it('refuses a resume when not stopped, and keeps what waits for a check', () => {
    const { stop } = stopAt(9);
    assert.equal(stop.resume(), undefined);
    stop.park(arrival(4), 5);
    assert.equal(stop.resume(), undefined);
    assert.equal(stop.parkedCount, 1);
  });

  it('ends with its chain: suspicion and stop cleared, every parked arrival handed back', () => {
    const { chain, stop } = stopAt(9);
    stop.park(arrival(1), 2);
    stop.settle(2, AT);
    stop.park(arrival(2, 3), undefined);
    assert.deepEqual(stop.end(), [arrival(1), arrival(2, 3)]);
    assert.equal(chain.stopped, undefined);
    assert.equal(stop.unsettled, false);

    const pending = stopAt(9).stop;
    pending.park(arrival(5), 6);
    assert.deepEqual(pending.end(), [arrival(5)]);
    assert.equal(pending.suspectLogEnd, undefined);
  });

  it('counts a parked record block by its records', () => {
    const { stop } = stopAt(100);
    const block: Arrival = {
      block: { firstOffset: 0, lastOffset: 4, count: 5, lastTimestamp: 4 },
      data: new Uint8Array(8),
    };
    stop.park(block, 50);
    stop.park(arrival(6, 7), 50);
    assert.equal(stop.parkedCount, 7);
  });

  it('cannot settle without a log end to check', () => {
    assert.throws(() => stopAt(9).stop.settle(10, AT), /no suspect log end/);
  });
});
