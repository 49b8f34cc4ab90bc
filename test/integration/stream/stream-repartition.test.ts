// Partitions added to the topic while the bridge runs (4 to 8) are consumed without a restart: the consumer's
// metadata refresh (KAFKA_METADATA_MAX_AGE_MS) sees them and the group assigns them.
import assert from 'node:assert/strict';
import { connectPublisher } from '../../../kafka/publisher';
import { simulateTraffic } from '../../../simulator/kiosk-publishing';
import { withKafkaAdmin } from '../../support/kafka-topics';
import {
  assertStoredExactly,
  countStored,
  expectedOutcome,
  readTopic,
  startStream,
  stopStream,
  waitUntil,
  type RunningStream,
} from '../../support/stream';

describe('stream: partitions added while running', function () {
  this.timeout(180_000);
  let stream: RunningStream | undefined;

  before(async () => {
    stream = await startStream('stream-repartition', 4, { KAFKA_METADATA_MAX_AGE_MS: '2000' });
  });
  after(async () => {
    // tearDownStream terminates one workflow per partition it knows of: all eight.
    if (stream !== undefined) stream.env.partitions = 8;
    await stopStream(stream);
  });

  it('consumes partitions 4 to 7 once they exist, with no restart', async () => {
    const { env, publisher } = stream!;
    const { topic } = env.cfg.kafka;
    await simulateTraffic(publisher, { rate: 1000, durationS: 0.4, noise: 0, seed: 21 });
    await waitUntil('the first 400 stored', async () => (await countStored(env.knex, topic)) === 400, 30_000);

    await withKafkaAdmin(env.cfg, (admin) =>
      admin.createPartitions({ topicPartitions: [{ topic, count: 8 }] }),
    );
    // Until every broker's metadata has the new partitions' leaders, sends to them fail ("not the leader").
    await waitUntil(
      'leaders for the eight partitions',
      () =>
        withKafkaAdmin(env.cfg, async (admin) => {
          const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
          return meta?.partitions.length === 8 && meta.partitions.every((p) => p.leader >= 0);
        }),
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1000));
    // A new producer sees the eight partitions at once and spreads its records over them.
    const wider = await connectPublisher(env.cfg.kafka, topic);
    try {
      await simulateTraffic(wider, { rate: 1000, durationS: 0.8, noise: 0, seed: 22 });
    } finally {
      await wider.close();
    }
    await waitUntil('all 1,200 stored', async () => (await countStored(env.knex, topic)) === 1200, 60_000);
    const records = await readTopic(env.cfg, 1200);
    assert.ok(
      records.some((r) => r.partition >= 4),
      'the new partitions received records',
    );
    await assertStoredExactly(env.knex, topic, expectedOutcome(records));
    const newPartitions = await env
      .knex('pipeline_run')
      .whereIn(
        'source',
        [4, 5, 6, 7].map((p) => `kafka://${topic}/${p}`),
      )
      .count<{ n: string }[]>({ n: '*' });
    assert.ok(Number(newPartitions[0]?.n) >= 1, 'a chain runs for the new partitions');
  });
});
