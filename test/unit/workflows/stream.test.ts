// The stream workflow's own logic with its activities mocked (on a Temporal dev server of its own, a task
// queue per test): the flush policy, dropping redeliveries, what a continued run takes over, the re-read of a
// first run, and the state the bridge's backpressure reads while a load is slow.
import assert from 'node:assert/strict';
import {
  messagesSignal,
  stateQuery,
  type CarriedState,
  type StreamMessage,
  type StreamState,
  type StreamWorkflowInput,
  type TakenBlock,
} from '../../../contracts/stream';
import { streamPartition } from '../../../stream/workflow';
import { decodeRecordBlock, encodeRecordBlock, takenRecords } from '../../../contracts/record-block';
import { OffsetBuffer } from '../../../stream/workflow-buffer';
import { uniqueSuffix } from '../../support/isolated-env';
import {
  mockedWorkflowSuite,
  type ActivityMocks,
  type StreamActivities,
} from '../../support/mocked-activities';
import { readRecorded, replay } from '../../support/replay';
import { waitFor } from '../../support/wait';

const message = (offset: number): StreamMessage => ({
  offset,
  value: Buffer.from(`{"offset":${offset}}`).toString('base64'),
  timestamp: 1_790_000_000_000 + offset,
});
const messages = (from: number, to: number): StreamMessage[] =>
  Array.from({ length: to - from + 1 }, (_, i) => message(from + i));
const range = (from: number, to: number): number[] => messages(from, to).map((m) => m.offset);

/** The state an earlier run of a chain hands over, with these counts. */
const carriedFrom = (
  counts: Pick<CarriedState, 'lastOffset' | 'received' | 'loaded' | 'chainRuns'>,
): CarriedState => ({
  ledgerRunId: 'stream-mocked-earlier/first-run',
  rejected: 0,
  duplicatesDropped: 0,
  alreadyStored: 0,
  lastFlush: null,
  carriedOver: 0,
  lastMessageAt: null,
  ...counts,
});

interface LoadCall {
  ledgerRunId: string;
  offsets: number[];
}

/**
 * Mocked activities that record every load; loads wait while `held` is set. A block load runs as a local
 * activity, which runs again when its workflow task does not complete (a continue-as-new that a signal
 * overtook): like the real load, which finds those offsets stored, a repeat of a load already made is kept
 * apart, in `reruns`.
 */
function mocks(reread: (before: number) => StreamMessage[] = () => []) {
  const loads: LoadCall[] = [];
  const reruns: LoadCall[] = [];
  const rereads: number[] = [];
  let release: (() => void) | undefined;
  let held: Promise<void> | undefined;
  const activities = {
    loadStreamMessages: async (input: { ledgerRunId: string; messages: StreamMessage[] }) => {
      if (held) await held;
      loads.push({ ledgerRunId: input.ledgerRunId, offsets: input.messages.map((m) => m.offset) });
      const n = input.messages.length;
      return { loaded: n, rejected: 0, alreadyStored: 0, rejectedByReason: {} };
    },
    loadStreamBlocks: async (input: { ledgerRunId: string; blocks: TakenBlock[] }, ...data: Uint8Array[]) => {
      if (held) await held;
      const offsets = input.blocks.flatMap((b, i) =>
        takenRecords(decodeRecordBlock(data[i]!), b.skipThrough).map((r) => r.offset),
      );
      const call = { ledgerRunId: input.ledgerRunId, offsets };
      const same = JSON.stringify(call);
      (loads.some((l) => JSON.stringify(l) === same) ? reruns : loads).push(call);
      return { loaded: offsets.length, rejected: 0, alreadyStored: 0, rejectedByReason: {} };
    },
    readUnstoredMessages: (input: { before: number; from?: number }) => {
      rereads.push(input.before);
      // One page: everything below `before` that the mock says an earlier chain lost.
      return Promise.resolve({
        messages: input.from === undefined ? reread(input.before) : [],
        done: true,
      });
    },
  };
  return {
    activities,
    loads,
    reruns,
    rereads,
    loadedOffsets: () => loads.flatMap((l) => l.offsets),
    hold: () => {
      held = new Promise((r) => (release = r));
    },
    release: () => {
      held = undefined;
      release?.();
    },
  };
}

