// The contract between the Kafka bridge, the streaming workflow, its load activity and the operator CLI. Only
// definitions and pure helpers live here, so Node code (bridge, CLI) can import it without workflow code.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const STREAM_WORKFLOW_TYPE = 'streamPartition';

/** One Kafka record as the bridge hands it over. */
export interface StreamMessage {
  /** Kafka offset within the partition (int64 in Kafka; offsets stay far below 2^53). */
  offset: number;
  /**
   * The value's bytes in base64: payloads are JSON, which cannot carry bytes, and invalid UTF-8 must survive
   * to the rejects table. null is a Kafka tombstone (no value at all).
   */
  value: string | null;
  /** Kafka record timestamp, ms since the epoch. */
  timestamp: number;
  /**
   * Set when the value was larger than MAX_VALUE_BYTES: its full length in bytes, while `value` holds only the
   * first OVERSIZE_KEPT_BYTES. The load stores it as an OVERSIZE reject.
   */
  length?: number;
}

/**
 * Largest value that travels whole. Its base64 (1.4 MB) still fits a signal, an activity input and a
 * continue-as-new input, each one payload of at most 2 MiB; a larger one would stop the partition.
 */
export const MAX_VALUE_BYTES = 1024 * 1024;

/** What is kept of an oversize value: its first bytes, enough to see what the producer sent. */
export const OVERSIZE_KEPT_BYTES = 64 * 1024;

/**
 * What the workflow reads of a record block (contracts/record-block.ts), which travels beside it as the signal's
 * second argument: enough to drop redeliveries and count messages without decoding the block.
 */
export interface RecordBlockInfo {
  firstOffset: number;
  lastOffset: number;
  count: number;
  /** Every offset, only when they are not contiguous (compaction, transaction markers). */
  offsets?: number[];
  /** Kafka timestamp of the last record, ms since the epoch. */
  lastTimestamp: number;
}

/** A block the workflow took, waiting for a load; its bytes travel as a separate binary argument. */
export interface TakenBlock {
  info: RecordBlockInfo;
  /** Records at or below this offset were taken before (a redelivery's overlap); the load skips them. */
  skipThrough?: number;
  /** Records of the block taken (after skipThrough), and the first of them. */
  taken: number;
  firstTaken: number;
  /** Size of the block's bytes (what flush and carry limits count). */
  bytes: number;
}

export interface StreamSignalBatch {
  /**
   * The messages one by one: what bridges before record blocks sent, and what the bridge sends a workflow that
   * has not said it takes blocks (StreamState.takesBlocks). Absent when the signal carries a block.
   */
  messages?: StreamMessage[];
  /** Describes the record block that is the signal's second argument. */
  block?: RecordBlockInfo;
  /**
   * The Kafka topic id the bridge read the messages under (absent from older bridges). A different id than the
   * chain's means the topic was deleted and created again: a new incarnation, with offsets from 0.
   */
  topicId?: string;
  /** The partition's log end offset (high watermark) when the messages were fetched. */
  logEnd?: number;
}

/** Why a partition stopped: its offsets went backwards under the same topic id. Cleared by `resume`. */
export interface StreamStop {
  /** Workflow time, ISO-8601. */
  at: string;
  reason: string;
  /** The chain's highest offset taken, and the log end the bridge saw below it. */
  lastOffset: number;
  logEnd: number;
}

/** When the workflow hands its buffer to the load activity: whichever limit is reached first. */
export interface FlushPolicy {
  maxMessages: number;
  /** Encoded size (see encodedMessageBytes); keeps the activity input far below the 2 MiB payload limit. */
  maxBytes: number;
  /** Age of the oldest buffered message. */
  maxAgeMs: number;
}

export interface StreamSettings {
  flush: FlushPolicy;
  /** History length after which a run continues as new even if the server does not suggest it yet. */
  continueAsNewAfterEvents: number;
  /** startToCloseTimeout of one load; a killed worker's load is retried after this. */
  loadTimeoutMs: number;
}

export const DEFAULT_STREAM_SETTINGS: StreamSettings = {
  // resolveSettings runs in the workflow: a chain started without maxAgeMs replays with this value, so it stays
  // 100 (the bridge's own fallback is 0: bridge/settings.ts).
  flush: { maxMessages: 20_000, maxBytes: 1024 * 1024, maxAgeMs: 100 },
  // The server suggests continue-as-new at 4,096 events (or 4 MiB); staying under it also keeps far away from
  // the 10,000 signals an execution may receive.
  continueAsNewAfterEvents: 4000,
  loadTimeoutMs: 60_000,
};

export interface LastFlush {
  /** Workflow time of the flush's completion, ISO-8601. */
  at: string;
  messages: number;
  loaded: number;
  rejected: number;
  firstOffset: number;
  lastOffset: number;
  durationMs: number;
}

