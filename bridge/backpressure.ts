// Backpressure per partition. The bridge counts what it signalled since it last asked the workflow, pauses the
// partition when that estimate reaches the limit, and asks again while paused or when a probe interval has passed. A partition pauses while its
// workflow is too far behind, cannot answer (no worker, Temporal down), is draining to continue as new, or has
// stopped the partition (offsets went backwards) until an operator resumes it.
export interface WorkflowLag {
  /** Messages the workflow holds but has not loaded. */
  pending: number;
  /** The workflow waits for its buffer to shrink before it continues as new. */
  draining: boolean;
  /** Why the workflow stopped the partition (its offsets went backwards), until an operator resumes it. */
  stopped?: string;
  /** The workflow's code takes record blocks (older code takes messages one by one only). */
  takesBlocks?: boolean;
}

/**
 * The partition's workflow's lag, or `closed` when no chain runs (terminated, failed, or never started); throws
 * when the workflow cannot answer (no worker, Temporal down).
 */
export type LagProbe = (partition: number) => Promise<WorkflowLag | 'closed'>;

export interface BackpressureLimits {
  maxPending: number;
  resumePending: number;
  /** Poll interval while paused, and the longest time between two probes while running. */
  pollMs: number;
  /**
   * While paused because the workflow holds too much: the wait before asking again. A query waits for the load
   * in progress, so its answer comes as that load ends; a short wait lets the next answer come at the next one.
   */
  behindPollMs?: number;
}

export class Backpressure {
  private readonly estimate = new Map<number, number>();
  private readonly lastProbe = new Map<number, number>();
  private readonly paused = new Set<number>();
  private readonly draining = new Set<number>();
  private readonly stopped = new Map<number, string>();
  private readonly blocks = new Set<number>();
  private readonly answered = new Set<number>();
  private readonly probing = new Set<Promise<unknown>>();

