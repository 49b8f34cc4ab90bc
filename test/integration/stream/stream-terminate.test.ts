// An operator's terminate loses nothing: under ~1,000 msg/s, each partition's workflow is terminated with
// messages buffered and loads in flight (already committed in Kafka). The bridge starts a new chain with its
// next signal, and the new chain re-reads from Kafka what lies between the database's last stored offset and
// its first message. Afterwards every published message is stored exactly once and counted once.
import assert from 'node:assert/strict';
import { simulateTraffic } from '../../../simulator/kiosk-publishing';
import { streamWorkflowId } from '../../../contracts/stream';
import {
  assertLedger,
  assertStoredExactly,
  countStored,
  expectedOutcome,
  queryState,
  readTopic,
  startStream,
  stopStream,
  storedByOffset,
  waitUntil,
  type RunningStream,
} from '../../support/stream';

const PARTITIONS = 4;
const RATE = 1000;
const SECONDS = 8;
const TOTAL = RATE * SECONDS;

describe('stream: terminating partition workflows under traffic', function () {
  this.timeout(240_000);
  let stream: RunningStream | undefined;

  before(async () => {
    // A flush age of 1 s keeps up to a second of messages in each buffer, so a terminate finds some there.
    stream = await startStream('stream-terminate', PARTITIONS, { STREAM_FLUSH_MAX_AGE_MS: '1000' });
  });
  after(() => stopStream(stream));

  it('stores every message exactly once when each partition workflow is terminated mid-stream', async () => {
    const { env, publisher } = stream!;
    const { topic } = env.cfg.kafka;
    // The workflows go in the middle of the first half of the traffic, once each has stored some, each while it
    // holds messages (buffered or loading); the second half starts every partition's new chain.
    const half = { rate: RATE, durationS: SECONDS / 2, noise: 0.05 };
    let firstSent = false;
    const first = simulateTraffic(publisher, { ...half, seed: 13 }).finally(() => (firstSent = true));
    await waitUntil(
      'each partition storing',
      async () =>
        (
          await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => storedByOffset(env.knex, topic, p)))
        ).every((stored) => stored.size >= 100),
      30_000,
      100,
    );
    const terminated = await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, p) => {
        let before = await queryState(env, p);
        // Waits for a moment its chain holds messages, but not past the first half: a quiet chain goes anyway.
        while (before.buffered + before.loading === 0 && !firstSent) {
          await new Promise((r) => setTimeout(r, 20));
          before = await queryState(env, p);
        }
        await env.client.workflow
          .getHandle(streamWorkflowId(topic, p))
          .terminate('test: terminate mid-stream');
        return `${p}: buffered ${before.buffered}, loading ${before.loading}`;
      }),
    );
    await first;
    await simulateTraffic(publisher, { ...half, seed: 14 });

    await waitUntil(
      'every message stored',
      async () => (await countStored(env.knex, topic)) >= TOTAL,
      90_000,
    );
    const records = await readTopic(env.cfg, TOTAL);
    assert.equal(records.length, TOTAL);
    const expected = expectedOutcome(records);
    await assertStoredExactly(env.knex, topic, expected);
    const runs = await assertLedger(env.knex, topic, expected);
    assert.equal(runs, 2 * PARTITIONS, 'one ledger row per chain, two chains per partition');

    const reread = (await Promise.all([0, 1, 2, 3].map((p) => queryState(env, p)))).map((s) => s.reread ?? 0);
    assert.ok(
      reread.some((n) => n > 0),
      `some chain re-read what its predecessor lost (re-read ${reread.join(', ')}; at terminate: ${terminated.join('; ')})`,
    );
  });
});
