// Migration 20261130000600: the ledger's 'replay' kind, up and down over a ledger that holds runs.
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { createKnex } from '../../../infra/db';
import { migrateLatest } from '../../../infra/migrate';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';

const NAME = '20261130000600_replay_run_kind';

async function insertRun(knex: Knex, runId: string, kind: string): Promise<string> {
  try {
    await knex('pipeline_run').insert({ run_id: runId, kind, workflow_id: `wf-${runId}`, source: 'test' });
    return 'accepted';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

describe('migration: replay runs in the ledger', function () {
  const cfg = isolatedConfig('migration-replay');
  let knex: Knex;

  before(async () => {
    await createDatabase(cfg.databaseUrl, false);
    knex = createKnex(cfg.databaseUrl, 1);
    await migrateLatest(knex);
  });
  after(async () => {
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  const hasIndex = async () =>
    (
      await knex.raw<{ rows: { t: string | null }[] }>(
        `select to_regclass('rejected_interaction_rejected_at')::text as t`,
      )
    ).rows[0]?.t !== null;

  const runs = async () =>
    (await knex('pipeline_run').select('run_id', 'kind').orderBy('run_id')) as {
      run_id: string;
      kind: string;
    }[];

  it('keeps existing runs both ways, and accepts replay runs only while it is applied', async () => {
    assert.equal(await insertRun(knex, 'b1', 'batch'), 'accepted');
    assert.equal(await insertRun(knex, 's1', 'stream'), 'accepted');
    assert.equal(await insertRun(knex, 'x1', 'nonsense'), '23514');

    await knex.migrate.down({ name: NAME });
    assert.deepEqual(await runs(), [
      { run_id: 'b1', kind: 'batch' },
      { run_id: 's1', kind: 'stream' },
    ]);
    assert.equal(await insertRun(knex, 'r0', 'replay'), '23514', 'the older schema has no replay kind');
    assert.equal(await hasIndex(), false);

    await knex.migrate.up({ name: NAME });
    assert.equal(await hasIndex(), true);
    assert.equal(await insertRun(knex, 'r1', 'replay'), 'accepted');
    assert.equal(await insertRun(knex, 'x2', 'nonsense'), '23514');
    assert.equal((await runs()).length, 3);
  });

  it('refuses to go down while replay runs are in the ledger, and goes once they are gone', async () => {
    await assert.rejects(knex.migrate.down({ name: NAME }), /1 replay runs are in the ledger/);
    assert.equal((await runs()).length, 3, 'nothing was deleted by the refused rollback');
    await knex('pipeline_run').where({ kind: 'replay' }).delete();
    await knex.migrate.down({ name: NAME });
    assert.deepEqual(
      (await runs()).map((r) => r.kind),
      ['batch', 'stream'],
    );
  });
});
