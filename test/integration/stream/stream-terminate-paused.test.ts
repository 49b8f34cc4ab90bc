// An operator's terminate while the bridge holds the partitions paused for backpressure: loads are held back by
// a lock on the interaction tables until every partition's workflow is over STREAM_MAX_PENDING and the bridge
// has paused it, then every workflow is terminated and the lock released. The bridge sees the closed chains,
// resumes, and the new chains re-read what the terminated ones held: every message is stored exactly once, and
// so are messages published afterwards.
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
  waitUntil,
  type RunningStream,
} from '../../support/stream';

const PARTITIONS = 4;
const FIRST = 10_000;
const LATER = 2_000;

describe('stream: terminating the workflows of partitions paused for backpressure', function () {
  this.timeout(300_000);
  let stream: RunningStream | undefined;
  const lines: { line: string; partition?: unknown }[] = [];

  before(async () => {
    // Small signals and a low limit: each partition's share (about 2,500) is over the limit, so the bridge
    // pauses every partition once a batch takes it there (within a batch it may pass the limit by one fetch).
    stream = await startStream(
      'stream-terminate-paused',
      PARTITIONS,
      { STREAM_SIGNAL_MAX_MESSAGES: '200', STREAM_MAX_PENDING: '1000' },
      (line, fields) => lines.push({ line, partition: fields?.partition }),
    );
  });
  after(() => stopStream(stream));

  it('resumes and stores every message once after the paused chains are terminated', async () => {
    const { env, publisher, bridge } = stream!;
    const { topic } = env.cfg.kafka;

    // Every load waits on this lock (reads do not), so the workflows fall behind and the bridge pauses them.
    const lock = await env.knex.transaction();
    let locked = true;
    try {
      await lock.raw(
        'lock table rating_interaction, request_interaction, rejected_interaction in exclusive mode',
      );
      await simulateTraffic(publisher, { rate: 5000, durationS: FIRST / 5000, noise: 0.05, seed: 31 });
      await waitUntil(
        'the bridge to pause every partition',
        () => Promise.resolve(bridge.pausedPartitions().length === PARTITIONS),
        90_000,
      );
      const held = await Promise.all(
        Array.from({ length: PARTITIONS }, async (_, p) => {
          const s = await queryState(env, p);
          return s.buffered + s.loading;
        }),
      );
      assert.ok(
        held.every((n) => n > 1000),
        `each paused workflow holds more than the limit: ${held.join(', ')}`,
      );
      assert.equal(await countStored(env.knex, topic), 0, 'nothing stored while the lock holds');

      for (let p = 0; p < PARTITIONS; p++) {
        await env.client.workflow
          .getHandle(streamWorkflowId(topic, p))
          .terminate('test: operator terminates a paused partition');
      }
      await lock.rollback();
      locked = false;
    } finally {
      if (locked) await lock.rollback();
    }

    await waitUntil(
      'the first messages stored',
      async () => (await countStored(env.knex, topic)) >= FIRST,
      180_000,
      500,
    );
    // Messages produced after the terminate go through the new chains too.
    await simulateTraffic(publisher, { rate: 1000, durationS: LATER / 1000, noise: 0.05, seed: 32 });
    await waitUntil(
      'the later messages stored',
      async () => (await countStored(env.knex, topic)) >= FIRST + LATER,
      120_000,
      500,
    );

    const records = await readTopic(env.cfg, FIRST + LATER);
    assert.equal(records.length, FIRST + LATER);
    const expected = expectedOutcome(records);
    await assertStoredExactly(env.knex, topic, expected);
    const runs = await assertLedger(env.knex, topic, expected);
    assert.equal(runs, 2 * PARTITIONS, 'one ledger row per chain, two chains per partition');

    const reread = await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, p) => (await queryState(env, p)).reread ?? 0),
    );
    assert.ok(
      reread.every((n) => n > 0),
      `every new chain re-read what the terminated one held: ${reread.join(', ')}`,
    );
    for (let p = 0; p < PARTITIONS; p++) {
      assert.ok(
        lines.some((l) => l.partition === p && /workflow is closed/.test(l.line)),
        `the bridge said partition ${p}'s workflow was closed: ${JSON.stringify(lines.map((l) => l.line))}`,
      );
    }
    assert.deepEqual(bridge.pausedPartitions(), []);
  });
});
