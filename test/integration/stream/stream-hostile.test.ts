// Arbitrary bytes on the topic: nothing a producer can put there stops the bridge or the workflow, and each
// such value ends in the rejects table byte-for-byte with the reasons the shared rules give it.
import assert from 'node:assert/strict';
import { startBridge, type RunningBridge } from '../../../bridge/bridge';
import { connectPublisher, type Publisher } from '../../../kafka/publisher';
import { simulateTraffic } from '../../../simulator/kiosk-publishing';
import { seededRandom } from '../../../simulator/seeded-random';
import { streamWorkflowId } from '../../../contracts/stream';
import {
  assertLedger,
  assertStoredExactly,
  assertWorkflowsBalanced,
  bridgeSettings,
  countStored,
  expectedOutcome,
  readTopic,
  setUpStream,
  tearDownStream,
  waitUntil,
  type StreamEnv,
} from '../../support/stream';
import { startTestWorker, type TestWorker } from '../../support/test-worker';

// The stack's broker takes record batches up to message.max.bytes = 1,048,588; a value this big still fits
// with the batch and record headers.
const NEAR_LIMIT = 1_048_000;

function hostileValues(): (Buffer | null)[] {
  const text = (s: string) => Buffer.from(s, 'utf8');
  const random = seededRandom(20261127);
  const noise = Array.from({ length: 200 }, () =>
    Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256))),
  );
  return [
    text('hello, kiosk'),
    text('{"at": "2024-10-21T09:21:24.254719+01:00", "site": "5"'),
    text('[1, 2, 3]'),
    text('[]'),
    text('42'),
    text('-1.5e300'),
    text('1e999'),
    text('"just a string"'),
    text('true'),
    text('null'),
    text(`"${'a'.repeat(NEAR_LIMIT - 2)}"`),
    text(
      `{"at": "2025-06-02T10:00:00.000000+01:00", "site": "1", "val": 3, "pad": "${'x'.repeat(NEAR_LIMIT - 80)}"}`,
    ),
    Buffer.from([0xff, 0xfe, 0x00, 0x41]),
    Buffer.from([0xc0, 0xaf]),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.concat([text('{"at": "'), Buffer.from([0xe2, 0x82]), text('", "site": "1", "val": 2}')]),
    Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      text('{"at": "2025-06-02T10:00:00+01:00", "site": "1", "val": 2}'),
    ]),
    Buffer.alloc(0),
    null,
    text('['.repeat(200_000)),
    Buffer.from([0x00, 0x00, 0x00]),
    text('{"site": "1\\u0000", "val": 2, "at": "2025-06-02T10:00:00+01:00"}'),
    ...noise,
  ];
}

/** Per suite: one partition's topic and database, a worker and a publisher; the suite starts the bridge. */
function oneStreamSuite(name: string) {
  const suite: { env: StreamEnv; worker?: TestWorker; bridge?: RunningBridge; publisher?: Publisher } = {
    env: undefined as unknown as StreamEnv,
  };
  before(async () => {
    suite.env = await setUpStream(name, 1);
    suite.worker = await startTestWorker(suite.env.cfg);
    suite.publisher = await connectPublisher(suite.env.cfg.kafka, suite.env.cfg.kafka.topic);
  });
  after(async () => {
    await suite.publisher?.close();
    await suite.bridge?.stop();
    await suite.worker?.stop();
    await tearDownStream(suite.env);
  });
  return suite;
}

