// The bridge's seam over kafkajs (in maintenance mode): a consumer group that hands out per-partition batches
// and lets the caller commit exactly what it has handed on. Nothing outside kafka/ and infra/kafka.ts sees kafkajs, so
// replacing the client means rewriting these files only.
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Config } from '../infra/config';
import { createKafka, decompressionTotals } from '../infra/kafka';
import type { KafkaRecord } from '../contracts/stream-chunks';
import { FetchBudget } from './fetch-budget';

export type { KafkaRecord };

export interface PartitionBatch {
  topic: string;
  partition: number;
  records: KafkaRecord[];
  /** The partition's log end offset (high watermark) in the fetch response. */
  logEnd: number;
}

export interface BatchControl {
  /** Commits the group's position to just after `offset` (call only once the records are safe elsewhere). */
  commit(offset: number): Promise<void>;
  /** Tells the group coordinator this member is alive; cheap, throttled to the heartbeat interval. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition's position moved: stop work on this batch. */
  isActive(): boolean;
  /** Stops fetching this partition; records after the last commit are fetched again after resume(). */
  pause(): () => void;
}

export type BatchHandler = (batch: PartitionBatch, control: BatchControl) => Promise<void>;

export interface ConsumerOptions {
  topic: string;
  groupId: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  partitionsConcurrently: number;
  /** A fetch returns once this many bytes are there or fetchMaxWaitMs has passed (batches, not trickles). */
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  /** Ceilings in bytes as stored (compressed); the sizes asked for keep what a fetch decodes within fetchMaxDecodedBytes. */
  fetchMaxBytesPerPartition: number;
  fetchMaxBytes: number;
  fetchMaxDecodedBytes: number;
  /** A metadata refresh that shows new partitions makes the member rejoin, and the group assign them. */
  metadataMaxAgeMs: number;
}

export interface PartitionConsumer {
  /** Starts consuming; resolves once the consumer loop runs (not when it ends). */
  run(handler: BatchHandler): Promise<void>;
  /** Leaves the group after the batches in hand are finished. */
  stop(): Promise<void>;
  onGroupJoin(listener: (partitions: number[]) => void): void;
  /** A crash kafkajs does not recover from by itself (it restarts the consumer after the others). */
  onCrash(listener: (error: Error, restarting: boolean) => void): void;
  /** What the next fetch asks for, and the expansion (decoded bytes per stored byte) it is sized by. */
  fetchSizing(): FetchSizing;
}

export interface FetchSizing {
  expansion: number;
  maxBytes: number;
  maxBytesPerPartition: number;
}

function toRecord(message: EachBatchPayload['batch']['messages'][number]): KafkaRecord {
  return { offset: Number(message.offset), value: message.value, timestamp: Number(message.timestamp) };
}

class KafkajsPartitionConsumer implements PartitionConsumer {
  private seen = decompressionTotals();

  constructor(
    private readonly consumer: Consumer,
    private readonly options: ConsumerOptions,
    private readonly budget: FetchBudget,
  ) {
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      budget.setPartitions(event.payload.memberAssignment[options.topic]?.length ?? 1);
    });
  }

  /** Every batch of a fetch is decoded before the first is handed on: the first one's call sees them all. */
  private measure(records: boolean): void {
    const now = decompressionTotals();
    this.budget.observe(
      now.compressedBytes - this.seen.compressedBytes,
      now.decompressedBytes - this.seen.decompressedBytes,
      records,
    );
    this.seen = now;
  }

  fetchSizing(): FetchSizing {
    const { expansion, maxBytes, maxBytesPerPartition } = this.budget;
    return { expansion, maxBytes, maxBytesPerPartition };
  }

  async run(handler: BatchHandler): Promise<void> {
    await this.consumer.run({
      // Commit-after-accept: offsets move only when the caller commits, never on a timer or on error.
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently,
      eachBatch: async (payload) => {
        const { batch } = payload;
        this.measure(batch.messages.length > 0);
        const control: BatchControl = {
          commit: async (offset) => {
            payload.resolveOffset(String(offset));
            await payload.commitOffsetsIfNecessary({
              topics: [
                {
                  topic: batch.topic,
                  partitions: [{ partition: batch.partition, offset: String(offset + 1) }],
                },
              ],
            });
          },
          heartbeat: () => payload.heartbeat(),
          isActive: () => payload.isRunning() && !payload.isStale(),
          pause: () => payload.pause(),
        };
        await handler(
          {
            topic: batch.topic,
            partition: batch.partition,
            records: batch.messages.map(toRecord),
            logEnd: Number(batch.highWatermark),
          },
          control,
        );
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  onGroupJoin(listener: (partitions: number[]) => void): void {
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const assigned = event.payload.memberAssignment[this.options.topic] ?? [];
      listener([...assigned].sort((a, b) => a - b));
    });
  }

  onCrash(listener: (error: Error, restarting: boolean) => void): void {
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      listener(event.payload.error, event.payload.restart);
    });
  }
}

/** Connects and subscribes; fails with a readable error when the brokers or the topic are not there. */
export async function connectPartitionConsumer(
  kafka: Config['kafka'],
  options: ConsumerOptions,
): Promise<PartitionConsumer> {
  const budget = new FetchBudget({
    maxDecodedBytes: options.fetchMaxDecodedBytes,
    maxBytes: options.fetchMaxBytes,
    maxBytesPerPartition: options.fetchMaxBytesPerPartition,
  });
  // kafkajs reads both sizes from its options at every fetch and writes them into the request as numbers, so
  // a value that converts to the budget's current figure resizes each fetch without a rejoin.
  const current = (read: () => number) => ({ valueOf: read }) as unknown as number;
  const consumer = createKafka(kafka, '-bridge').consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    // Rebalances wait this long for members to rejoin; a member busy in a Temporal call heartbeats meanwhile.
    rebalanceTimeout: Math.max(60_000, options.sessionTimeoutMs * 2),
    heartbeatInterval: options.heartbeatIntervalMs,
    minBytes: options.fetchMinBytes,
    maxWaitTimeInMs: options.fetchMaxWaitMs,
    maxBytesPerPartition: current(() => budget.maxBytesPerPartition),
    maxBytes: current(() => budget.maxBytes),
    metadataMaxAge: options.metadataMaxAgeMs,
    allowAutoTopicCreation: false,
  });
  try {
    await consumer.connect();
  } catch (err) {
    throw new Error(`cannot reach Kafka at ${kafka.brokers.join(',')}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    // A new group starts at the earliest retained record: nothing the producers sent is skipped.
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw new Error(`cannot subscribe to topic '${options.topic}': ${(err as Error).message}`);
  }
  return new KafkajsPartitionConsumer(consumer, options, budget);
}
