// The Kafka-to-Temporal bridge: per partition batch, signal-sized chunks go to the partition's workflow with
// signal-with-start, and the Kafka offset is committed only after Temporal has accepted the chunk. A crash
// anywhere therefore means redelivery, never loss; the workflow and the database drop the redelivered offsets.
import type { Client } from '@temporalio/client';
import type { Config } from '../infra/config';
import { createTemporalClient } from '../infra/temporal';
import { Backpressure } from './backpressure';
import {
  connectPartitionConsumer,
  type BatchControl,
  type BatchHandler,
  type FetchSizing,
  type KafkaRecord,
} from '../kafka/consumer';
import { connectTopicIdReader, type TopicIdReader } from '../kafka/topic-id';
import { consumerOptions, type BridgeSettings } from './settings';
import { chunkEnd, toStreamMessage } from '../contracts/stream-chunks';
import { encodedMessageBytes } from '../contracts/stream';
import { encodeRecordBlockWithin, recordBlockBytes } from '../contracts/record-block';
import { WorkflowSink } from './signal-sink';

export interface PartitionProgress {
  partition: number;
  /** Last offset Temporal accepted and Kafka committed. */
  lastOffset: number;
  messages: number;
  signals: number;
}

export interface RunningBridge {
  /** Resolves with the assigned partitions the first time the group assigns any. */
  joined: Promise<number[]>;
  /** Rejects when the consumer crashed for good; never resolves otherwise. */
  failed: Promise<never>;
  progress(): PartitionProgress[];
  pausedPartitions(): number[];
  /** What the next Kafka fetch asks for, sized so that it decodes within STREAM_FETCH_MAX_DECODED_BYTES. */
  fetchSizing(): FetchSizing;
  /** Stops fetching, finishes the signal in flight, commits it, leaves the group and disconnects. */
  stop(): Promise<void>;
}

/** A line for the operator, with structured fields (the partition it is about) for the JSON log. */
export type Logger = (
  line: string,
  fields?: Record<string, unknown>,
  level?: 'info' | 'warn' | 'error',
) => void;

const QUERY_TIMEOUT_MS = 5000;

const legacyBytes = (record: KafkaRecord): number => encodedMessageBytes(toStreamMessage(record));

/**
 * The topic id each batch is sent with, so the partition's workflow sees a deleted and recreated topic (a new id,
 * offsets from 0) as a new incarnation rather than as redeliveries. kafkajs cannot see ids, so the id is read
 * again whenever a batch might come from a new incarnation: the first batch of a partition after a group join,
 * a batch that starts at or below what this bridge last sent for the partition, and any batch once the id is
 * older than the metadata refresh interval.
 */
class TopicIdentity {
  private current: { id: string; readAt: number } | undefined;
  private readonly lastSent = new Map<number, number>();
  // Partitions are handled concurrently: one read (and one warning for a change) serves them all.
  private reading: Promise<void> | undefined;

  constructor(
    private readonly reader: TopicIdReader,
    private readonly topic: string,
    private readonly maxAgeMs: number,
    private readonly log: Logger,
    /** Called once per change of id, before any batch is sent under the new one. */
    private readonly onChange: (topicId: string) => Promise<void>,
  ) {}

  /** After a group join every partition's next batch checks the id (another member may have moved on). */
  forgetPartitions(): void {
    this.lastSent.clear();
  }

  async idFor(partition: number, firstOffset: number): Promise<string> {
    const sent = this.lastSent.get(partition);
    const stale = this.current === undefined || Date.now() - this.current.readAt >= this.maxAgeMs;
    if (stale || sent === undefined || firstOffset <= sent) {
      await (this.reading ??= this.refresh(partition).finally(() => (this.reading = undefined)));
    }
    return this.current!.id;
  }

  noteSent(partition: number, offset: number): void {
    this.lastSent.set(partition, offset);
  }

  private async refresh(partition: number): Promise<void> {
    const id = await this.reader.read();
    const previous = this.current?.id;
    this.current = { id, readAt: Date.now() };
    if (previous !== undefined && previous !== id) {
      this.log(
        `topic ${this.topic} was deleted and created again: topic id ${previous} -> ${id}; each partition's ` +
          'workflow closes its chain and starts a new one for the new offsets',
        { partition, oldTopicId: previous, newTopicId: id },
        'warn',
      );
      await this.onChange(id);
    }
  }
}

