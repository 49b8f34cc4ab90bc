// The stream bench's no-orchestration baseline: the bridge's own Kafka consumer seam hands each partition's
// batches straight to the stream's load code (the same validation, the same SQL, the same flush-sized chunks
// the workflow would hand to its activity), and commits the offsets after each load. No Temporal at all.
import { createActivityDeps, closeActivityDeps } from '../activities/deps';
import { createStreamActivities } from '../stream/load';
import { connectPartitionConsumer } from '../kafka/consumer';
import type { BridgeSettings } from '../bridge/settings';
import { chunkMessages, toStreamMessage } from '../contracts/stream-chunks';
import type { Config } from '../infra/config';

export interface DirectConsumer {
  stop(): Promise<void>;
  /** Rejects when a load or the consumer fails. */
  failed: Promise<never>;
}

export async function startDirectConsumer(cfg: Config, settings: BridgeSettings): Promise<DirectConsumer> {
  const { topic } = cfg.kafka;
  const deps = createActivityDeps(cfg);
  const activities = createStreamActivities(deps);
  const flush = settings.workflow.flush;
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);

  const consumer = await connectPartitionConsumer(cfg.kafka, {
    topic,
    groupId: `${cfg.kafka.groupId}-direct`,
    sessionTimeoutMs: settings.sessionTimeoutMs,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    partitionsConcurrently: settings.partitionsConcurrently,
    fetchMinBytes: settings.fetchMinBytes,
    fetchMaxWaitMs: settings.fetchMaxWaitMs,
    metadataMaxAgeMs: settings.metadataMaxAgeMs,
  });
  consumer.onCrash((err, restarting) => {
    if (!restarting) fail(err);
  });
  await consumer.run(async (batch, control) => {
    const chunks = chunkMessages(batch.records.map(toStreamMessage), flush.maxBytes, flush.maxMessages);
    for (const messages of chunks) {
      if (!control.isActive()) return;
      try {
        await activities.loadStreamMessages({
          ledgerRunId: `bench-direct/${topic}/${batch.partition}`,
          workflowId: 'bench-direct',
          topic,
          partition: batch.partition,
          messages,
        });
      } catch (err) {
        fail(err as Error);
        throw err;
      }
      await control.commit(messages[messages.length - 1]!.offset);
      await control.heartbeat();
    }
  });
  return {
    failed,
    stop: async () => {
      try {
        await consumer.stop();
      } finally {
        await closeActivityDeps(deps);
      }
    },
  };
}
