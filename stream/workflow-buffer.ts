// The streaming workflow's buffer: takes each offset once and hands out flush-sized batches. Pure and
// deterministic, so it runs inside the workflow sandbox and in unit tests alike. It holds record blocks (what
// the bridge sends) and single messages (what older bridges sent, and what older runs carried over); a flush is
// of one kind, so a run that only ever had messages hands out exactly the batches it always did.
import {
  encodedMessageBytes,
  type RecordBlockInfo,
  type StreamMessage,
  type TakenBlock,
} from '../contracts/stream';

export interface AcceptResult {
  taken: number;
  dropped: number;
}

/** A taken block with its bytes, as the buffer keeps it until a load or the next run. */
export interface BufferedBlock {
  block: TakenBlock;
  data: Uint8Array;
}

export type Flush =
  { kind: 'messages'; messages: StreamMessage[] } | { kind: 'blocks'; blocks: BufferedBlock[] };

/** What one signal brings: messages one by one (older bridges) or a record block with its bytes. */
export type Arrival = { messages: readonly StreamMessage[] } | { block: RecordBlockInfo; data: Uint8Array };

type Entry = { message: StreamMessage } | BufferedBlock;

function entryCount(entry: Entry): number {
  return 'message' in entry ? 1 : entry.block.taken;
}

function entryBytes(entry: Entry): number {
  return 'message' in entry ? encodedMessageBytes(entry.message) : entry.block.bytes;
}

/** How much of a block lies beyond `last`, the highest offset taken so far. */
function takeBeyond(info: RecordBlockInfo, last: number, data: Uint8Array): TakenBlock | undefined {
  const { firstOffset, lastOffset, count, offsets } = info;
  if (lastOffset <= last) return undefined;
  const base = { info, bytes: data.byteLength };
  if (firstOffset > last) return { ...base, taken: count, firstTaken: firstOffset };
  // A redelivery that overlaps what was taken: the load skips the records up to `last`.
  const beyond = offsets?.filter((o) => o > last);
  return {
    ...base,
    skipThrough: last,
    taken: beyond?.length ?? lastOffset - last,
    firstTaken: beyond?.[0] ?? last + 1,
  };
}

export class OffsetBuffer {
  private queue: Entry[] = [];
  private head = 0;
  private count = 0;
  private bytes = 0;
  private oldestAt: number | undefined;

  /**
   * @param last the highest offset already taken (-1 for none), carried across continue-as-new
   * @param pending messages the previous run took but did not load, restored as they were (not re-deduplicated:
   *   they are at or below `last` by construction); likewise `pendingBlocks`
   */
  constructor(
    private last: number,
    pending: readonly StreamMessage[] = [],
    now = 0,
    pendingBlocks: readonly BufferedBlock[] = [],
  ) {
    for (const message of pending) this.push({ message });
    for (const block of pendingBlocks) this.push(block);
    if (this.count > 0) this.oldestAt = now;
  }

  get lastOffset(): number {
    return this.last;
  }

  /** Messages buffered. */
  get size(): number {
    return this.count;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Offset of the oldest buffered message, or undefined when empty. */
  get firstOffset(): number | undefined {
    const entry = this.queue[this.head];
    if (entry === undefined) return undefined;
    return 'message' in entry ? entry.message.offset : entry.block.firstTaken;
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
      this.push({ message });
      this.last = message.offset;
      taken++;
    }
    if (taken > 0 && this.oldestAt === undefined) this.oldestAt = now;
    return { taken, dropped: messages.length - taken };
  }

  /** The same for a record block: what lies beyond the mark is taken, the rest is a redelivery. */
  acceptBlock(info: RecordBlockInfo, data: Uint8Array, now: number): AcceptResult {
    const block = takeBeyond(info, this.last, data);
    if (block === undefined) return { taken: 0, dropped: info.count };
    this.push({ block, data });
    this.last = info.lastOffset;
    this.oldestAt ??= now;
    return { taken: block.taken, dropped: info.count - block.taken };
  }

  /** Removes and returns everything buffered. */
  drain(): { messages: StreamMessage[]; blocks: BufferedBlock[] } {
    const all = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    this.oldestAt = undefined;
    const messages: StreamMessage[] = [];
    const blocks: BufferedBlock[] = [];
    for (const entry of all) {
      if ('message' in entry) messages.push(entry.message);
      else blocks.push(entry);
    }
    return { messages, blocks };
  }

