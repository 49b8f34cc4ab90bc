// Migration 20261130000710: topic incarnations, the 'superseded' run status and the run's note, up and down
// over a ledger that holds runs.
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { resolveSourceTopic } from '../../../stream/topic';
import { createKnex } from '../../../infra/db';
import { migrateLatest } from '../../../infra/migrate';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';

const NAME = '20261130000710_stream_topic_incarnation';

const runs = async (knex: Knex) =>
  (await knex('pipeline_run').select('run_id', 'status').orderBy('run_id')) as {
    run_id: string;
    status: string;
  }[];

describe('migration: stream topic incarnations', function () {
  const cfg = isolatedConfig('migration-incarnation');
  let knex: Knex;

  before(async () => {
    await createDatabase(cfg.databaseUrl, false);
    knex = createKnex(cfg.databaseUrl, 2);
    await migrateLatest(knex);
  });
  after(async () => {
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  it('names the first topic id seen after the topic and later ones after their id, concurrently too', async () => {
    const names = await Promise.all(
      ['id-a', 'id-a', 'id-a'].map((topicId) => resolveSourceTopic(knex, { topic: 't1', topicId })),
    );
    assert.deepEqual(names, ['t1', 't1', 't1']);
    assert.equal(await resolveSourceTopic(knex, { topic: 't1', topicId: 'id-b' }), 't1@id-b');
    assert.equal(await resolveSourceTopic(knex, { topic: 't1', topicId: 'id-a' }), 't1', 'stable');
    assert.equal(await resolveSourceTopic(knex, { topic: 't2', topicId: 'id-c' }), 't2');
  });

  it('keeps the runs both ways (superseded becomes completed), and refuses to forget a later incarnation', async () => {
    await knex('pipeline_run').insert([
      { run_id: 's1', kind: 'stream', workflow_id: 'w', source: 'kafka://t1/0' },
      { run_id: 's2', kind: 'stream', workflow_id: 'w', source: 'kafka://t1/0' },
    ]);
    await knex('pipeline_run')
      .where({ run_id: 's1' })
      .update({ status: 'superseded', finished_at: knex.fn.now(), note: 'topic recreated' });
    await assert.rejects(knex('pipeline_run').where({ run_id: 's2' }).update({ status: 'nonsense' }));

    await assert.rejects(knex.migrate.down({ name: NAME }), /1 recreated topic incarnations/);
    await knex('stream_topic_incarnation').where({ source_topic: 't1@id-b' }).delete();
    await knex.migrate.down({ name: NAME });
    assert.deepEqual(await runs(knex), [
      { run_id: 's1', status: 'completed' },
      { run_id: 's2', status: 'running' },
    ]);
    await assert.rejects(
      knex('pipeline_run').where({ run_id: 's2' }).update({ status: 'superseded' }),
      /pipeline_run_status_check/,
    );
    const tables = await knex.raw<{ rows: { t: string | null }[] }>(
      `select to_regclass('stream_topic_incarnation')::text as t`,
    );
    assert.equal(tables.rows[0]?.t, null);

    await knex.migrate.up({ name: NAME });
    await knex('pipeline_run').where({ run_id: 's2' }).update({ status: 'superseded', note: 'again' });
    assert.deepEqual(await runs(knex), [
      { run_id: 's1', status: 'completed' },
      { run_id: 's2', status: 'superseded' },
    ]);
    assert.equal(await resolveSourceTopic(knex, { topic: 't1', topicId: 'id-z' }), 't1');
  });
});
