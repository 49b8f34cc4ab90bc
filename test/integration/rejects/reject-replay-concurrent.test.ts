// The replay's page activity against PostgreSQL when two replays run at once (an operator starting a second
// one): every reject is moved exactly once, by one of them, and neither stops before the end.
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { closeActivityDeps, createActivityDeps, type ActivityDeps } from '../../../infra/activity-deps';
import { createReplayActivities, type ReplayPageResult } from '../../../replay/activities';
import { createKnex } from '../../../infra/db';
import { seedRealExhibitions } from '../../support/exhibitions';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';

const REJECTS = 60;

describe('replay: two replays at once', function () {
  this.timeout(120_000);
  const cfg = isolatedConfig('replay-concurrent');
  let knex: Knex;
  let deps: ActivityDeps;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    await seedRealExhibitions(knex);
    await knex('pipeline_run').insert({
      run_id: 'stream-run',
      kind: 'stream',
      workflow_id: 'stream-t-0',
      source: 'kafka://t/0',
    });
    // Presses for site 1, rejected when site 1 was not yet known; valid now.
    await knex('rejected_interaction').insert(
      Array.from({ length: REJECTS }, (_, offset) => ({
        raw: Buffer.from(
          JSON.stringify({ at: '2026-07-01T10:00:00.000000+01:00', site: '1', val: offset % 5 }),
        ),
        reasons: ['UNKNOWN_SITE'],
        run_id: 'stream-run',
        source_topic: 't',
        source_partition: 0,
        source_offset: offset,
      })),
    );
    deps = createActivityDeps(cfg);
  });
  after(async () => {
    await closeActivityDeps(deps);
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  async function replay(runId: string): Promise<number> {
    const act = createReplayActivities(deps);
    let window = await act.startReplay({ runId, workflowId: runId, source: 'test', filter: {} });
    let admitted = 0;
    for (;;) {
      // An activity's context, as a worker gives one: the page heartbeats.
      const page = await new MockActivityEnvironment().run<
        [],
        ReplayPageResult,
        () => Promise<ReplayPageResult>
      >(() => act.replayRejectPage({ runId, filter: { reason: 'UNKNOWN_SITE' }, pageSize: 7, ...window }));
      admitted += page.admitted;
      if (page.done) return admitted;
      window = { ...window, afterId: page.lastId };
    }
  }

  it('moves every reject once, whichever replay takes it, and the ledgers add up', async () => {
    const [a, b] = await Promise.all([replay('replay-a'), replay('replay-b')]);
    assert.equal(a + b, REJECTS);
    const r = await knex.raw<{ rows: { n: number; offsets: number; rejects: number }[] }>(
      `select count(*)::int as n, count(distinct source_offset)::int as offsets,
              (select count(*)::int from rejected_interaction) as rejects
       from rating_interaction where source_topic = 't'`,
    );
    assert.deepEqual(r.rows[0], { n: REJECTS, offsets: REJECTS, rejects: 0 });
    const ledger = await knex('pipeline_run')
      .whereIn('run_id', ['replay-a', 'replay-b'])
      .orderBy('run_id')
      .select<{ loaded_count: number }[]>('loaded_count');
    assert.deepEqual(
      ledger.map((l) => l.loaded_count),
      [a, b],
    );
  });
});
