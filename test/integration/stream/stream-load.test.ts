// The load activity on its own, against PostgreSQL: idempotent on (topic, partition, offset) for retries,
// overlapping batches and two attempts running at once, with the ledger counting each message once.
import assert from 'node:assert/strict';
import { createStreamActivities, type LoadStreamInput } from '../../../stream/load';
import { createActivityDeps, closeActivityDeps, type ActivityDeps } from '../../../infra/activity-deps';
import { KioskTraffic } from '../../../simulator/kiosk-traffic';
import { createKnex } from '../../../infra/db';
import type { StreamMessage } from '../../../contracts/stream';
import { encodeRecordBlock } from '../../../contracts/record-block';
import { OffsetBuffer } from '../../../stream/workflow-buffer';
import { seedRealExhibitions } from '../../support/exhibitions';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';
import { assertLedger, assertStoredExactly, expectedOutcome, type TopicRecord } from '../../support/stream';

const TOPIC = 'lmnh';
const AT = Date.parse('2026-07-01T12:00:00Z');

function batch(from: number, to: number, values: readonly Buffer[]): StreamMessage[] {
  const messages: StreamMessage[] = [];
  for (let offset = from; offset <= to; offset++) {
    messages.push({ offset, value: values[offset]!.toString('base64'), timestamp: AT });
  }
  return messages;
}

describe('stream: the load activity', function () {
  const cfg = isolatedConfig('stream-load');
  let deps: ActivityDeps;
  let load: ReturnType<typeof createStreamActivities>['loadStreamMessages'];
  const traffic = new KioskTraffic(99);
  const values = Array.from({ length: 1000 }, (_, i) => Buffer.from(traffic.next(AT - i * 1000).value));
  const records: TopicRecord[] = values.map((value, offset) => ({ partition: 0, offset, value }));
  const input = (messages: StreamMessage[], run = 'stream-lmnh-0/run-a'): LoadStreamInput => ({
    ledgerRunId: run,
    workflowId: 'stream-lmnh-0',
    topic: TOPIC,
    partition: 0,
    messages,
  });

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    const knex = createKnex(cfg.databaseUrl, 1);
    await seedRealExhibitions(knex);
    await knex.destroy();
    deps = createActivityDeps(cfg);
    const activities = createStreamActivities(deps);
    load = (i) => activities.loadStreamMessages(i);
  });
  after(async () => {
    await closeActivityDeps(deps);
    await dropDatabase(cfg.databaseUrl);
  });

  it('stores a batch once, and a retry finds it stored without counting it again', async () => {
    const first = await load(input(batch(0, 399, values)));
    assert.equal(first.loaded + first.rejected, 400);
    assert.equal(first.alreadyStored, 0);
    const retry = await load(input(batch(0, 399, values)));
    assert.deepEqual(
      { loaded: retry.loaded, rejected: retry.rejected, alreadyStored: retry.alreadyStored },
      { loaded: first.loaded, rejected: first.rejected, alreadyStored: 400 },
    );
    assert.deepEqual(retry.rejectedByReason, {}, 'nothing newly rejected');
  });

  it('stores only the new part of an overlapping batch, even from another chain', async () => {
    const overlap = await load(input(batch(300, 599, values), 'stream-lmnh-0/run-b'));
    assert.equal(overlap.alreadyStored, 100);
    assert.equal(overlap.loaded + overlap.rejected, 300);
  });

  it('lets one of two simultaneous attempts win; the loser fails and its retry finds everything stored', async () => {
    const messages = batch(600, 999, values);
    const outcomes = await Promise.allSettled([load(input(messages)), load(input(messages))]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    assert.ok(won.length >= 1);
    for (const o of outcomes) {
      if (o.status === 'rejected') assert.match((o.reason as Error).message, /duplicate key|unique/);
    }
    const again = await load(input(messages));
    assert.equal(again.alreadyStored, 400);
  });

  it('loads record blocks: the records the workflow took, byte for byte, and refuses a mismatched block', async () => {
    const topic = 'lmnh-blocks';
    const kafkaRecords = values.slice(0, 300).map((value, offset) => ({ offset, value, timestamp: AT }));
    const a = await encodeRecordBlock(kafkaRecords.slice(0, 200));
    // A redelivery that overlaps: the workflow marks it, the load skips 150..199.
    const b = await encodeRecordBlock(kafkaRecords.slice(150, 300));
    const buffer = new OffsetBuffer(-1);
    buffer.acceptBlock(a.info, a.data, 0);
    buffer.acceptBlock(b.info, b.data, 0);
    const { blocks } = buffer.drain();
    const target = { ledgerRunId: 'stream-blocks/run', workflowId: 'stream-blocks', topic, partition: 0 };
    const activities = createStreamActivities(deps);
    const loadBlocks: typeof activities.loadStreamBlocks = (input, ...data) =>
      activities.loadStreamBlocks(input, ...data);
    const result = await loadBlocks(
      { ...target, blocks: blocks.map((x) => x.block) },
      ...blocks.map((x) => x.data),
    );
    assert.deepEqual([result.loaded + result.rejected, result.alreadyStored], [300, 0]);
    await assert.rejects(
      loadBlocks({ ...target, blocks: [{ ...blocks[1]!.block, taken: 150 }] }, blocks[1]!.data),
      /does not match its description/,
    );
    await assert.rejects(loadBlocks({ ...target, blocks: [blocks[0]!.block] }), /without its bytes/);
    const knex = createKnex(cfg.databaseUrl, 1);
    try {
      const expected = expectedOutcome(
        kafkaRecords.map((r) => ({ partition: 0, offset: r.offset, value: r.value })),
      );
      await assertStoredExactly(knex, topic, expected);
      assert.equal(await assertLedger(knex, topic, expected), 1);
    } finally {
      await knex.destroy();
    }
  });

  it('leaves every message stored once and the ledger counting each once, across both runs', async () => {
    const knex = createKnex(cfg.databaseUrl, 1);
    try {
      const expected = expectedOutcome(records);
      await assertStoredExactly(knex, TOPIC, expected);
      assert.equal(await assertLedger(knex, TOPIC, expected), 2);
    } finally {
      await knex.destroy();
    }
  });
});
