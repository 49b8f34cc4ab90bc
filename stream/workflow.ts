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
import type { StreamActivities } from './load';
import type { StreamRereadActivities } from './reread';
import type { StreamTopicActivities } from './topic';
import { STREAM_LOAD_RETRY, STREAM_REREAD, STREAM_TOPIC } from '../contracts/activity-policies';
import { KioskRowsLoaded, KioskRowsRead, KioskRowsRejected } from '../contracts/search-attributes';
import {
  MAX_CARRIED_BYTES,
  messagesSignal,
  resolveSettings,
  resumeSignal,
  stateQuery,
  type CarriedState,
  type RecordBlockInfo,
  type StreamState,
  type StreamMessage,
  type StreamWorkflowInput,
} from '../contracts/stream';
import { OffsetBuffer, type AcceptResult, type Flush, type HeldBlock } from './workflow-buffer';

// Before continuing as new with a history of many events, wait for this long without a signal (see untilQuiet),
// but no longer than the max.
const CAN_QUIET_AFTER_EVENTS = 500;
const CAN_QUIET_MS = 500;
const CAN_QUIET_MAX_MS = 5000;

// Chains started before this code did not re-read what an earlier chain lost; their histories replay without it.
const REREAD_PATCH = 'reread-unstored-before-first-load';
// Chains started before this code neither resolved a source_topic per topic id nor closed their ledger row.
const TOPIC_PATCH = 'topic-incarnations';
// Chains started before this code judged the age rule only when their timer fired.
const AGE_PATCH = 'flush-age-on-every-task';
// Takeovers started before this code dropped old-incarnation messages that came during closeStreamRun, and the
// messages of any further topic id seen during the takeover.
const TAKEOVER_PATCH = 'takeover-keeps-late-messages';

/** A recreated topic's messages, held until the chain before it is flushed and closed. */
interface Incarnation {
  topicId: string;
  buffer: OffsetBuffer;
  dropped: number;
}

/** What one signal brings: messages one by one (older bridges) or a record block with its bytes. */
type Arrival = { messages: readonly StreamMessage[] } | { block: RecordBlockInfo; data: Uint8Array };

function arrivalCount(arrival: Arrival): number {
  return 'messages' in arrival ? arrival.messages.length : arrival.block.count;
}

function acceptArrival(buffer: OffsetBuffer, arrival: Arrival, now: number): AcceptResult {
  return 'messages' in arrival
    ? buffer.accept(arrival.messages, now)
    : buffer.acceptBlock(arrival.block, arrival.data, now);
}

/** Kafka timestamp of the arrival's last message, ms since the epoch. */
function newestTimestamp(arrival: Arrival): number | undefined {
  return 'messages' in arrival
    ? arrival.messages[arrival.messages.length - 1]?.timestamp
    : arrival.block.lastTimestamp;
}

function restoreBlocks(input: StreamWorkflowInput, data: readonly Uint8Array[]): HeldBlock[] {
  return (input.pendingBlocks ?? []).map((block, i) => {
    const bytes = data[i];
    if (bytes === undefined) throw new Error(`carried block ${block.info.firstOffset}.. has no bytes`);
    return { block, data: bytes };
  });
}

function flushSize(batch: Flush): number {
  return batch.kind === 'messages'
    ? batch.messages.length
    : batch.blocks.reduce((n, b) => n + b.block.taken, 0);
}

function flushOffsets(batch: Flush): { firstOffset: number; lastOffset: number } {
  if (batch.kind === 'messages') {
    return {
      firstOffset: batch.messages[0]!.offset,
      lastOffset: batch.messages[batch.messages.length - 1]!.offset,
    };
  }
  return {
    firstOffset: batch.blocks[0]!.block.firstTaken,
    lastOffset: batch.blocks[batch.blocks.length - 1]!.block.info.lastOffset,
  };
}

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

