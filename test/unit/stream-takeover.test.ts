import assert from 'node:assert/strict';
import type { CarriedState, StreamMessage } from '../../contracts/stream';
import type { Arrival } from '../../stream/workflow-buffer';
import {
  NewIncarnations,
  successorLedgerRunId,
  successorState,
  supersededNote,
} from '../../stream/workflow-takeover';

const arrival = (...offsets: number[]): Arrival => ({
  messages: offsets.map((offset): StreamMessage => ({ offset, value: null, timestamp: offset })),
});
const heldOffsets = (incarnations: NewIncarnations) => {
  const next = incarnations.next;
  return next && { topicId: next.topicId, size: next.buffer.size, last: next.buffer.lastOffset };
};

describe('stream topic takeover', () => {
  it("takes nothing of the chain's own topic id, nor when either id is unknown", () => {
    const incarnations = new NewIncarnations();
    assert.equal(incarnations.holdIfRecreated('A', 'A', arrival(5), 1), false);
    assert.equal(incarnations.holdIfRecreated(undefined, 'B', arrival(5), 1), false);
    assert.equal(incarnations.holdIfRecreated('A', undefined, arrival(5), 1), false);
    assert.equal(incarnations.next, undefined);
  });

  it("holds a new topic id's messages from offset 0, dropping its own redeliveries", () => {
    const incarnations = new NewIncarnations();
    assert.equal(incarnations.holdIfRecreated('A', 'B', arrival(0, 1, 2), 1), true);
    assert.equal(incarnations.holdIfRecreated('A', 'B', arrival(1, 2, 3), 2), true);
    assert.deepEqual(heldOffsets(incarnations), { topicId: 'B', size: 4, last: 3 });
    assert.equal(incarnations.next?.dropped, 2);
    assert.equal(incarnations.next?.buffer.oldestArrival, 1);
  });

  it('keeps each further topic id for a takeover of its own, in the order first seen', () => {
    const incarnations = new NewIncarnations();
    incarnations.holdIfRecreated('A', 'B', arrival(0), 1);
    incarnations.holdIfRecreated('A', 'C', arrival(0, 1), 2);
    incarnations.holdIfRecreated('A', 'B', arrival(1), 3);
    assert.deepEqual(heldOffsets(incarnations), { topicId: 'B', size: 2, last: 1 });
    assert.deepEqual(incarnations.advance(true), []);
    assert.deepEqual(heldOffsets(incarnations), { topicId: 'C', size: 2, last: 1 });
    assert.deepEqual(incarnations.advance(true), []);
    assert.equal(incarnations.next, undefined);
  });

  it('drops every further topic id after a takeover, as code before the late-messages patch did', () => {
    const incarnations = new NewIncarnations();
    incarnations.holdIfRecreated('A', 'B', arrival(0), 1);
    incarnations.holdIfRecreated('A', 'C', arrival(0, 1), 2);
    incarnations.holdIfRecreated('A', 'D', arrival(0), 3);
    const dropped = incarnations.advance(false);
    assert.deepEqual(
      dropped.map((i) => [i.topicId, i.buffer.size]),
      [
        ['C', 2],
        ['D', 1],
      ],
    );
    assert.equal(incarnations.next, undefined);
  });

  it("starts the new chain's state from the incarnation, with a ledger row and a closing note", () => {
    const incarnations = new NewIncarnations();
    incarnations.holdIfRecreated('A', 'B', arrival(0, 1, 2), 1);
    incarnations.holdIfRecreated('A', 'B', arrival(2), 2);
    const next = incarnations.next!;
    const old: CarriedState = {
      ledgerRunId: 'stream-lmnh-3/run-1',
      lastOffset: 41,
      received: 42,
      loaded: 40,
      rejected: 2,
      duplicatesDropped: 7,
      alreadyStored: 1,
      lastFlush: null,
      carriedOver: 3,
      lastMessageAt: '2026-12-07T07:00:00.000Z',
      chainRuns: 4,
      reread: 5,
      topicId: 'A',
      sourceTopic: 'lmnh',
    };
    const ledgerRunId = successorLedgerRunId('stream-lmnh-3', 'B', 'run-4');
    assert.equal(ledgerRunId, 'stream-lmnh-3/B/run-4');
    assert.equal(
      supersededNote('lmnh', 3, old, next, ledgerRunId),
      'topic lmnh was deleted and created again: partition 3 has topic id B (was A); this chain ended at ' +
        'offset 41, chain stream-lmnh-3/B/run-4 goes on',
    );
    // Whatever `fresh` holds (a first run's state) stays, but for what the incarnation brings.
    assert.deepEqual(successorState(old, next, ledgerRunId), {
      ...old,
      ledgerRunId: 'stream-lmnh-3/B/run-4',
      lastOffset: 2,
      received: 3,
      duplicatesDropped: 1,
      chainRuns: 1,
      reread: undefined,
      topicId: 'B',
      sourceTopic: undefined,
      stopped: undefined,
    });
  });
});