describe('stream: hostile values on the topic', function () {
  this.timeout(120_000);
  const suite = oneStreamSuite('stream-hostile');
  let env: StreamEnv;
  let bridge: RunningBridge;
  let publisher: Publisher;

  before(async () => {
    ({ env, publisher } = suite as Required<typeof suite>);
    bridge = suite.bridge = await startBridge(env.cfg, bridgeSettings(), () => undefined);
  });

  it('rejects each one with its reasons and keeps loading the valid traffic around them', async () => {
    const { topic } = env.cfg.kafka;
    const traffic = { rate: 2000, durationS: 0.1, noise: 0, seed: 7 };
    await simulateTraffic(publisher, traffic);
    // One value per request: a single bad value must not take its neighbours down with it.
    const hostile = hostileValues();
    for (const value of hostile) await publisher.publish([value]);
    await simulateTraffic(publisher, { ...traffic, seed: 8 });
    const total = 200 + hostile.length + 200;

    await waitUntil('every value stored', async () => (await countStored(env.knex, topic)) >= total, 90_000);
    const records = await readTopic(env.cfg, total);
    assert.equal(records.length, total);
    const expected = expectedOutcome(records);
    assert.equal(expected.valid.size, 400, 'only the simulated traffic is valid');
    await assertStoredExactly(env.knex, topic, expected);
    await assertLedger(env.knex, topic, expected);
    await assertWorkflowsBalanced(env, records);

    // Spot checks on the ones that matter most, independently of the rules module.
    const stored = await env
      .knex('rejected_interaction')
      .where({ source_topic: topic })
      .orderBy('source_offset')
      .select<{ raw: Buffer; reasons: string[] }[]>('raw', 'reasons');
    const byHex = new Map(stored.map((r) => [r.raw.toString('hex'), r.reasons]));
    assert.deepEqual(byHex.get('fffe0041'), ['MALFORMED'], 'invalid UTF-8 kept as bytes');
    assert.deepEqual(byHex.get(''), ['MALFORMED'], 'empty value and tombstone');
    assert.ok(
      stored.some((r) => r.raw.length === NEAR_LIMIT),
      'the near-limit value is stored whole',
    );
  });

  it('leaves the bridge and the workflow running', async () => {
    const outcome = await Promise.race([
      bridge.failed.then(
        () => 'failed',
        () => 'failed',
      ),
      Promise.resolve('running'),
    ]);
    assert.equal(outcome, 'running');
    const description = await env.client.workflow
      .getHandle(streamWorkflowId(env.cfg.kafka.topic, 0))
      .describe();
    assert.equal(description.status.name, 'RUNNING');
    const before = await countStored(env.knex, env.cfg.kafka.topic);
    await simulateTraffic(publisher, { rate: 1000, durationS: 0.1, noise: 0, seed: 9 });
    await waitUntil(
      'the next messages',
      async () => (await countStored(env.knex, env.cfg.kafka.topic)) === before + 100,
      30_000,
    );
  });
});

describe('stream: values that do not deflate, several in one fetch', function () {
  this.timeout(120_000);
  const suite = oneStreamSuite('stream-incompressible');

  it('splits a block whose deflate would not fit a signal, and stores every value byte for byte', async () => {
    const { env, publisher } = suite as Required<typeof suite>;
    const { topic } = env.cfg.kafka;
    // Published before the bridge starts, so that one fetch returns them together: 2.8 MiB of random bytes
    // in one block would be over Temporal's 2 MiB payload limit.
    await simulateTraffic(publisher, { rate: 1000, durationS: 0.1, noise: 0, seed: 11 });
    const random = seededRandom(20261130);
    const noise = Array.from({ length: 4 }, () =>
      Buffer.from(Array.from({ length: 700_000 }, () => Math.floor(random() * 256))),
    );
    for (const value of noise) await publisher.publish([value]);
    await simulateTraffic(publisher, { rate: 1000, durationS: 0.1, noise: 0, seed: 12 });
    const total = 100 + noise.length + 100;
    suite.bridge = await startBridge(env.cfg, bridgeSettings(), () => undefined);

    await waitUntil('every value stored', async () => (await countStored(env.knex, topic)) >= total, 90_000);
    const records = await readTopic(env.cfg, total);
    const expected = expectedOutcome(records);
    await assertStoredExactly(env.knex, topic, expected);
    await assertLedger(env.knex, topic, expected);
    const stored = await env
      .knex('rejected_interaction')
      .where({ source_topic: topic })
      .whereRaw('length(raw) = 700000')
      .orderBy('source_offset')
      .pluck<Buffer[]>('raw');
    assert.deepEqual(stored, noise);
  });
});
