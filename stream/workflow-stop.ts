// The offset stop: records this chain took are gone from the log, yet the topic id did not change (a truncated
// log, or a chain that never knew its topic id). Dropping what comes now as redeliveries would lose it silently,
// so the partition stops until an operator resumes it. A signal's log end can be stale (fetched before a
// rebalance), so the workflow asks Kafka before stopping. Pure: the workflow does the asking and takes what is
// released.
import type { CarriedState, StreamStop } from '../contracts/stream';
import { arrivalCount, type Arrival } from './workflow-buffer';

/** A log end at or below the chain's last offset, seen in a signal, to be checked against Kafka. */
export interface SuspectLogEnd {
  logEnd: number;
  /** The chain's last offset when it was seen. */
  lastOffset: number;
}

/** What the stop reads and sets of the chain's carried state (so a stop outlives continue-as-new). */
export type StopFields = Pick<CarriedState, 'lastOffset' | 'stopped'>;

export class OffsetStop {
  private suspect: SuspectLogEnd | undefined;
  // Arrivals that came while the partition was stopped (or about to be): neither taken nor dropped until the
  // stop is confirmed and resumed, or found to be a false alarm. The bridge pauses the partition meanwhile.
  private parked: Arrival[] = [];

  constructor(
    private readonly chain: StopFields,
    private readonly topic: string,
    private readonly partition: number,
  ) {}

  /** The log end to check against Kafka, if a signal brought one at or below the last offset. */
  get suspectLogEnd(): SuspectLogEnd | undefined {
    return this.suspect;
  }

  /** Messages parked. */
  get parkedCount(): number {
    return this.parked.reduce((n, a) => n + arrivalCount(a), 0);
  }

  /** Whether arrivals are parked or a log end awaits its check (parked arrivals travel in no run's input). */
  get unsettled(): boolean {
    return this.parked.length > 0 || this.suspect !== undefined;
  }

  /**
   * Parks the arrival when the partition is stopped, or when its log end (`logEnd`, the signal's) must be
   * checked first; false when it may be taken.
   */
  park(arrival: Arrival, logEnd: number | undefined): boolean {
    const { lastOffset, stopped } = this.chain;
    if (logEnd !== undefined && logEnd <= lastOffset && stopped === undefined) {
      this.suspect ??= { logEnd, lastOffset };
    }
    if (this.suspect === undefined && stopped === undefined) return false;
    this.parked.push(arrival);
    return true;
  }

  /**
   * Kafka's answer to the suspect log end: beyond the last offset, the signal's was stale and the parked arrivals
   * are released; otherwise the partition stops (set in the chain's state) and they stay parked.
   */
  settle(logEnd: number, at: Date): { released: Arrival[] } | { stopped: StreamStop } {
    const seen = this.suspect;
    if (seen === undefined) throw new Error('no suspect log end to settle');
    this.suspect = undefined;
    if (logEnd > seen.lastOffset) return { released: this.release() };
    const { topic, partition } = this;
    this.chain.stopped = {
      at: at.toISOString(),
      reason:
        `offsets went backwards: the log of ${topic}/${partition} ends at ${logEnd}, at or below this ` +
        `chain's last offset ${seen.lastOffset}, under the same topic id; records at or below it are not taken`,
      lastOffset: seen.lastOffset,
      logEnd,
    };
    return { stopped: this.chain.stopped };
  }

  /** The operator's go-ahead: the parked arrivals, to take after the last offset; undefined if not stopped. */
  resume(): Arrival[] | undefined {
    if (this.chain.stopped === undefined) return undefined;
    this.chain.stopped = undefined;
    return this.release();
  }

  /** The chain ends (its topic was recreated): a stop ends with it, and the parked arrivals are taken as a resume would. */
  end(): Arrival[] {
    this.suspect = undefined;
    this.chain.stopped = undefined;
    return this.release();
  }

  private release(): Arrival[] {
    const released = this.parked;
    this.parked = [];
    return released;
  }
}