/** What a run hands to the next one when it continues as new. */
export interface CarriedState {
  /** The pipeline_run row of this workflow chain. */
  ledgerRunId: string;
  /** Highest offset taken; -1 before the first. Anything at or below it is a redelivery and is dropped. */
  lastOffset: number;
  /** Messages taken (after dropping redeliveries). */
  received: number;
  loaded: number;
  rejected: number;
  /** Redeliveries dropped by the workflow (offsets at or below lastOffset). */
  duplicatesDropped: number;
  /** Offsets a load found already stored (a retried load whose first attempt had committed). */
  alreadyStored: number;
  lastFlush: LastFlush | null;
  /** Messages handed unloaded from one run to the next at continue-as-new, over the chain. */
  carriedOver: number;
  /** Kafka timestamp of the newest message taken, ISO-8601. */
  lastMessageAt: string | null;
  /** Runs in this chain so far, this one included. */
  chainRuns: number;
  /**
   * Messages this chain re-read from Kafka before its first load: accepted by an earlier chain, never stored
   * (absent in chains started by older code).
   */
  reread?: number;
  /** The topic id this chain's messages came from (absent in chains started by older code or bridges). */
  topicId?: string;
  /** source_topic of this chain's rows: the topic's name or `<topic>@<topicId>` (see stream/topic.ts). */
  sourceTopic?: string;
  /** Set while the partition is stopped because its offsets went backwards. */
  stopped?: StreamStop;
}

export interface StreamWorkflowInput {
  topic: string;
  partition: number;
  settings?: Partial<Omit<StreamSettings, 'flush'>> & { flush?: Partial<FlushPolicy> };
  carried?: CarriedState;
  /** Messages taken by the previous run but not loaded yet (already counted in carried.received). */
  pending?: StreamMessage[];
  /** Blocks taken by the previous run but not loaded yet; their bytes are the run's further arguments. */
  pendingBlocks?: TakenBlock[];
}

/** The answer to the state query. received = loaded + rejected + buffered + loading, always. */
export interface StreamState extends CarriedState {
  workflowId: string;
  topic: string;
  partition: number;
  /** Taken, waiting for a flush. */
  buffered: number;
  bufferedBytes: number;
  /** Handed to the load activity, not yet confirmed. */
  loading: number;
  historyLength: number;
  /**
   * The run is draining its buffer to continue as new: the bridge pauses the partition meanwhile, or a steady
   * inflow would keep the buffer too big to carry and the history would grow towards its hard limit.
   */
  continueAsNewDue: boolean;
  /** Messages of a recreated topic's new incarnation, held until the old chain is closed. */
  heldForNewTopic?: number;
  /** Messages received while the partition is stopped, taken (or dropped as redeliveries) once it resumes. */
  onHold?: number;
  /** Set by workflow code that takes record blocks: until a workflow says so, the bridge sends messages. */
  takesBlocks?: boolean;
}

export const messagesSignal = defineSignal<[batch: StreamSignalBatch, block?: Uint8Array]>('messages');
export const stateQuery = defineQuery<StreamState>('state');
/** The operator's go-ahead after a stop: the chain goes on after its last offset (`stream resume`). */
export const resumeSignal = defineSignal<[{ by: string }]>('resume');

export function streamWorkflowId(topic: string, partition: number): string {
  return `stream-${topic}-${partition}`;
}

export function streamSource(topic: string, partition: number): string {
  return `kafka://${topic}/${partition}`;
}

// JSON framing around one message in a payload: {"offset":…,"value":"…","timestamp":…}, with room to spare.
const MESSAGE_OVERHEAD_BYTES = 64;

/** Bytes a message adds to a signal or activity payload (base64 is ASCII: one byte per character). */
export function encodedMessageBytes(message: StreamMessage): number {
  return (message.value?.length ?? 0) + MESSAGE_OVERHEAD_BYTES;
}

/**
 * Most a run hands to the next one in pending messages: the continue-as-new input is one payload, limited to
 * 2 MiB like any other.
 */
export const MAX_CARRIED_BYTES = 1024 * 1024;

export function resolveSettings(partial: StreamWorkflowInput['settings']): StreamSettings {
  return {
    flush: { ...DEFAULT_STREAM_SETTINGS.flush, ...partial?.flush },
    continueAsNewAfterEvents:
      partial?.continueAsNewAfterEvents ?? DEFAULT_STREAM_SETTINGS.continueAsNewAfterEvents,
    loadTimeoutMs: partial?.loadTimeoutMs ?? DEFAULT_STREAM_SETTINGS.loadTimeoutMs,
  };
}