/** `blockData`: the bytes of input.pendingBlocks, in order. */
export async function streamPartition(input: StreamWorkflowInput, ...blockData: Uint8Array[]): Promise<void> {
  const { topic, partition } = input;
  const settings = resolveSettings(input.settings);
  const state: CarriedState = { ...(input.carried ?? firstRunState()) };
  state.chainRuns++;
  let buffer = new OffsetBuffer(state.lastOffset, input.pending, Date.now(), restoreBlocks(input, blockData));
  // A recreated topic's first messages, waiting until the old incarnation's chain is flushed and closed.
  let held: Incarnation | undefined;
  // Topic ids seen after `held`'s (recreated again meanwhile), in order: each takes over in turn.
  let heldLater: Incarnation[] = [];
  // A log end below the last offset taken, to be checked against Kafka: a batch fetched before a rebalance can
  // arrive late with an old high watermark.
  let suspect: { logEnd: number; lastOffset: number } | undefined;
  // Messages that arrived while the partition was stopped (or about to be): neither taken nor dropped until the
  // stop is confirmed and resumed, or found to be a false alarm. The bridge pauses the partition meanwhile.
  let onHold: Arrival[] = [];
  const onHoldCount = (): number => onHold.reduce((n, a) => n + arrivalCount(a), 0);
  let loading = 0;
  let signalsReceived = 0;

  const { loadStreamMessages, loadStreamBlocks } = proxyActivities<StreamActivities>({
    startToCloseTimeout: settings.loadTimeoutMs,
    retry: STREAM_LOAD_RETRY,
  });
  const { readUnstoredMessages } = proxyActivities<StreamRereadActivities>(STREAM_REREAD);
  const { resolveStreamIncarnation, closeStreamRun, readPartitionLogEnd } =
    proxyActivities<StreamTopicActivities>(STREAM_TOPIC);
  const topicAware = patched(TOPIC_PATCH);
  const ageOnEveryTask = patched(AGE_PATCH);

  /** Takes what is beyond the last offset into the buffer; anything at or below it is a redelivery. */
  const take = (arrival: Arrival): void => {
    const { taken, dropped } = acceptArrival(buffer, arrival, Date.now());
    state.received += taken;
    state.duplicatesDropped += dropped;
    state.lastOffset = buffer.lastOffset;
    const newest = newestTimestamp(arrival);
    if (taken > 0 && newest !== undefined) state.lastMessageAt = new Date(newest).toISOString();
  };

  const release = (): void => {
    const waiting = onHold;
    onHold = [];
    for (const arrival of waiting) take(arrival);
  };

  setHandler(messagesSignal, ({ messages, block, topicId, logEnd }, data) => {
    signalsReceived++;
    // Code older than record blocks failed its task on a block (no messages); this code takes either form.
    const arrival: Arrival =
      block !== undefined && data !== undefined ? { block, data } : { messages: messages ?? [] };
    // A run of a chain started by older code takes the messages as it did: no new commands in its history.
    if (!topicAware) topicId = logEnd = undefined;
    if (topicId !== undefined && state.topicId !== undefined && topicId !== state.topicId) {
      // The topic was deleted and created again: these offsets restart at 0 and belong to a new chain.
      held ??= { topicId, buffer: new OffsetBuffer(-1), dropped: 0 };
      let into = held.topicId === topicId ? held : heldLater.find((i) => i.topicId === topicId);
      if (into === undefined) {
        into = { topicId, buffer: new OffsetBuffer(-1), dropped: 0 };
        heldLater.push(into);
      }
      into.dropped += acceptArrival(into.buffer, arrival, Date.now()).dropped;
      return;
    }
    // A chain started without an id (new, or by an older bridge) takes the first one it is given.
    if (topicId !== undefined) state.topicId ??= topicId;
    // Once a new incarnation is known, the old one's last messages are simply taken and flushed.
    const ending = held !== undefined;
    if (!ending && logEnd !== undefined && logEnd <= state.lastOffset && state.stopped === undefined) {
      suspect ??= { logEnd, lastOffset: state.lastOffset };
    }
    if (!ending && (suspect !== undefined || state.stopped !== undefined)) onHold.push(arrival);
    else take(arrival);
  });

  setHandler(resumeSignal, ({ by }) => {
    if (state.stopped === undefined) return;
    log.warn('partition resumed after its offsets went backwards; it goes on after its last offset', {
      topic,
      partition,
      by,
      lastOffset: state.lastOffset,
      stopped: state.stopped,
    });
    state.stopped = undefined;
    release();
  });

  const shouldContinueAsNew = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= settings.continueAsNewAfterEvents;
  };
  // Not while messages wait on a stop: they travel in no run's input. The bridge sends nothing meanwhile, so the
  // history does not grow.
  const continueAsNewNow = (): boolean =>
    shouldContinueAsNew() && onHold.length === 0 && suspect === undefined;
  // The age rule is judged at every workflow task, not only when its timer fires: the server fires timers up
  // to a second late (bench/README.md), while under steady traffic a signal comes every fetch wait.
  const tooOld = (): boolean =>
    ageOnEveryTask &&
    buffer.oldestArrival !== undefined &&
    Date.now() - buffer.oldestArrival >= settings.flush.maxAgeMs;
  const flushDue = (): boolean =>
    buffer.size >= settings.flush.maxMessages ||
    buffer.byteSize >= settings.flush.maxBytes ||
    tooOld() ||
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
    // While a new incarnation waits, the bridge pauses the partition as for a continue-as-new.
    continueAsNewDue: shouldContinueAsNew() || held !== undefined,
    heldForNewTopic: held?.buffer.size,
    onHold: onHoldCount(),
    takesBlocks: true,
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
        ...(state.stopped ? [`**STOPPED** ${state.stopped.at}: ${state.stopped.reason}`] : []),
      ].join('\n\n'),
    );
  };

  /** The chain's source_topic, resolved once its topic id is known (see stream/topic.ts). */
  const ensureSource = async (): Promise<void> => {
    if (topicAware && state.topicId !== undefined && state.sourceTopic === undefined) {
      state.sourceTopic = await resolveStreamIncarnation({ topic, topicId: state.topicId });
    }
  };

  const load = async (batch: Flush): Promise<void> => {
    const started = Date.now();
    const size = flushSize(batch);
    loading = size;
    await ensureSource();
    const target = {
      ledgerRunId: state.ledgerRunId,
      workflowId: workflowInfo().workflowId,
      topic,
      partition,
      sourceTopic: state.sourceTopic,
    };
    const result =
      batch.kind === 'messages'
        ? await loadStreamMessages({ ...target, messages: batch.messages })
        : await loadStreamBlocks(
            { ...target, blocks: batch.blocks.map((b) => b.block) },
            ...batch.blocks.map((b) => b.data),
          );
    loading = 0;
    state.loaded += result.loaded;
    state.rejected += result.rejected;
    state.alreadyStored += result.alreadyStored;
    state.lastFlush = {
      at: new Date().toISOString(),
      messages: size,
      loaded: result.loaded,
      rejected: result.rejected,
      ...flushOffsets(batch),
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
    await ensureSource();
    const { sourceTopic } = state;
    let from: number | undefined;
    for (;;) {
      const { messages, done } = await readUnstoredMessages({ topic, partition, sourceTopic, before, from });
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
        await load({ kind: 'messages', messages });
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

  /**
   * The old incarnation's chain ends: what it holds is loaded, its ledger row is closed as superseded, and the
   * held messages start a new chain (a ledger row of its own, offsets from -1, the new incarnation's
   * source_topic) in this same workflow, so the bridge and `stream status` keep one workflow per partition.
   */
  const takeOverNewTopic = async (next: Incarnation): Promise<void> => {
    const keepLate = patched(TAKEOVER_PATCH);
    // The old id first, so that it keeps its source_topic and the new one gets a name of its own.
    await ensureSource();
    // A stop of the old incarnation ends with it: what it held is taken as a resume would, then loaded.
    const releasedFromStop = onHoldCount();
    suspect = undefined;
    state.stopped = undefined;
    release();
    while (buffer.size > 0) await flush();
    const info = workflowInfo();
    const ledgerRunId = `${info.workflowId}/${next.topicId}/${info.runId}`;
    const note =
      `topic ${topic} was deleted and created again: partition ${partition} has topic id ${next.topicId} ` +
      `(was ${state.topicId}); this chain ended at offset ${state.lastOffset}, chain ${ledgerRunId} goes on`;
    const receivedAtClose = state.received;
    await closeStreamRun({ ledgerRunId: state.ledgerRunId, note });
    // The bridge may still deliver the old incarnation's last chunks (read before it saw the new id) during the
    // close: it has committed them, so they are loaded too. No await between the last check and the swap below.
    if (keepLate) while (buffer.size > 0) await flush();
    log.warn('topic recreated: closed the old chain, a new chain takes the new topic', {
      topic,
      partition,
      oldTopicId: state.topicId,
      newTopicId: next.topicId,
      oldLedgerRunId: state.ledgerRunId,
      oldLastOffset: state.lastOffset,
      newLedgerRunId: ledgerRunId,
      releasedFromStop,
      takenAfterClose: state.received - receivedAtClose,
    });
    if (keepLate) held = heldLater.shift();
    else {
      for (const lost of heldLater) {
        log.error('topic recreated again before the previous recreation was taken over; messages not taken', {
          topic,
          partition,
          topicId: lost.topicId,
          count: lost.buffer.size,
        });
      }
      heldLater = [];
      held = undefined;
    }
    buffer = next.buffer;
    Object.assign(state, firstRunState(), {
      ledgerRunId,
      topicId: next.topicId,
      lastOffset: buffer.lastOffset,
      received: buffer.size,
      duplicatesDropped: next.dropped,
      chainRuns: 1,
      reread: undefined,
      sourceTopic: undefined,
      stopped: undefined,
    });
    describe();
  };

  /**
   * Records this chain took are gone from the log, yet the topic id did not change (a truncated log, or a chain
   * that never knew its topic id): dropping what comes now as redeliveries would lose it silently, so the
   * partition stops until an operator resumes it. A signal's high watermark can be stale (fetched before a
   * rebalance), so Kafka is asked first.
   */
  const checkSuspect = async (seen: NonNullable<typeof suspect>): Promise<void> => {
    const logEnd = await readPartitionLogEnd({ topic, partition });
    suspect = undefined;
    if (logEnd > seen.lastOffset) {
      release();
      return;
    }
    state.stopped = {
      at: new Date().toISOString(),
      reason:
        `offsets went backwards: the log of ${topic}/${partition} ends at ${logEnd}, at or below this ` +
        `chain's last offset ${seen.lastOffset}, under the same topic id; records at or below it are not taken`,
      lastOffset: seen.lastOffset,
      logEnd,
    };
    log.error('partition stopped: offsets went backwards', { topic, partition, ...state.stopped });
    describe();
  };

  describe();
  if (input.carried === undefined && patched(REREAD_PATCH)) await rereadUnstored();
  for (;;) {
    if (held !== undefined) {
      await takeOverNewTopic(held);
      continue;
    }
    if (suspect !== undefined) await checkSuspect(suspect);
    if (buffer.size === 0) {
      await condition(
        () => buffer.size > 0 || continueAsNewNow() || held !== undefined || suspect !== undefined,
      );
      if (held !== undefined || suspect !== undefined) continue;
      // Round again: what just arrived waits for the flush policy (size or age) like anything else, so that light
      // traffic makes one load per maxAgeMs rather than one per signal.
      if (!continueAsNewNow()) continue;
    } else if (!flushDue()) {
      const waitMs = (buffer.oldestArrival ?? Date.now()) + settings.flush.maxAgeMs - Date.now();
      if (waitMs > 0) await condition(() => flushDue() || held !== undefined, waitMs);
    }
    if (buffer.size > 0) await flush();
    if (continueAsNewNow()) {
      await untilQuiet();
      await condition(allHandlersFinished);
      // Under sustained input a signal nearly always lands during the last flush, so waiting for an empty
      // buffer could put continue-as-new off until the history limit. Up to MAX_CARRIED_BYTES travels in the
      // next run's input instead; more is flushed first, and the bridge pauses the partition meanwhile (the
      // state query says continueAsNewDue) so that the buffer does shrink. No await between this check and
      // continue-as-new: a signal arriving now makes the server refuse the command, and this code runs again
      // with that signal in the buffer.
      if (
        held === undefined &&
        continueAsNewNow() &&
        buffer.byteSize <= Math.min(MAX_CARRIED_BYTES, settings.flush.maxBytes)
      ) {
        const next = makeContinueAsNewFunc<typeof streamPartition>({
          typedSearchAttributes: workflowInfo().typedSearchAttributes,
        });
        const { messages, blocks } = buffer.drain();
        state.carriedOver += messages.length + blocks.reduce((n, b) => n + b.block.taken, 0);
        const carried = blocks.length > 0 ? { pendingBlocks: blocks.map((b) => b.block) } : {};
        await next(
          { topic, partition, settings, carried: state, pending: messages, ...carried },
          ...blocks.map((b) => b.data),
        );
      }
    }
  }
}
