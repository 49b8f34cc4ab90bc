// Topic takeover: a topic deleted and created again keeps its name but gets a new topic id, and its offsets
// restart at 0, so they belong to a new chain. Its messages wait here, one buffer per incarnation, while the
// workflow flushes and closes the chain before them; then the first waiting incarnation becomes the chain, in the
// same workflow, so the bridge and `stream status` keep one workflow per partition. Pure: the workflow does the
// loading and closing.
import type { CarriedState } from '../contracts/stream';
import { acceptArrival, OffsetBuffer, type Arrival } from './workflow-buffer';

/** A recreated topic's messages, waiting until the chain before them is flushed and closed. */
export interface Incarnation {
  topicId: string;
  buffer: OffsetBuffer;
  /** Redeliveries dropped meanwhile; the new chain starts counting with them. */
  dropped: number;
}

export class NewIncarnations {
  // In the order their topic ids were first seen: each takes over in turn (recreated again meanwhile).
  private waiting: Incarnation[] = [];

  /** The incarnation that takes over next, once the chain before it is closed. */
  get next(): Incarnation | undefined {
    return this.waiting[0];
  }

  /**
   * Keeps the arrival for its incarnation when its topic id is not the chain's; false when it is the chain's
   * (or either id is unknown: a chain started without one takes the first it is given).
   */
  holdIfRecreated(
    chainTopicId: string | undefined,
    topicId: string | undefined,
    arrival: Arrival,
    now: number,
  ): boolean {
    if (topicId === undefined || chainTopicId === undefined || topicId === chainTopicId) return false;
    let into = this.waiting.find((i) => i.topicId === topicId);
    if (into === undefined) {
      into = { topicId, buffer: new OffsetBuffer(-1), dropped: 0 };
      this.waiting.push(into);
    }
    into.dropped += acceptArrival(into.buffer, arrival, now).dropped;
    return true;
  }

  /**
   * After `next` took over: the incarnation after it goes next. Takeovers by code before
   * 'takeover-keeps-late-messages' (`keepLater` false) dropped every later one instead: they are returned.
   */
  advance(keepLater: boolean): Incarnation[] {
    this.waiting.shift();
    if (keepLater) return [];
    const dropped = this.waiting;
    this.waiting = [];
    return dropped;
  }
}

/** The new chain's ledger row: one per incarnation and run that took it over. */
export function successorLedgerRunId(workflowId: string, topicId: string, runId: string): string {
  return `${workflowId}/${topicId}/${runId}`;
}

/** The closing note of the chain that `next` takes over from (pipeline_run.note). */
export function supersededNote(
  topic: string,
  partition: number,
  chain: Pick<CarriedState, 'topicId' | 'lastOffset'>,
  next: Incarnation,
  successorRunId: string,
): string {
  return (
    `topic ${topic} was deleted and created again: partition ${partition} has topic id ${next.topicId} ` +
    `(was ${chain.topicId}); this chain ended at offset ${chain.lastOffset}, chain ${successorRunId} goes on`
  );
}

/**
 * The state of the chain `next` starts: a ledger row of its own, offsets from -1 (what it holds already counted),
 * its own source_topic to resolve. `fresh` is a first run's state.
 */
export function successorState(fresh: CarriedState, next: Incarnation, ledgerRunId: string): CarriedState {
  return {
    ...fresh,
    ledgerRunId,
    topicId: next.topicId,
    lastOffset: next.buffer.lastOffset,
    received: next.buffer.size,
    duplicatesDropped: next.dropped,
    chainRuns: 1,
    reread: undefined,
    sourceTopic: undefined,
    stopped: undefined,
  };
}