async function connectTemporalOrExplain(config: Config): Promise<Client> {
  try {
    return await createTemporalClient(config.temporal, { onlyOpenWorkflowsAnswer: true });
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${config.temporal.address}: ${(err as Error).message}`);
  }
}

/**
 * Runs fn while heartbeating the consumer group, so a slow Temporal call (a signal, or a query to a workflow
 * whose worker is gone) does not cost the partition its member. A heartbeat that reports a rebalance fails the batch after fn: the chunk may have been accepted but
 * is not committed, and whoever owns the partition next resends it (the workflow drops it).
 */
async function whileHeartbeating<T>(control: BatchControl, intervalMs: number, fn: () => Promise<T>) {
  let failure: Error | undefined;
  const timer = setInterval(() => {
    control.heartbeat().catch((err: unknown) => {
      failure ??= err instanceof Error ? err : new Error(String(err));
    });
  }, intervalMs);
  try {
    const result = await fn();
    if (failure !== undefined) throw failure;
    return result;
  } finally {
    clearInterval(timer);
  }
}

export async function startBridge(
  config: Config,
  settings: BridgeSettings,
  log: Logger = (line) => console.log(`bridge: ${line}`),
): Promise<RunningBridge> {
  const { topic } = config.kafka;
  const client = await connectTemporalOrExplain(config);
  let consumer;
  try {
    consumer = await connectPartitionConsumer(
      config.kafka,
      consumerOptions(settings, topic, config.kafka.groupId),
    );
  } catch (err) {
    await client.connection.close();
    throw err;
  }

  let topicIds: TopicIdReader;
  try {
    topicIds = await connectTopicIdReader(config.kafka, topic);
  } catch (err) {
    await consumer.stop().catch(() => undefined);
    await client.connection.close();
    throw err;
  }
  const sink = new WorkflowSink(client, config.temporal.taskQueue, settings.workflow);
  let assigned: number[] = [];
  // Every partition this member owns closes its old chain now, not only those that receive new messages soon.
  const announce = async (topicId: string): Promise<void> => {
    await Promise.all(
      assigned.map((partition) =>
        sink.announceTopicId(topic, partition, topicId).catch((err: unknown) => {
          log(`partition ${partition}: could not tell its workflow the new topic id: ${String(err)}`, {
            partition,
          });
        }),
      ),
    );
  };
  const identity = new TopicIdentity(topicIds, topic, settings.metadataMaxAgeMs, log, announce);
  const backpressure = new Backpressure(
    (partition) => sink.lag(topic, partition, QUERY_TIMEOUT_MS),
    settings,
    log,
  );
  const progress = new Map<number, PartitionProgress>();
  let running = true;

  const handle: BatchHandler = async (batch, control) => {
    const { records } = batch;
    for (let from = 0; from < records.length;) {
      if (!running || !control.isActive()) return;
      // A workflow that said it takes record blocks gets them; one still on older code (a deploy) gets messages
      // one by one, as older bridges sent them; one that cannot say yet (a new chain, no worker) gets a single
      // message, which starts it, and is asked again before the next chunk.
      const format = await whileHeartbeating(control, settings.heartbeatIntervalMs, () =>
        backpressure.format(batch.partition),
      );
      // A block is sized by its packed records (then cut to what deflates within signalMaxBytes); messages one
      // by one by their JSON, which is what the signal carries.
      const [size, maxBytes] =
        format === 'blocks'
          ? [recordBlockBytes, settings.signalMaxPackedBytes]
          : [legacyBytes, settings.signalMaxBytes];
      const end =
        format === 'unknown' ? from + 1 : chunkEnd(records, from, size, maxBytes, settings.signalMaxMessages);
      if (backpressure.mustPause(batch.partition, from === 0)) {
        // Returning leaves the rest of the batch unresolved: it is fetched again after resume.
        backpressure.resumeWhenDrained(batch.partition, control.pause(), () => running);
        return;
      }
      const chunk = await whileHeartbeating(control, settings.heartbeatIntervalMs, async () => {
        const topicId = await identity.idFor(batch.partition, records[from]!.offset);
        let sent = records.slice(from, end);
        if (format === 'blocks') {
          const block = await encodeRecordBlockWithin(sent, settings.signalMaxBytes);
          sent = sent.slice(0, block.info.count);
          await sink.deliver(batch.topic, batch.partition, block, { topicId, logEnd: batch.logEnd });
        } else {
          const messages = sent.map(toStreamMessage);
          await sink.deliver(batch.topic, batch.partition, messages, { topicId, logEnd: batch.logEnd });
        }
        return sent;
      });
      from += chunk.length;
      const last = chunk[chunk.length - 1]!.offset;
      identity.noteSent(batch.partition, last);
      await control.commit(last);
      backpressure.noteDelivered(batch.partition, chunk.length);
      const p = progress.get(batch.partition) ?? {
        partition: batch.partition,
        lastOffset: -1,
        messages: 0,
        signals: 0,
      };
      p.lastOffset = last;
      p.messages += chunk.length;
      p.signals++;
      progress.set(batch.partition, p);
    }
    // Paused now, with the whole batch sent, rather than fetched again only to wait (and be fetched once more).
    if (running && control.isActive() && backpressure.isOverLimit(batch.partition)) {
      backpressure.resumeWhenDrained(batch.partition, control.pause(), () => running);
    }
  };

  let announceJoin: (partitions: number[]) => void = () => undefined;
  const joined = new Promise<number[]>((resolve) => (announceJoin = resolve));
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);

  consumer.onGroupJoin((partitions) => {
    identity.forgetPartitions();
    assigned = partitions;
    log(
      `joined group ${config.kafka.groupId}: topic ${topic} partitions [${partitions.join(', ')}] -> ` +
        `workflows stream-${topic}-<partition> on task queue ${config.temporal.taskQueue}`,
      { topic, partitions },
    );
    if (partitions.length > 0) announceJoin(partitions);
  });
  consumer.onCrash((err, restarting) => {
    log(`consumer failed: ${err.message}${restarting ? '; restarting from the last commit' : ''}`);
    if (!restarting) fail(err);
  });

  await consumer.run(handle);
  log(`consuming ${topic} from ${config.kafka.brokers.join(',')} as group ${config.kafka.groupId}`);

  let stopping: Promise<void> | undefined;
  return {
    joined,
    failed,
    progress: () => [...progress.values()].sort((a, b) => a.partition - b.partition),
    pausedPartitions: () => backpressure.pausedPartitions(),
    fetchSizing: () => consumer.fetchSizing(),
    stop: () =>
      (stopping ??= (async () => {
        running = false;
        try {
          await consumer.stop();
        } finally {
          await topicIds.close().catch(() => undefined);
          await backpressure.settled();
          await client.connection.close();
        }
      })()),
  };
}