  /**
   * Removes and returns the oldest entries of one kind, up to either limit but at least one, so that a single
   * message or block larger than maxBytes still moves on alone.
   */
  take(maxMessages: number, maxBytes: number, now: number): Flush {
    const first = this.queue[this.head];
    const ofMessages = first !== undefined && 'message' in first;
    let end = this.head;
    let messages = 0;
    let bytes = 0;
    while (end < this.queue.length) {
      const entry = this.queue[end]!;
      if ('message' in entry !== ofMessages) break;
      const size = entryBytes(entry);
      const n = entryCount(entry);
      if (end > this.head && (messages + n > maxMessages || bytes + size > maxBytes)) break;
      bytes += size;
      messages += n;
      end++;
    }
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    this.bytes -= bytes;
    this.count -= messages;
    // Compact once the consumed prefix dominates, so a long-lived run does not keep every message alive.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    // What is left arrived no earlier than now as far as the age rule cares: it waits one more full period at
    // most, which keeps the rule simple without tracking an arrival time per message.
    this.oldestAt = this.size > 0 ? now : undefined;
    return ofMessages
      ? { kind: 'messages', messages: batch.map((e) => (e as { message: StreamMessage }).message) }
      : { kind: 'blocks', blocks: batch as BufferedBlock[] };
  }

  /**
   * Puts back, at the head, what a flush took but its load did not store (see `splitAtStored`), as old as the
   * take: the worker that ran that task had emptied its buffer, and refilled it at the task's time.
   */
  putBack(batch: Flush, takenAt: number): void {
    const entries: Entry[] =
      batch.kind === 'messages' ? batch.messages.map((message) => ({ message })) : batch.blocks;
    this.queue.splice(this.head, 0, ...entries);
    for (const entry of entries) {
      this.count += entryCount(entry);
      this.bytes += entryBytes(entry);
    }
    this.oldestAt = takenAt;
  }

  private push(entry: Entry): void {
    this.queue.push(entry);
    this.count += entryCount(entry);
    this.bytes += entryBytes(entry);
  }
}

/** Messages an arrival brings, whether or not they are taken. */
export function arrivalCount(arrival: Arrival): number {
  return 'messages' in arrival ? arrival.messages.length : arrival.block.count;
}

export function acceptArrival(buffer: OffsetBuffer, arrival: Arrival, now: number): AcceptResult {
  return 'messages' in arrival
    ? buffer.accept(arrival.messages, now)
    : buffer.acceptBlock(arrival.block, arrival.data, now);
}

/** Kafka timestamp of the arrival's last message, ms since the epoch. */
export function newestTimestamp(arrival: Arrival): number | undefined {
  return 'messages' in arrival
    ? arrival.messages[arrival.messages.length - 1]?.timestamp
    : arrival.block.lastTimestamp;
}

/** Messages a flush hands to the load. */
export function flushSize(batch: Flush): number {
  return batch.kind === 'messages'
    ? batch.messages.length
    : batch.blocks.reduce((n, b) => n + b.block.taken, 0);
}

export function flushOffsets(batch: Flush): { firstOffset: number; lastOffset: number } {
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

/**
 * Splits `batch` where its load stopped (`handled`: loaded plus rejected, which equals what the load was
 * given): `unstored` is the tail beyond, undefined when the load stored the whole batch. A replay sees a
 * shorter count when the worker that ran the task took the batch before the task's last signals were applied
 * (stream/workflow-run.ts, flush). Any flush takes at least one entry, so a count of none, or one that ends
 * inside a block, is not such a case: the batch counts as stored, as it always did.
 */
export function splitAtStored(batch: Flush, handled: number): { stored: Flush; unstored?: Flush } {
  if (handled > 0 && batch.kind === 'messages' && handled < batch.messages.length) {
    return {
      stored: { kind: 'messages', messages: batch.messages.slice(0, handled) },
      unstored: { kind: 'messages', messages: batch.messages.slice(handled) },
    };
  }
  if (handled > 0 && batch.kind === 'blocks') {
    let stored = 0;
    for (const [i, b] of batch.blocks.entries()) {
      if (stored === handled) {
        return {
          stored: { kind: 'blocks', blocks: batch.blocks.slice(0, i) },
          unstored: { kind: 'blocks', blocks: batch.blocks.slice(i) },
        };
      }
      stored += b.block.taken;
    }
  }
  return { stored: batch };
}