describe('stream workflow with mocked activities', function () {
  this.timeout(120_000);
  const { env, withWorker } = mockedWorkflowSuite<StreamActivities>('stream-mocked');

  /** Runs one partition's workflow under a worker with the mocks, then terminates it (a chain never ends). */
  async function withChain<M extends Partial<StreamActivities>>(
    activities: ActivityMocks<StreamActivities, M>,
    input: Omit<StreamWorkflowInput, 'topic' | 'partition'>,
    fn: (chain: Chain) => Promise<void>,
    blockData: Uint8Array[] = [],
  ): Promise<void> {
    await withWorker<M, void>(activities, async (taskQueue) => {
      const handle = await env().client.workflow.start(streamPartition, {
        taskQueue,
        workflowId: `stream-mocked-${uniqueSuffix()}`,
        args: [{ topic: 'mocked', partition: 0, ...input }, ...blockData],
      });
      const chain: Chain = {
        workflowId: handle.workflowId,
        firstRunId: handle.firstExecutionRunId,
        send: (batch) => handle.signal(messagesSignal, { messages: batch }),
        sendBlock: async (from, to) => {
          const { info, data } = await encodeRecordBlock(
            messages(from, to).map((m) => ({
              offset: m.offset,
              value: Buffer.from(m.value!, 'base64'),
              timestamp: m.timestamp,
            })),
          );
          await handle.signal(messagesSignal, { block: info }, data);
        },
        state: () => env().client.workflow.getHandle(handle.workflowId).query(stateQuery),
      };
      try {
        await fn(chain);
      } finally {
        await env().client.workflow.getHandle(handle.workflowId).terminate('test over');
      }
    });
  }

  interface Chain {
    workflowId: string;
    firstRunId: string;
    send: (batch: StreamMessage[]) => Promise<void>;
    /** Offsets from..to as one record block, as the bridge sends them. */
    sendBlock: (from: number, to: number) => Promise<void>;
    state: () => Promise<StreamState>;
  }

  const untilLoaded = (m: ReturnType<typeof mocks>, count: number) =>
    waitFor(`${count} offsets loaded`, () =>
      Promise.resolve(m.loadedOffsets().length >= count ? true : undefined),
    );

  it('flushes as soon as a batch reaches maxMessages, and keeps the rest buffered', async () => {
    const m = mocks();
    await withChain(
      m.activities,
      { settings: { flush: { maxMessages: 5, maxAgeMs: 600_000 } } },
      async (c) => {
        await c.send(messages(0, 3));
        await c.send(messages(4, 7));
        await c.send(messages(8, 11));
        await untilLoaded(m, 10);
        const state = await waitFor('the state after two flushes', async () => {
          const s = await c.state();
          return s.received === 12 && s.loading === 0 ? s : undefined;
        });
        assert.deepEqual(
          m.loads.map((l) => l.offsets),
          [range(0, 4), range(5, 9)],
        );
        assert.deepEqual([state.loaded, state.buffered, state.lastOffset], [10, 2, 11]);
      },
    );
  });

  it('flushes a small batch once its oldest message is maxAgeMs old, not before', async () => {
    const m = mocks();
    await withChain(
      m.activities,
      { settings: { flush: { maxMessages: 1000, maxAgeMs: 5000 } } },
      async (c) => {
        await c.send(messages(0, 2));
        await waitFor('the signal taken', async () => ((await c.state()).received === 3 ? true : undefined));
        assert.equal(m.loads.length, 0, 'nothing loads before the age limit');
        await untilLoaded(m, 3);
        assert.deepEqual(
          m.loads.map((l) => l.offsets),
          [range(0, 2)],
        );
      },
    );
  });

  it('drops redelivered offsets: every offset is loaded once, in order', async () => {
    const m = mocks();
    await withChain(m.activities, { settings: { flush: { maxMessages: 4, maxAgeMs: 300 } } }, async (c) => {
      await c.send(messages(0, 4));
      await c.send(messages(3, 7));
      await c.send([message(2), message(8)]);
      await untilLoaded(m, 9);
      const state = await c.state();
      assert.deepEqual(m.loadedOffsets(), range(0, 8));
      assert.deepEqual([state.received, state.duplicatesDropped, state.loaded], [9, 3, 9]);
    });
  });

  it('loads again, before anything newer, what a load says it did not store', async () => {
    // What a replay meets when the task's worker flushed fewer messages than the replay takes
    // (stream/workflow-run.ts, flush): here the first load's result counts three fewer than it was given.
    const m = mocks();
    let short = true;
    const activities = {
      ...m.activities,
      loadStreamMessages: async (input: { ledgerRunId: string; messages: StreamMessage[] }) => {
        const result = await m.activities.loadStreamMessages(input);
        if (!short) return result;
        short = false;
        return { ...result, loaded: result.loaded - 3 };
      },
    };
    await withChain(activities, { settings: { flush: { maxMessages: 100, maxAgeMs: 200 } } }, async (c) => {
      await c.send(messages(0, 9));
      await untilLoaded(m, 13);
      await c.send(messages(10, 11));
      await untilLoaded(m, 15);
      const state = await waitFor('the last load counted', async () => {
        const s = await c.state();
        return s.loaded === 12 ? s : undefined;
      });
      assert.deepEqual(
        m.loads.map((l) => l.offsets),
        [range(0, 9), range(7, 9), range(10, 11)],
      );
      assert.deepEqual([state.received, state.buffered, state.lastOffset], [12, 0, 11]);
    });
  });

  it('replays a task its worker ran in two activations, a direct query having applied the first events', () =>
    // From the deploy test (test/integration/deploy/deploy.test.ts) on the code before the buffer took back what a
    // load did not store: a query reached the new worker while signal 177 and timer 179 were in the history but
    // no task had started, so it flushed 2739..2827 before the task (182) brought signals 180 and 181; a
    // replay takes those too, then learns from the result that only 89 were stored and loads 2828..2923 next.
    replay(readRecorded('stream-task-split-by-direct-query.history.pb'), 'stream-task-split'));

  it('a continued run loads what it was handed first, under the chain ledger row, and re-reads nothing', async () => {
    const m = mocks(() => messages(0, 99));
    const carried = carriedFrom({ lastOffset: 12, received: 13, loaded: 10, chainRuns: 3 });
    const input = {
      carried,
      pending: messages(10, 12),
      settings: { flush: { maxMessages: 100, maxAgeMs: 300 } },
    };
    await withChain(m.activities, input, async (c) => {
      await c.send(messages(11, 15));
      await untilLoaded(m, 6);
      const state = await c.state();
      assert.deepEqual(m.loadedOffsets(), range(10, 15));
      assert.deepEqual(new Set(m.loads.map((l) => l.ledgerRunId)), new Set([carried.ledgerRunId]));
      assert.deepEqual(m.rereads, [], 'only a chain first run re-reads');
      assert.deepEqual(
        [state.received, state.loaded, state.chainRuns, state.duplicatesDropped],
        [16, 16, 4, 2],
      );
    });
  });

  it('takes record blocks: a redelivered block is dropped, an overlapping one loads only what is new', async () => {
    const m = mocks();
    await withChain(m.activities, { settings: { flush: { maxMessages: 8, maxAgeMs: 200 } } }, async (c) => {
      await c.sendBlock(0, 4);
      await c.sendBlock(0, 4);
      await c.sendBlock(3, 9);
      // A bridge of the previous release, still running during a deploy, sends messages one by one.
      await c.send(messages(8, 12));
      await c.sendBlock(13, 20);
      await untilLoaded(m, 21);
      const state = await c.state();
      assert.deepEqual(m.loadedOffsets(), range(0, 20));
      assert.deepEqual(
        [state.received, state.loaded, state.duplicatesDropped, state.lastOffset],
        [21, 21, 9, 20],
      );
      assert.equal(state.lastMessageAt, new Date(message(20).timestamp).toISOString());
    });
  });

  it('a continued run loads the messages and blocks it was handed, then what comes', async () => {
    const m = mocks();
    const carried = carriedFrom({ lastOffset: 19, received: 20, loaded: 10, chainRuns: 2 });
    const handed = new OffsetBuffer(12);
    for (const [from, to] of [
      [10, 15],
      [16, 19],
    ] as const) {
      const { info, data } = await encodeRecordBlock(
        messages(from, to).map((x) => ({ ...x, value: Buffer.from(x.value!, 'base64') })),
      );
      handed.acceptBlock(info, data, 0);
    }
    const { blocks } = handed.drain();
    const input = {
      carried,
      pending: messages(10, 12),
      pendingBlocks: blocks.map((b) => b.block),
      settings: { flush: { maxMessages: 100, maxAgeMs: 300 } },
    };
    const data = blocks.map((b) => b.data);
    await withChain(
      m.activities,
      input,
      async (c) => {
        await c.sendBlock(18, 24);
        await untilLoaded(m, 15);
        const state = await c.state();
        assert.deepEqual(m.loadedOffsets(), range(10, 24));
        assert.deepEqual(new Set(m.loads.map((l) => l.ledgerRunId)), new Set([carried.ledgerRunId]));
        assert.deepEqual([state.received, state.loaded, state.duplicatesDropped], [25, 25, 2]);
      },
      data,
    );
  });

  it('continues as new under load with record blocks: every offset loaded once, in order', async () => {
    const m = mocks();
    const settings = { continueAsNewAfterEvents: 40, flush: { maxMessages: 5, maxAgeMs: 200 } };
    await withChain(m.activities, { settings }, async (c) => {
      for (let from = 0; from < 150; from += 3) await c.sendBlock(from, from + 2);
      await untilLoaded(m, 150);
      const state = await c.state();
      assert.deepEqual(m.loadedOffsets(), range(0, 149));
      assert.ok(state.chainRuns > 1, `expected continue-as-new, the chain is at run ${state.chainRuns}`);
      assert.deepEqual([state.received, state.loaded], [150, 150]);
    });
  });

  it('continues as new under load without losing or repeating an offset, one ledger row per chain', async () => {
    const m = mocks();
    const settings = { continueAsNewAfterEvents: 40, flush: { maxMessages: 3, maxAgeMs: 200 } };
    await withChain(m.activities, { settings }, async (c) => {
      for (let from = 0; from < 120; from += 2) await c.send(messages(from, from + 1));
      await untilLoaded(m, 120);
      const state = await c.state();
      assert.deepEqual(m.loadedOffsets(), range(0, 119));
      assert.deepEqual(
        new Set(m.loads.map((l) => l.ledgerRunId)),
        new Set([`${c.workflowId}/${c.firstRunId}`]),
      );
      assert.ok(state.chainRuns > 1, `expected continue-as-new, the chain is at run ${state.chainRuns}`);
      assert.deepEqual([state.received, state.loaded], [120, 120]);
    });
  });

  it('a first run loads what an earlier chain lost before what the bridge gives it', async () => {
    const m = mocks((before) => messages(0, before - 1));
    await withChain(m.activities, { settings: { flush: { maxMessages: 100, maxAgeMs: 300 } } }, async (c) => {
      await c.send(messages(5, 7));
      await untilLoaded(m, 8);
      const state = await c.state();
      assert.deepEqual(m.rereads, [5]);
      assert.deepEqual(
        m.loads.map((l) => l.offsets),
        [range(0, 4), range(5, 7)],
      );
      assert.deepEqual([state.reread, state.received, state.loaded], [5, 8, 8]);
    });
  });

  it('reports a slow load to the bridge: loading and buffered counts, continueAsNewDue past the limit', async () => {
    const m = mocks();
    m.hold();
    const settings = { continueAsNewAfterEvents: 30, flush: { maxMessages: 5, maxAgeMs: 300 } };
    await withChain(m.activities, { settings }, async (c) => {
      try {
        await c.send(messages(0, 4));
        await waitFor('the load started', async () => ((await c.state()).loading === 5 ? true : undefined));
        for (let o = 5; o < 25; o++) await c.send([message(o)]);
        const due = await waitFor('continueAsNewDue', async () => {
          const s = await c.state();
          return s.continueAsNewDue ? s : undefined;
        });
        // received = loaded + rejected + buffered + loading, always (the bridge's lag arithmetic relies on it).
        assert.equal(due.received, due.loaded + due.rejected + due.buffered + due.loading);
        assert.deepEqual([due.loading, due.loaded], [5, 0]);
        assert.ok(due.buffered > 0);
      } finally {
        m.release();
      }
      await untilLoaded(m, 25);
      assert.deepEqual(m.loadedOffsets(), range(0, 24));
    });
  });

  it('a takeover loads what the old topic id still brings while its chain closes, and holds a further id', async () => {
    const m = mocks();
    const closes: string[] = [];
    let closing: (() => void) | undefined;
    const closed = new Promise<void>((r) => (closing = r));
    const activities = {
      ...m.activities,
      resolveStreamIncarnation: ({ topicId }: { topicId: string }) =>
        Promise.resolve(topicId === 'A' ? 'mocked' : `mocked@${topicId}`),
      // A slow close: the bridge goes on delivering meanwhile.
      closeStreamRun: async ({ ledgerRunId }: { ledgerRunId: string }) => {
        closes.push(ledgerRunId);
        if (closes.length === 1) await closed;
      },
    };
    await withChain(activities, { settings: { flush: { maxMessages: 100, maxAgeMs: 200 } } }, async (c) => {
      const handle = env().client.workflow.getHandle(c.workflowId);
      const send = (topicId: string, from: number, to: number) =>
        handle.signal(messagesSignal, { messages: messages(from, to), topicId });
      await send('A', 0, 4);
      await untilLoaded(m, 5);
      // The bridge sees topic id B (recreated) and tells the workflow: its chain of A closes.
      await handle.signal(messagesSignal, { messages: [], topicId: 'B' });
      await waitFor('the close started', () => Promise.resolve(closes.length === 1 ? true : undefined));
      // Meanwhile a chunk the bridge read before it saw B, B's first messages, and a second recreation (C).
      await send('A', 5, 7);
      await send('B', 0, 2);
      await send('C', 0, 1);
      await send('B', 3, 4);
      closing!();
      const settled = await waitFor('the takeovers done and everything loaded', async () => {
        const s = await c.state();
        return !s.continueAsNewDue && s.buffered === 0 && s.loading === 0 && closes.length > 0
          ? s
          : undefined;
      });
      // This run replays; so does one recorded from the code before (stream-takeover-before-late-messages),
      // which dropped A's 5..7 and C's messages (test/integration/stream/stream-replay.test.ts).
      await replay(await handle.fetchHistory(), c.workflowId);

      const chain = (id: string) =>
        m.loads.filter((l) => l.ledgerRunId.includes(`/${id}/`)).flatMap((l) => l.offsets);
      const first = `${c.workflowId}/${c.firstRunId}`;
      assert.deepEqual(
        m.loads.filter((l) => l.ledgerRunId === first).flatMap((l) => l.offsets),
        range(0, 7),
        'the old chain loads its late messages too',
      );
      assert.deepEqual(chain('B'), range(0, 4));
      assert.deepEqual(chain('C'), range(0, 1));
      assert.equal(closes.length, 2, `A's chain, then B's: ${closes.join(', ')}`);
      assert.equal(closes[0], first);
      assert.match(closes[1]!, new RegExp(`^${c.workflowId}/B/`));
      assert.deepEqual([settled.topicId, settled.sourceTopic, settled.received], ['C', 'mocked@C', 2]);
    });
  });
});
