// One long-running workflow per Kafka partition (SPEC 5): the bridge signals batches of raw messages, this
// workflow drops redeliveries, buffers, and hands flush-sized batches to the load activity, which validates and
// stores them. It validates nothing itself: the rules need the clock and the exhibition table, which are I/O.
import {
  allHandlersFinished,
  condition,
  log,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { STREAM_LOAD_RETRY, STREAM_REREAD } from '../workflows/activity-policies';
import { KioskRowsLoaded, KioskRowsRead, KioskRowsRejected } from '../contracts/search-attributes';
import {
  MAX_CARRIED_BYTES,
  messagesSignal,
  resolveSettings,
  stateQuery,
  type CarriedState,
  type StreamState,
  type StreamMessage,
  type StreamWorkflowInput,
} from '../contracts/stream';
import { OffsetBuffer } from './workflow-buffer';

// Before continuing as new with a history of many events, wait for this long without a signal (see untilQuiet),
// but no longer than the max.
const CAN_QUIET_AFTER_EVENTS = 500;
const CAN_QUIET_MS = 500;
const CAN_QUIET_MAX_MS = 5000;

// Chains started before this code did not re-read what an earlier chain lost; their histories replay without it.
const REREAD_PATCH = 'reread-unstored-before-first-load';

function firstRunState(): CarriedState {
  const info = workflowInfo();
  return {
    // One ledger row per chain: the first run's id is stable across continue-as-new, unlike runId.
    ledgerRunId: `${info.workflowId}/${info.firstExecutionRunId}`,
    lastOffset: -1,
    received: 0,
    loaded: 0,
    rejected: 0,
    duplicatesDropped: 0,
    alreadyStored: 0,
    lastFlush: null,
    carriedOver: 0,
    lastMessageAt: null,
    chainRuns: 0,
  };
}

export async function streamPartition(input: StreamWorkflowInput): Promise<void> {
  const { topic, partition } = input;
  const settings = resolveSettings(input.settings);
  const state: CarriedState = { ...(input.carried ?? firstRunState()) };
  state.chainRuns++;
  const buffer = new OffsetBuffer(state.lastOffset, input.pending, Date.now());
  let loading = 0;
  let signalsReceived = 0;

  const { loadStreamMessages } = proxyActivities<Activities>({
    startToCloseTimeout: settings.loadTimeoutMs,
    retry: STREAM_LOAD_RETRY,
  });
  const { readUnstoredMessages } = proxyActivities<Activities>(STREAM_REREAD);

  setHandler(messagesSignal, ({ messages }) => {
    signalsReceived++;
    const { taken, dropped } = buffer.accept(messages, Date.now());
    state.received += taken;
    state.duplicatesDropped += dropped;
    state.lastOffset = buffer.lastOffset;
    const newest = messages[messages.length - 1];
    if (taken > 0 && newest !== undefined) state.lastMessageAt = new Date(newest.timestamp).toISOString();
  });

  const shouldContinueAsNew = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= settings.continueAsNewAfterEvents;
  };
  const flushDue = (): boolean =>
    buffer.size >= settings.flush.maxMessages ||
    buffer.byteSize >= settings.flush.maxBytes ||
    shouldContinueAsNew();

  setHandler(stateQuery, (): StreamState => ({
    ...state,
    workflowId: workflowInfo().workflowId,
    topic,
    partition,
    buffered: buffer.size,
    bufferedBytes: buffer.byteSize,
    loading,
    historyLength: workflowInfo().historyLength,
    continueAsNewDue: shouldContinueAsNew(),
  }));

  const describe = (): void => {
    const last = state.lastFlush;
    setCurrentDetails(
      [
        `**${topic}** partition **${partition}**, run ${state.chainRuns} of this chain`,
        `last offset ${state.lastOffset}, received ${state.received}, loaded ${state.loaded}, ` +
          `rejected ${state.rejected}, buffered ${buffer.size}`,
        last
          ? `last flush ${last.at}: ${last.messages} messages (offsets ${last.firstOffset}..${last.lastOffset})`
          : 'no flush yet',
      ].join('\n\n'),
    );
  };

  const load = async (batch: StreamMessage[]): Promise<void> => {
    const started = Date.now();
    loading = batch.length;
    const result = await loadStreamMessages({
      ledgerRunId: state.ledgerRunId,
      workflowId: workflowInfo().workflowId,
      topic,
      partition,
      messages: batch,
    });
    loading = 0;
    state.loaded += result.loaded;
    state.rejected += result.rejected;
    state.alreadyStored += result.alreadyStored;
    state.lastFlush = {
      at: new Date().toISOString(),
      messages: batch.length,
      loaded: result.loaded,
      rejected: result.rejected,
      firstOffset: batch[0]!.offset,
      lastOffset: batch[batch.length - 1]!.offset,
      durationMs: Date.now() - started,
    };
    upsertSearchAttributes([
      { key: KioskRowsRead, value: state.loaded + state.rejected },
      { key: KioskRowsLoaded, value: state.loaded },
      { key: KioskRowsRejected, value: state.rejected },
    ]);
    describe();
  };

  const flush = (): Promise<void> =>
    load(buffer.take(settings.flush.maxMessages, settings.flush.maxBytes, Date.now()));

  /**
   * The bridge commits an offset once Temporal has the signal, so what a terminated (or reset) chain had
   * buffered or was loading would never come again. A new chain therefore first loads, straight from Kafka,
   * whatever lies between the database's last stored offset and the first offset the bridge gave it.
   */
  const rereadUnstored = async (): Promise<void> => {
    await condition(() => buffer.size > 0);
    const before = buffer.firstOffset!;
    let from: number | undefined;
    for (;;) {
      const { messages, done } = await readUnstoredMessages({ topic, partition, before, from });
      if (messages.length > 0) {
        log.warn('re-read messages an earlier chain accepted but never stored', {
          topic,
          partition,
          count: messages.length,
          firstOffset: messages[0]!.offset,
          lastOffset: messages[messages.length - 1]!.offset,
        });
        state.received += messages.length;
        state.reread = (state.reread ?? 0) + messages.length;
        await load(messages);
        from = messages[messages.length - 1]!.offset + 1;
      }
      if (done || messages.length === 0) return;
    }
  };

  /**
   * Waits until no signal has arrived for CAN_QUIET_MS (at most CAN_QUIET_MAX_MS). A continue-as-new that a
   * signal overtakes is refused by the server, and the refusal evicts the run from the worker's cache: the next
   * task replays the run's whole history, seconds for thousands of signals, and under even traffic every
   * partition's workflow gets there at about the same moment (bench/README.md: every partition stalled). The
   * bridge pauses a partition whose workflow reports continueAsNewDue, so the quiet comes within a probe
   * interval or two. A run of few events (a backlog's big signals fill the
   * history by size first) replays in milliseconds: there the wait would cost more than the refusal.
   */
  const untilQuiet = async (): Promise<void> => {
    if (workflowInfo().historyLength < CAN_QUIET_AFTER_EVENTS) return;
    const giveUpAt = Date.now() + CAN_QUIET_MAX_MS;
    for (;;) {
      const seen = signalsReceived;
      const left = giveUpAt - Date.now();
      if (left <= 0 || !(await condition(() => signalsReceived !== seen, Math.min(CAN_QUIET_MS, left))))
        return;
    }
  };

  describe();
  if (input.carried === undefined && patched(REREAD_PATCH)) await rereadUnstored();
  for (;;) {
    if (buffer.size === 0) {
      await condition(() => buffer.size > 0 || shouldContinueAsNew());
      // Round again: what just arrived waits for the flush policy (size or age) like anything else, so that light
      // traffic makes one load per maxAgeMs rather than one per signal.
      if (!shouldContinueAsNew()) continue;
    } else if (!flushDue()) {
      const waitMs = (buffer.oldestArrival ?? Date.now()) + settings.flush.maxAgeMs - Date.now();
      if (waitMs > 0) await condition(flushDue, waitMs);
    }
    if (buffer.size > 0) await flush();
    if (shouldContinueAsNew()) {
      await untilQuiet();
      await condition(allHandlersFinished);
      // Under sustained input a signal nearly always lands during the last flush, so waiting for an empty
      // buffer could put continue-as-new off until the history limit. Up to MAX_CARRIED_BYTES travels in the
      // next run's input instead; more is flushed first, and the bridge pauses the partition meanwhile (the
      // state query says continueAsNewDue) so that the buffer does shrink. No await between this check and
      // continue-as-new: a signal arriving now makes the server refuse the command, and this code runs again
      // with that signal in the buffer.
      if (buffer.byteSize <= Math.min(MAX_CARRIED_BYTES, settings.flush.maxBytes)) {
        const next = makeContinueAsNewFunc<typeof streamPartition>({
          typedSearchAttributes: workflowInfo().typedSearchAttributes,
        });
        const pending = buffer.drain();
        state.carriedOver += pending.length;
        await next({ topic, partition, settings, carried: state, pending });
      }
    }
  }
}
