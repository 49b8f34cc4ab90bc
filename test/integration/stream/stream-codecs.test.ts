// Every Kafka compression codec reaches the tables: records written by Kafka's own Java console producer with
// none, gzip, snappy, lz4 and zstd, each confirmed compressed that way in the broker's log by DumpLogSegments.
// A value compressed under the broker's limit but too big for a signal is kept as an OVERSIZE reject.
import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../../support/isolated-env';
import { batchCodecs, produceWithJava, type JavaCodec } from '../../support/java-producer';
import {
  countStored,
  press,
  startStream,
  stopStream,
  storedByOffset,
  waitUntil,
  type RunningStream,
} from '../../support/stream';

const PER_CODEC = 20;
const CODECS: JavaCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

describe('stream: every Kafka codec and an oversize value, from the Java producer', function () {
  this.timeout(180_000);
  let stream: RunningStream | undefined;

  before(async () => {
    stream = await startStream('stream-codecs', 1);
  });
  after(() => stopStream(stream));

  CODECS.forEach((codec, round) => {
    it(`loads ${PER_CODEC} presses compressed with ${codec}`, async () => {
      const { env } = stream!;
      const { topic } = env.cfg.kafka;
      const first = round * PER_CODEC;
      const values = Array.from({ length: PER_CODEC }, (_, i) => press(first + i, i % 5));
      await produceWithJava(env.cfg, values, codec);

      // The broker's own log says how the batches were written; the stack keeps it under STACK_DIR.
      const segment = path.join(
        process.env.STACK_DIR ?? path.join(REPO_ROOT, '.stack'),
        'kafka',
        'data',
        `${topic}-0`,
        '00000000000000000000.log',
      );
      const codecs = await batchCodecs(segment);
      assert.equal(codecs[codecs.length - 1], codec, `the last batch's codec (all: ${codecs.join(', ')})`);

      await waitUntil(
        `${first + PER_CODEC} presses stored`,
        async () => (await countStored(env.knex, topic)) >= first + PER_CODEC,
        30_000,
      );
      const stored = await storedByOffset(env.knex, topic);
      assert.equal(stored.size, first + PER_CODEC);
      for (let i = 0; i < PER_CODEC; i++) {
        const row = stored.get(first + i);
        assert.deepEqual([row?.table, row?.value], ['rating', i % 5], `offset ${first + i}`);
      }
    });
  });

  it('stores a 3 MB value (gzip, under the broker limit) as OVERSIZE, and loads the 20 presses behind it', async () => {
    const { env } = stream!;
    const { topic } = env.cfg.kafka;
    const first = CODECS.length * PER_CODEC;
    const huge = Buffer.from(
      `{"at": "2026-06-02T11:00:00+01:00", "site": "1", "val": 3, "pad": "${'x'.repeat(3_000_000)}"}`,
    );
    // The producer checks a record's uncompressed size against max.request.size; the broker checks the
    // compressed batch (a few KiB) against its 1 MB message.max.bytes.
    await produceWithJava(env.cfg, [huge], 'gzip', { 'max.request.size': String(4 * 1024 * 1024) });
    const behind = Array.from({ length: 20 }, (_, i) => press(first + 1 + i));
    await produceWithJava(env.cfg, behind, 'gzip');
    await waitUntil(
      'the oversize value and the presses behind it stored',
      async () => (await countStored(env.knex, topic)) >= first + 21,
      30_000,
    );
    const stored = await storedByOffset(env.knex, topic);
    const reject = stored.get(first);
    assert.deepEqual(reject?.reasons, ['OVERSIZE']);
    assert.equal(reject?.rawLength, huge.length);
    assert.deepEqual(reject?.raw, huge.subarray(0, 64 * 1024));
    for (let i = 1; i <= 20; i++) assert.equal(stored.get(first + i)?.table, 'rating', `offset ${first + i}`);
    const ledger = await env
      .knex('pipeline_run')
      .where('source', `kafka://${topic}/0`)
      .first<{ rejected_by_reason: Record<string, number> }>('rejected_by_reason');
    assert.deepEqual(ledger?.rejected_by_reason, { OVERSIZE: 1 });
  });

  it('leaves the bridge running', async () => {
    const outcome = await Promise.race([
      stream!.bridge.failed.then(
        () => 'failed',
        () => 'failed',
      ),
      new Promise((resolve) => setTimeout(() => resolve('running'), 100)),
    ]);
    assert.equal(outcome, 'running');
  });
});
