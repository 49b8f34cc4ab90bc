// The stream bench's no-orchestration baseline: the bridge's own Kafka consumer seam hands each partition's
// batches straight to the stream's load code (the same validation, the same SQL, the same flush-sized chunks
// the workflow would hand to its activity), and commits the offsets after each load. No Temporal, and no record
// blocks: their packing is the price of going through Temporal.
import { createActivityDeps, closeActivityDeps } from '../infra/activity-deps';
import { storeStreamMessages } from '../stream/load';
import { connectPartitionConsumer } from '../kafka/consumer';
import { consumerOptions, type BridgeSettings } from '../bridge/settings';
import { chunkBySize } from '../contracts/stream-chunks';
import { recordBlockBytes, toRawMessage } from '../contracts/record-block';
import type { Config } from '../infra/config';

export interface DirectConsumer {
  stop(): Promise<void>;
  /** Rejects when a load or the consumer fails. */
  failed: Promise<never>;
}

export async function startDirectConsumer(cfg: Config, settings: BridgeSettings): Promise<DirectConsumer> {
  const { topic } = cfg.kafka;
  const deps = createActivityDeps(cfg);
  const flush = settings.workflow.flush;
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);

  const consumer = await connectPartitionConsumer(
    cfg.kafka,
    consumerOptions(settings, topic, `${cfg.kafka.groupId}-direct`),
  );
  consumer.onCrash((err, restarting) => {
    if (!restarting) fail(err);
  });
  await consumer.run(async (batch, control) => {
    const chunks = chunkBySize(batch.records, recordBlockBytes, flush.maxBytes, flush.maxMessages);
    for (const records of chunks) {
      if (!control.isActive()) return;
      try {
        await storeStreamMessages(
          deps,
          {
            ledgerRunId: `bench-direct/${topic}/${batch.partition}`,
            workflowId: 'bench-direct',
            topic,
            partition: batch.partition,
          },
          records.map(toRawMessage),
        );
      } catch (err) {
        fail(err as Error);
        throw err;
      }
      await control.commit(records[records.length - 1]!.offset);
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
