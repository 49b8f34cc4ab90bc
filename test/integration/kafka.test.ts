import assert from 'node:assert/strict';
import { createKafka } from '../../infra/kafka';
import { isolatedConfig } from '../support/isolated-env';
import { createTopic, deleteTopic } from '../support/kafka-topics';

describe('Kafka (KRaft) carries messages through a topic and back', function () {
  const cfg = isolatedConfig('kafka');
  const kafka = createKafka(cfg.kafka);

  before(() => createTopic(cfg, 3));
  after(() => deleteTopic(cfg));

  it('delivers every produced value byte-exact, in order per partition', async () => {
    const values = [
      Buffer.from('{"at": "2024-10-21T09:21:24.254719+01:00", "site": "5", "val": 4}'),
      Buffer.from([0xff, 0xfe, 0x00, 0x41]),
      Buffer.alloc(0),
      Buffer.from('{"site": "2", "val": -1, "type": 0}'),
    ];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: cfg.kafka.topic,
      messages: values.map((value) => ({ value, partition: 1 })),
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: cfg.kafka.groupId });
    await consumer.connect();
    await consumer.subscribe({ topic: cfg.kafka.topic, fromBeginning: true });
    const received: { partition: number; value: Buffer }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for messages')), 30_000);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            received.push({ partition, value: message.value ?? Buffer.alloc(0) });
            if (received.length === values.length) {
              clearTimeout(timer);
              resolve();
            }
            await Promise.resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    assert.deepEqual(
      received.map((r) => r.partition),
      [1, 1, 1, 1],
    );
    assert.deepEqual(
      received.map((r) => r.value.toString('hex')),
      values.map((v) => v.toString('hex')),
    );
  });
});
