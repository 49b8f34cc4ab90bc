// Values the database cannot store never hold a partition up: an instant outside the storable years is judged
// AT_OUT_OF_RANGE, and a value PostgreSQL refuses as data anyway (here: a check constraint added to this
// suite's own database) is found by splitting the batch and stored as an UNSTORABLE reject. Errors that are
// not about the data are still thrown, so the activity's retry waits for the database to come back.
import assert from 'node:assert/strict';
import { createActivityDeps, closeActivityDeps } from '../../../infra/activity-deps';
import { createStreamActivities, type LoadStreamInput } from '../../../stream/load';
import type { Publisher } from '../../../kafka/publisher';
import {
  countStored,
  press,
  startStream,
  storedByOffset,
  stopStream,
  waitUntil,
  type RunningStream,
  type StreamEnv,
} from '../../support/stream';

const YEAR_ONE = '{"at": "0001-01-01T09:00:00+10:00", "site": "1", "val": 3}';
describe('stream: values the database cannot store', function () {
  this.timeout(120_000);
  let stream: RunningStream | undefined;
  let env: StreamEnv;
  let publisher: Publisher;

  before(async () => {
    stream = await startStream('stream-unstorable', 1);
    ({ env, publisher } = stream);
  });
  after(() => stopStream(stream));

  it('rejects a press dated in year 1 (year 0 in UTC) and loads the 20 good presses behind it', async () => {
    const started = Date.now();
    await publisher.publish([Buffer.from(YEAR_ONE)]);
    for (let i = 0; i < 20; i++) await publisher.publish([press(i)]);
    await waitUntil(
      '21 messages stored',
      async () => (await countStored(env.knex, env.cfg.kafka.topic)) === 21,
      20_000,
    );
    const elapsed = Date.now() - started;
    const stored = await storedByOffset(env.knex, env.cfg.kafka.topic);
    assert.deepEqual(stored.get(0)?.reasons, ['AT_OUT_OF_RANGE']);
    assert.equal(stored.get(0)?.raw?.toString(), YEAR_ONE);
    for (let offset = 1; offset <= 20; offset++)
      assert.equal(stored.get(offset)?.table, 'rating', `offset ${offset}`);
    assert.ok(elapsed < 20_000, `resolved in ${elapsed} ms`);
  });

  it('stores a value PostgreSQL refuses as UNSTORABLE with its bytes, and the 20 good presses behind it', async () => {
    // A rule the validation does not know: the database refuses rating 1 (SQLSTATE 23514, class 23).
    await env.knex.raw(
      'alter table rating_interaction add constraint test_refuses_rating_1 check (rating_value <> 1) not valid',
    );
    try {
      const refused = press(100, 1);
      await publisher.publish([refused]);
      for (let i = 0; i < 20; i++) await publisher.publish([press(200 + i)]);
      await waitUntil(
        '42 messages stored',
        async () => (await countStored(env.knex, env.cfg.kafka.topic)) === 42,
        20_000,
      );
      const stored = await storedByOffset(env.knex, env.cfg.kafka.topic);
      assert.deepEqual(stored.get(21)?.reasons, ['UNSTORABLE']);
      assert.deepEqual(stored.get(21)?.raw, refused);
      for (let offset = 22; offset <= 41; offset++)
        assert.equal(stored.get(offset)?.table, 'rating', `offset ${offset}`);
      const ledger = await env
        .knex('pipeline_run')
        .where('source', `kafka://${env.cfg.kafka.topic}/0`)
        .first<{
          read_count: number;
          loaded_count: number;
          rejected_count: number;
          rejected_by_reason: object;
        }>();
      assert.deepEqual(
        {
          read: ledger?.read_count,
          loaded: ledger?.loaded_count,
          rejected: ledger?.rejected_count,
          reasons: ledger?.rejected_by_reason,
        },
        { read: 42, loaded: 40, rejected: 2, reasons: { AT_OUT_OF_RANGE: 1, UNSTORABLE: 1 } },
      );
    } finally {
      await env.knex.raw('alter table rating_interaction drop constraint test_refuses_rating_1');
    }
  });

  it('finds several refused values in one batch by splitting it, and stores the rest', async () => {
    await env.knex.raw(
      'alter table rating_interaction add constraint test_refuses_rating_0 check (rating_value <> 0) not valid',
    );
    const deps = createActivityDeps(env.cfg);
    try {
      const activities = createStreamActivities(deps);
      const loadStreamMessages = (i: LoadStreamInput) => activities.loadStreamMessages(i);
      const values = Array.from({ length: 1000 }, (_, i) => press(i, i % 250 === 7 ? 0 : 4));
      const result = await loadStreamMessages({
        ledgerRunId: 'split-test/run',
        workflowId: 'split-test',
        topic: 'split-test',
        partition: 3,
        messages: values.map((v, i) => ({ offset: 5000 + i, value: v.toString('base64'), timestamp: 0 })),
      });
      assert.deepEqual(result, {
        loaded: 996,
        rejected: 4,
        alreadyStored: 0,
        rejectedByReason: { UNSTORABLE: 4 },
      });
      const rejects = await env
        .knex('rejected_interaction')
        .where({ source_topic: 'split-test' })
        .orderBy('source_offset')
        .select<{ source_offset: string; raw: Buffer }[]>('source_offset', 'raw');
      assert.deepEqual(
        rejects.map((r) => [Number(r.source_offset), r.raw.toString()]),
        [7, 257, 507, 757].map((i) => [5000 + i, press(i, 0).toString()]),
      );
      const loaded = await env
        .knex('rating_interaction')
        .where({ source_topic: 'split-test' })
        .count<{ n: string }[]>({ n: '*' });
      assert.equal(Number(loaded[0]?.n), 996);
    } finally {
      await closeActivityDeps(deps);
      await env.knex.raw('alter table rating_interaction drop constraint test_refuses_rating_0');
    }
  });

  it('throws what is not about the data (a missing table), storing nothing, so the retry waits for it', async () => {
    const deps = createActivityDeps(env.cfg);
    const activities = createStreamActivities(deps);
    const loadStreamMessages = (i: LoadStreamInput) => activities.loadStreamMessages(i);
    const input = {
      ledgerRunId: 'infra-test/run',
      workflowId: 'infra-test',
      topic: 'infra-test',
      partition: 0,
      messages: [0, 1, 2].map((i) => ({ offset: i, value: press(i).toString('base64'), timestamp: 0 })),
    };
    try {
      await env.knex.raw('alter table rejected_interaction rename to rejected_interaction_away');
      try {
        await assert.rejects(loadStreamMessages(input), (err: { code?: string }) => err.code === '42P01');
      } finally {
        await env.knex.raw('alter table rejected_interaction_away rename to rejected_interaction');
      }
      assert.equal(await countStored(env.knex, 'infra-test'), 0);
      const retried = await loadStreamMessages(input);
      assert.equal(retried.loaded, 3);
    } finally {
      await closeActivityDeps(deps);
    }
  });
});
