// The streaming workflow's buffer: takes each offset once and hands out flush-sized batches. Pure and
// deterministic, so it runs inside the workflow sandbox and in unit tests alike.
import { encodedMessageBytes, type StreamMessage } from '../contracts/stream';

export interface AcceptResult {
  taken: number;
  dropped: number;
}

export class OffsetBuffer {
  private queue: StreamMessage[] = [];
  private head = 0;
  private bytes = 0;
  private oldestAt: number | undefined;

  /**
   * @param last the highest offset already taken (-1 for none), carried across continue-as-new
   * @param pending messages the previous run took but did not load, restored as they were (not re-deduplicated:
   *   they are at or below `last` by construction)
   */
  constructor(
    private last: number,
    pending: readonly StreamMessage[] = [],
    now = 0,
  ) {
    for (const message of pending) {
      this.queue.push(message);
      this.bytes += encodedMessageBytes(message);
    }
    if (pending.length > 0) this.oldestAt = now;
  }

  get lastOffset(): number {
    return this.last;
  }

  get size(): number {
    return this.queue.length - this.head;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Offset of the oldest buffered message, or undefined when empty. */
  get firstOffset(): number | undefined {
    return this.queue[this.head]?.offset;
  }

  /** Workflow time at which the oldest buffered message arrived, or undefined when empty. */
  get oldestArrival(): number | undefined {
    return this.oldestAt;
  }

  /**
   * Takes every message beyond the highest offset taken so far. Kafka offsets only grow within a partition, and
   * the bridge sends them in order and stops at its first failure, so anything at or below the mark is a
   * redelivery (a retried signal, a rebalance, a restarted bridge) and is dropped. Gaps are normal: compaction
   * and transaction markers skip offsets.
   */
  accept(messages: readonly StreamMessage[], now: number): AcceptResult {
    let taken = 0;
    for (const message of messages) {
      if (message.offset <= this.last) continue;
      this.queue.push(message);
      this.bytes += encodedMessageBytes(message);
      this.last = message.offset;
      taken++;
    }
    if (taken > 0 && this.oldestAt === undefined) this.oldestAt = now;
    return { taken, dropped: messages.length - taken };
  }

  /** Removes and returns everything buffered. */
  drain(): StreamMessage[] {
    const all = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.bytes = 0;
    this.oldestAt = undefined;
    return all;
  }

  /**
   * Removes and returns the oldest messages, up to either limit but at least one, so that a single message
   * larger than maxBytes still moves on alone.
   */
  take(maxMessages: number, maxBytes: number, now: number): StreamMessage[] {
    let end = this.head;
    let bytes = 0;
    while (end < this.queue.length && end - this.head < maxMessages) {
      const size = encodedMessageBytes(this.queue[end]!);
      if (end > this.head && bytes + size > maxBytes) break;
      bytes += size;
      end++;
    }
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    this.bytes -= bytes;
    // Compact once the consumed prefix dominates, so a long-lived run does not keep every message alive.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    // What is left arrived no earlier than now as far as the age rule cares: it waits one more full period at
    // most, which keeps the rule simple without tracking an arrival time per message.
    this.oldestAt = this.size > 0 ? now : undefined;
    return batch;
  }
}
