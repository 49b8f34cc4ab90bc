// What one run of a partition's workflow holds and does: the chain's carried state, the offset buffer, the
// recreated topic's incarnations waiting to take over and the offset stop; what the signals and the state query
// do with them; and each step the main loop (stream/workflow.ts) takes, with the activities it calls.
import {
  condition,
  log,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { KioskRowsLoaded, KioskRowsRead, KioskRowsRejected } from '../contracts/search-attributes';
import {
  MAX_CARRIED_BYTES,
  type CarriedState,
  type StreamSettings,
  type StreamSignalBatch,
  type StreamState,
  type StreamWorkflowInput,
} from '../contracts/stream';
import type { LoadBlocksInput, LoadStreamResult, StreamActivities } from './load';
import type { StreamRereadActivities } from './reread';
import type { StreamTopicActivities } from './topic';
import {
  acceptArrival,
  flushOffsets,
  flushSize,
  newestTimestamp,
  OffsetBuffer,
  splitAtStored,
  type Arrival,
  type BufferedBlock,
  type Flush,
} from './workflow-buffer';
import {
  judgesAgeOnEveryTask,
  knowsTopicIncarnations,
  loadsBlocksLocally,
  takeoverKeepsLateMessages,
} from './workflow-patches';
import { OffsetStop } from './workflow-stop';
import {
  NewIncarnations,
  successorLedgerRunId,
  successorState,
  supersededNote,
  type Incarnation,
} from './workflow-takeover';

/** The activities a run calls. */
export type RunActivities = StreamActivities & StreamRereadActivities & StreamTopicActivities;

/** Their proxies in the workflow, and the block load's as a local activity. */
export type RunProxies = RunActivities & { loadStreamBlocksLocally: StreamActivities['loadStreamBlocks'] };

// Before continuing as new with a history of many events, wait for this long without a signal (see untilQuiet),
// but no longer than the max.
const CAN_QUIET_AFTER_EVENTS = 500;
const CAN_QUIET_MS = 500;
const CAN_QUIET_MAX_MS = 5000;

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

function restoreBlocks(input: StreamWorkflowInput, data: readonly Uint8Array[]): BufferedBlock[] {
  return (input.pendingBlocks ?? []).map((block, i) => {
    const bytes = data[i];
    if (bytes === undefined) throw new Error(`carried block ${block.info.firstOffset}.. has no bytes`);
    return { block, data: bytes };
  });
}

export class PartitionRun {
  readonly topic: string;
  readonly partition: number;
  readonly settings: StreamSettings;
  /** The chain's state, handed to the next run at continue-as-new. */
  readonly state: CarriedState;
  /** Taken, not loaded yet: the chain's buffer (a takeover swaps in the new incarnation's). */
  buffer: OffsetBuffer;
  readonly newIncarnations = new NewIncarnations();
  readonly stop: OffsetStop;
  /** Messages handed to the load activity, not yet confirmed. */
  private loading = 0;
  private signalsReceived = 0;
  // A run of a chain started by older code takes the messages as it did: no new commands in its history.
  private readonly topicAware: boolean;
  private readonly ageOnEveryTask: boolean;
  private readonly blocksLocally: boolean;

  /** `blockData`: the bytes of input.pendingBlocks, in order. */
  constructor(
    input: StreamWorkflowInput,
    blockData: readonly Uint8Array[],
    settings: StreamSettings,
    private readonly activities: RunProxies,
  ) {
    this.topic = input.topic;
    this.partition = input.partition;
    this.settings = settings;
    this.state = { ...(input.carried ?? firstRunState()) };
    this.state.chainRuns++;
    this.buffer = new OffsetBuffer(
      this.state.lastOffset,
      input.pending,
      Date.now(),
      restoreBlocks(input, blockData),
    );
    this.stop = new OffsetStop(this.state, this.topic, this.partition);
    // Read here, in this order, as always: their markers are commands in every history.
    this.topicAware = knowsTopicIncarnations();
    this.ageOnEveryTask = judgesAgeOnEveryTask();
    this.blocksLocally = loadsBlocksLocally();
  }

  /** The messages signal: redeliveries dropped, a recreated topic's messages held, the rest taken or parked. */
  receive({ messages, block, topicId, logEnd }: StreamSignalBatch, data: Uint8Array | undefined): void {
    this.signalsReceived++;
    // Code older than record blocks failed its task on a block (no messages); this code takes either form.
    const arrival: Arrival =
      block !== undefined && data !== undefined ? { block, data } : { messages: messages ?? [] };
    if (!this.topicAware) topicId = logEnd = undefined;
    if (this.newIncarnations.holdIfRecreated(this.state.topicId, topicId, arrival, Date.now())) return;
    // A chain started without an id (new, or by an older bridge) takes the first one it is given.
    if (topicId !== undefined) this.state.topicId ??= topicId;
    // Once a new incarnation is known, the old one's last messages are simply taken and flushed.
    if (this.newIncarnations.next !== undefined || !this.stop.park(arrival, logEnd)) this.take(arrival);
  }

  /** The resume signal: the chain goes on after its last offset with what came while it was stopped. */
  resume(by: string): void {
    const { stopped } = this.state;
    const released = this.stop.resume();
    if (released === undefined) return;
    log.warn('partition resumed after its offsets went backwards; it goes on after its last offset', {
      topic: this.topic,
      partition: this.partition,
      by,
      lastOffset: this.state.lastOffset,
      stopped,
    });
    this.takeAll(released);
  }

  /** The state query. */
  report(): StreamState {
    return {
      ...this.state,
      workflowId: workflowInfo().workflowId,
      topic: this.topic,
      partition: this.partition,
      buffered: this.buffer.size,
      bufferedBytes: this.buffer.byteSize,
      loading: this.loading,
      historyLength: workflowInfo().historyLength,
      // While a new incarnation waits, the bridge pauses the partition as for a continue-as-new.
      continueAsNewDue: this.shouldContinueAsNew() || this.newIncarnations.next !== undefined,
      heldForNewTopic: this.newIncarnations.next?.buffer.size,
      onHold: this.stop.parkedCount,
      takesBlocks: true,
    };
  }

  /** The run's summary in the Web UI. */
  describe(): void {
    const { state, topic, partition } = this;
    const last = state.lastFlush;
    setCurrentDetails(
      [
        `**${topic}** partition **${partition}**, run ${state.chainRuns} of this chain`,
        `last offset ${state.lastOffset}, received ${state.received}, loaded ${state.loaded}, ` +
          `rejected ${state.rejected}, buffered ${this.buffer.size}`,
        last
          ? `last flush ${last.at}: ${last.messages} messages (offsets ${last.firstOffset}..${last.lastOffset})`
          : 'no flush yet',
        ...(state.stopped ? [`**STOPPED** ${state.stopped.at}: ${state.stopped.reason}`] : []),
      ].join('\n\n'),
    );
  }

  shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength >= this.settings.continueAsNewAfterEvents;
  }

  // Not while messages wait on a stop: they travel in no run's input. The bridge sends nothing meanwhile, so the
  // history does not grow.
  continueAsNewNow(): boolean {
    return this.shouldContinueAsNew() && !this.stop.unsettled;
  }

  /** What the loop must see to before anything else: a recreated topic to take over, a log end to check. */
  hasUrgentWork(): boolean {
    return this.newIncarnations.next !== undefined || this.stop.suspectLogEnd !== undefined;
  }

  flushDue(): boolean {
    const { flush } = this.settings;
    return (
      this.buffer.size >= flush.maxMessages ||
      this.buffer.byteSize >= flush.maxBytes ||
      this.tooOld() ||
      this.shouldContinueAsNew()
    );
  }

  /** Until the buffer's age makes a flush due (or sooner, by size or a recreated topic). */
  async untilFlushDue(): Promise<void> {
    const waitMs = (this.buffer.oldestArrival ?? Date.now()) + this.settings.flush.maxAgeMs - Date.now();
    if (waitMs > 0) await condition(() => this.flushDue() || this.newIncarnations.next !== undefined, waitMs);
  }

  /** Whether the buffer fits the next run's input: more is flushed first. */
  bufferFitsInput(): boolean {
    return this.buffer.byteSize <= Math.min(MAX_CARRIED_BYTES, this.settings.flush.maxBytes);
  }

  /** Empties the buffer into the next run's input and arguments (the blocks' bytes). */
  handOver(): [StreamWorkflowInput, ...Uint8Array[]] {
    const { topic, partition, settings, state } = this;
    const { messages, blocks } = this.buffer.drain();
    state.carriedOver += messages.length + blocks.reduce((n, b) => n + b.block.taken, 0);
    const carried = blocks.length > 0 ? { pendingBlocks: blocks.map((b) => b.block) } : {};
    return [
      { topic, partition, settings, carried: state, pending: messages, ...carried },
      ...blocks.map((b) => b.data),
    ];
  }

  /**
   * Loads the oldest of the buffer; what the load's result says it did not store goes back to the head. Only a
   * replay meets that: a query that reaches a worker before a pending task starts makes it apply the events
   * already in history, so its flush can miss signals that then come with the task; a replay applies the task's
   * events at once and takes those too, and the recorded result says how many the load had.
   */
  flush(): Promise<void> {
    const { maxMessages, maxBytes } = this.settings.flush;
    const takenAt = Date.now();
    return this.load(this.buffer.take(maxMessages, maxBytes, takenAt), takenAt);
  }

  /**
   * The bridge commits an offset once Temporal has the signal, so what a terminated (or reset) chain had
   * buffered or was loading would never come again. A new chain therefore first loads, straight from Kafka,
   * whatever lies between the database's last stored offset and the first offset the bridge gave it.
   */
  async rereadUnstored(): Promise<void> {
    const { topic, partition, state } = this;
    await condition(() => this.buffer.size > 0);
    const before = this.buffer.firstOffset!;
    await this.ensureSource();
    const { sourceTopic } = state;
    let from: number | undefined;
    for (;;) {
      const { messages, done } = await this.activities.readUnstoredMessages({
        topic,
        partition,
        sourceTopic,
        before,
        from,
      });
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
        await this.load({ kind: 'messages', messages });
        from = messages[messages.length - 1]!.offset + 1;
      }
      if (done || messages.length === 0) return;
    }
  }

  /**
   * Waits until no signal has arrived for CAN_QUIET_MS (at most CAN_QUIET_MAX_MS). A continue-as-new that a
   * signal overtakes is refused by the server, and the refusal evicts the run from the worker's cache: the next
   * task replays the run's whole history, seconds for thousands of signals, and under even traffic every
   * partition's workflow gets there at about the same moment (bench/README.md: every partition stalled). The
   * bridge pauses a partition whose workflow reports continueAsNewDue, so the quiet comes within a probe
   * interval or two. A run of few events (a backlog's big signals fill the
   * history by size first) replays in milliseconds: there the wait would cost more than the refusal.
   */
  async untilQuiet(): Promise<void> {
    if (workflowInfo().historyLength < CAN_QUIET_AFTER_EVENTS) return;
    const giveUpAt = Date.now() + CAN_QUIET_MAX_MS;
    for (;;) {
      const seen = this.signalsReceived;
      const left = giveUpAt - Date.now();
      if (left <= 0 || !(await condition(() => this.signalsReceived !== seen, Math.min(CAN_QUIET_MS, left))))
        return;
    }
  }

  /**
   * The old incarnation's chain ends: what it holds is loaded, its ledger row is closed as superseded, and
   * `next`'s messages start a new chain (stream/workflow-takeover.ts) in this same run.
   */
  async takeOverNewTopic(next: Incarnation): Promise<void> {
    const { topic, partition, state } = this;
    const keepLate = takeoverKeepsLateMessages();
    // The old id first, so that it keeps its source_topic and the new one gets a name of its own.
    await this.ensureSource();
    // A stop of the old incarnation ends with it: what it held is taken as a resume would, then loaded.
    const releasedFromStop = this.stop.parkedCount;
    this.takeAll(this.stop.end());
    while (this.buffer.size > 0) await this.flush();
    const info = workflowInfo();
    const ledgerRunId = successorLedgerRunId(info.workflowId, next.topicId, info.runId);
    const note = supersededNote(topic, partition, state, next, ledgerRunId);
    const receivedAtClose = state.received;
    await this.activities.closeStreamRun({ ledgerRunId: state.ledgerRunId, note });
    // The bridge may still deliver the old incarnation's last chunks (read before it saw the new id) during the
    // close: it has committed them, so they are loaded too. No await between the last check and the swap below.
    if (keepLate) while (this.buffer.size > 0) await this.flush();
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
    for (const lost of this.newIncarnations.advance(keepLate)) {
      log.error('topic recreated again before the previous recreation was taken over; messages not taken', {
        topic,
        partition,
        topicId: lost.topicId,
        count: lost.buffer.size,
      });
    }
    this.buffer = next.buffer;
    Object.assign(state, successorState(firstRunState(), next, ledgerRunId));
    this.describe();
  }

  /**
   * Asks Kafka for the partition's log end, since a signal's can be stale: a stop or a false alarm
   * (stream/workflow-stop.ts).
   */
  async checkStop(): Promise<void> {
    const { topic, partition } = this;
    const logEnd = await this.activities.readPartitionLogEnd({ topic, partition });
    const outcome = this.stop.settle(logEnd, new Date());
    if ('released' in outcome) {
      this.takeAll(outcome.released);
      return;
    }
    log.error('partition stopped: offsets went backwards', { topic, partition, ...outcome.stopped });
    this.describe();
  }

  // The age rule is judged at every workflow task, not only when its timer fires: the server fires timers up
  // to a second late (bench/README.md), while under steady traffic a signal comes every fetch wait.
  private tooOld(): boolean {
    return (
      this.ageOnEveryTask &&
      this.buffer.oldestArrival !== undefined &&
      Date.now() - this.buffer.oldestArrival >= this.settings.flush.maxAgeMs
    );
  }

  /** Takes what is beyond the last offset into the buffer; anything at or below it is a redelivery. */
  private take(arrival: Arrival): void {
    const { state } = this;
    const { taken, dropped } = acceptArrival(this.buffer, arrival, Date.now());
    state.received += taken;
    state.duplicatesDropped += dropped;
    state.lastOffset = this.buffer.lastOffset;
    const newest = newestTimestamp(arrival);
    if (taken > 0 && newest !== undefined) state.lastMessageAt = new Date(newest).toISOString();
  }

  private takeAll(arrivals: readonly Arrival[]): void {
    for (const arrival of arrivals) this.take(arrival);
  }

  /** The chain's source_topic, resolved once its topic id is known (see stream/topic.ts). */
  private async ensureSource(): Promise<void> {
    const { topic, state } = this;
    if (this.topicAware && state.topicId !== undefined && state.sourceTopic === undefined) {
      state.sourceTopic = await this.activities.resolveStreamIncarnation({ topic, topicId: state.topicId });
    }
  }

  private loadBlocks(input: LoadBlocksInput, data: Uint8Array[]): Promise<LoadStreamResult> {
    return this.blocksLocally
      ? this.activities.loadStreamBlocksLocally(input, ...data)
      : this.activities.loadStreamBlocks(input, ...data);
  }

  /** `takenAt`: when the batch was taken from the buffer, for a flush (not for a re-read). */
  private async load(batch: Flush, takenAt?: number): Promise<void> {
    const { topic, partition, state } = this;
    const started = Date.now();
    const size = flushSize(batch);
    this.loading = size;
    await this.ensureSource();
    const target = {
      ledgerRunId: state.ledgerRunId,
      workflowId: workflowInfo().workflowId,
      topic,
      partition,
      sourceTopic: state.sourceTopic,
    };
    const result =
      batch.kind === 'messages'
        ? await this.activities.loadStreamMessages({ ...target, messages: batch.messages })
        : await this.loadBlocks(
            { ...target, blocks: batch.blocks.map((b) => b.block) },
            batch.blocks.map((b) => b.data),
          );
    this.loading = 0;
    const { stored, unstored } = splitAtStored(batch, result.loaded + result.rejected);
    if (takenAt !== undefined && unstored !== undefined) this.buffer.putBack(unstored, takenAt);
    state.loaded += result.loaded;
    state.rejected += result.rejected;
    state.alreadyStored += result.alreadyStored;
    state.lastFlush = {
      at: new Date().toISOString(),
      messages: flushSize(stored),
      loaded: result.loaded,
      rejected: result.rejected,
      ...flushOffsets(stored),
      durationMs: Date.now() - started,
    };
    upsertSearchAttributes([
      { key: KioskRowsRead, value: state.loaded + state.rejected },
      { key: KioskRowsLoaded, value: state.loaded },
      { key: KioskRowsRejected, value: state.rejected },
    ]);
    this.describe();
  }
}