  constructor(
    private readonly probe: LagProbe,
    private readonly limits: BackpressureLimits,
    private readonly log: (
      line: string,
      fields?: Record<string, unknown>,
      level?: 'info' | 'warn' | 'error',
    ) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  noteDelivered(partition: number, messages: number): void {
    this.estimate.set(partition, (this.estimate.get(partition) ?? 0) + messages);
  }

  /**
   * What the partition's workflow takes, from its last answer: record blocks, or messages one by one (code
   * older than blocks). With no answer yet it is asked now; `unknown` when it cannot answer (a chain that does
   * not exist yet, or no worker).
   */
  async format(partition: number): Promise<'blocks' | 'messages' | 'unknown'> {
    if (!this.answered.has(partition)) await this.measure(partition);
    if (!this.answered.has(partition)) return 'unknown';
    return this.blocks.has(partition) ? 'blocks' : 'messages';
  }

  pausedPartitions(): number[] {
    return [...this.paused].sort((a, b) => a - b);
  }

  /**
   * True when the partition must pause before its next chunk: its workflow stopped it or is draining to continue
   * as new (from the last answer), or, at the start of a batch, the estimate is over the limit. Never waits for
   * an answer (only `format` does, once per chain): a query sent during a load is answered only as the load ends, and kafkajs fetches no partition of
   * a broker while a batch of its last fetch is still in hand, so one wait held up every partition. Mid-batch the
   * estimate may pass the limit by what one fetch holds; the batch then ends with a pause (`isOverLimit`).
   * A probe that is due runs in the background; its answer counts from the next call on.
   */
  mustPause(partition: number, atBatchStart: boolean): boolean {
    // A stopped workflow may hold nothing, and yet nothing more may be sent to it.
    if (this.stopped.has(partition)) return true;
    const estimate = this.estimate.get(partition) ?? 0;
    // Nothing sent yet: the workflow may not exist, and there is nothing it could be behind on.
    if (estimate === 0) return false;
    if (this.draining.has(partition)) return true;
    if (atBatchStart && estimate > this.limits.maxPending) return true;
    if (this.clock() - (this.lastProbe.get(partition) ?? 0) >= this.limits.pollMs) {
      void this.measure(partition);
    }
    return false;
  }

  /** Whether the partition should pause once its batch is sent, rather than be fetched again and wait. */
  isOverLimit(partition: number): boolean {
    return (this.estimate.get(partition) ?? 0) >= this.limits.maxPending;
  }

  /**
   * Polls the workflow until it has caught up (under the resume mark, not draining) or is closed, then resumes
   * the partition. Stops polling (leaving the partition paused) once the bridge stops.
   */
  resumeWhenDrained(partition: number, resume: () => void, running: () => boolean): void {
    if (this.paused.has(partition)) return;
    this.paused.add(partition);
    this.log(
      this.stopped.has(partition)
        ? `partition ${partition}: paused while its workflow is stopped`
        : `partition ${partition}: workflow is behind, pausing the partition`,
      { partition },
    );
    let waitMs = this.limits.behindPollMs ?? this.limits.pollMs;
    const poll = async (): Promise<void> => {
      while (running()) {
        await new Promise((r) => setTimeout(r, waitMs));
        if (!running()) break;
        const lag = await this.measure(partition);
        const onlyBehind = lag !== null && lag !== 'closed' && !lag.draining && lag.stopped === undefined;
        waitMs = onlyBehind ? (this.limits.behindPollMs ?? this.limits.pollMs) : this.limits.pollMs;
        if (lag === 'closed') {
          // Terminated (or failed) while paused: it will never drain. Its offsets were committed once it had
          // accepted them, so the new chain that the next message starts re-reads them from Kafka first.
          this.paused.delete(partition);
          this.log(
            `partition ${partition}: its workflow is closed (terminated or failed), resuming; the next message ` +
              'starts a new chain, which first re-reads what the closed one had not stored',
            { partition },
            'warn',
          );
          resume();
          return;
        }
        if (
          lag !== null &&
          !lag.draining &&
          lag.stopped === undefined &&
          lag.pending <= this.limits.resumePending
        ) {
          this.paused.delete(partition);
          this.log(`partition ${partition}: workflow caught up (${lag.pending} pending), resuming`, {
            partition,
          });
          resume();
          return;
        }
      }
      this.paused.delete(partition);
    };
    void poll();
  }

  /** Resolves once no probe is in flight: the Temporal connection may close without a query still retrying. */
  async settled(): Promise<void> {
    while (this.probing.size > 0) await Promise.allSettled([...this.probing]);
  }

  /** The workflow's answer, `closed` when no chain runs, or null when it gave no answer. */
  private async measure(partition: number): Promise<WorkflowLag | 'closed' | null> {
    this.lastProbe.set(partition, this.clock());
    const asked = this.probe(partition);
    this.probing.add(asked);
    try {
      const lag = await asked;
      if (lag === 'closed') {
        // What the closed chain said (its lag, a drain, a stop) says nothing about the next one.
        for (const set of [this.estimate, this.draining, this.stopped, this.answered, this.blocks]) {
          set.delete(partition);
        }
        return lag;
      }
      this.estimate.set(partition, lag.pending);
      if (lag.draining) this.draining.add(partition);
      else this.draining.delete(partition);
      this.answered.add(partition);
      if (lag.takesBlocks === true) this.blocks.add(partition);
      else this.blocks.delete(partition);
      if (lag.stopped !== undefined && !this.stopped.has(partition)) {
        // Logged once, as soon as a probe sees it; the partition pauses before its next chunk.
        this.log(
          `partition ${partition} stopped: ${lag.stopped}; nothing more is taken until an operator runs ` +
            `\`kiosk stream resume ${partition}\``,
          { partition, stopped: lag.stopped },
          'error',
        );
      }
      if (lag.stopped !== undefined) this.stopped.set(partition, lag.stopped);
      else this.stopped.delete(partition);
      return lag;
    } catch {
      return null;
    } finally {
      this.probing.delete(asked);
    }
  }
}
