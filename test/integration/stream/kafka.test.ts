// The project's Kafka seams against the real broker: the publisher the simulator and the tests produce with,
// and the offsets reader behind `stream status`.
import assert from 'node:assert/strict';
import { connectPublisher } from '../../../kafka/publisher';
import { readPartitionOffsets } from '../../../kafka/offsets';
import { isolatedConfig } from '../../support/isolated-env';
import { createTopic, deleteTopic, withKafkaAdmin } from '../../support/kafka-topics';
import { readTopic } from '../../support/stream';

describe('Kafka seams: the publisher and the offsets reader', function () {
  const cfg = isolatedConfig('kafka');
  const { topic, groupId } = cfg.kafka;

  before(() => createTopic(cfg, 3));
  after(() => deleteTopic(cfg));

  it('publishes every value byte-exact and keyless across the partitions; the reader sees the log ends', async () => {
    const values = [
      Buffer.from('{"at": "2024-10-21T09:21:24.254719+01:00", "site": "5", "val": 4}'),
      Buffer.from([0xff, 0xfe, 0x00, 0x41]),
      Buffer.alloc(0),
      ...Array.from({ length: 57 }, (_, i) => Buffer.from(`{"site": "${i % 6}", "val": -1, "type": 0}`)),
    ];
    const publisher = await connectPublisher(cfg.kafka, topic);
    try {
      await publisher.publish(values.slice(0, 30));
      await publisher.publish(values.slice(30));
    } finally {
      await publisher.close();
    }

    const records = await readTopic(cfg, values.length);
    const hex = (b: Buffer | null) => (b ?? Buffer.alloc(0)).toString('hex');
    assert.deepEqual(records.map((r) => hex(r.value)).sort(), values.map(hex).sort());
    const used = new Set(records.map((r) => r.partition));
    assert.ok(used.size > 1, `keyless records all went to partition ${[...used].join()}`);

    const offsets = await readPartitionOffsets(cfg.kafka, topic, groupId);
    assert.deepEqual(
      offsets.map((o) => ({ partition: o.partition, start: o.start, committed: o.committed })),
      [0, 1, 2].map((partition) => ({ partition, start: 0, committed: null })),
    );
    for (const o of offsets) {
      assert.equal(
        o.end,
        records.filter((r) => r.partition === o.partition).length,
        `partition ${o.partition}`,
      );
    }
  });

  it("reports a group's committed position per partition", async () => {
    await withKafkaAdmin(cfg, (admin) =>
      admin.setOffsets({ groupId, topic, partitions: [{ partition: 1, offset: '2' }] }),
    );
    const offsets = await readPartitionOffsets(cfg.kafka, topic, groupId);
    assert.deepEqual(
      offsets.map((o) => o.committed),
      [null, 2, null],
    );
  });

  it('says which brokers it could not reach', async () => {
    const down = { ...cfg.kafka, brokers: ['127.0.0.1:9'] };
    await assert.rejects(
      readPartitionOffsets(down, topic, groupId),
      /^Error: cannot reach Kafka at 127\.0\.0\.1:9: /,
    );
  });
});
