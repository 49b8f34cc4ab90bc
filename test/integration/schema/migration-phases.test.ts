// Two-phase schema changes on a real database: `db migrate` stops before the first contract step, keeps what
// follows it pending, and keeps the rows; the contract step and what follows run afterwards as one batch.
import knexFactory, { type Knex } from 'knex';
import assert from 'node:assert/strict';
import { migrateExpand, migrateLatest, migrationStatus, pendingPhases } from '../../../infra/migrate';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';

interface Step {
  phase?: 'expand' | 'contract';
  up: (k: Knex) => Promise<void>;
  down: (k: Knex) => Promise<void>;
}

// A rename done the two-phase way: add the new column and fill it (expand), drop the old one (contract),
// then a later release's ordinary addition.
const STEPS: Record<string, Step> = {
  '001_visits': {
    up: (k) => k.raw('create table visit (id int primary key, room text not null)'),
    down: (k) => k.raw('drop table visit'),
  },
  '002_gallery_column': {
    up: (k) => k.raw('alter table visit add column gallery text; update visit set gallery = room'),
    down: (k) => k.raw('alter table visit drop column gallery'),
  },
  '003_drop_room': {
    phase: 'contract',
    up: (k) => k.raw('alter table visit drop column room'),
    down: (k) => k.raw('alter table visit add column room text; update visit set room = gallery'),
  },
  '004_visit_day': {
    up: (k) => k.raw('alter table visit add column day date'),
    down: (k) => k.raw('alter table visit drop column day'),
  },
};

function knexWith(databaseUrl: string, names: string[]): Knex {
  return knexFactory({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: 0, max: 2 },
    migrations: {
      tableName: 'knex_migrations',
      migrationSource: {
        getMigrations: () => Promise.resolve(names),
        getMigrationName: (n: string) => n,
        getMigration: (n: string) => Promise.resolve(STEPS[n]!),
      },
    },
  });
}

describe('two-phase migrations: expand now, contract once the previous release is gone', function () {
  const cfg = isolatedConfig('phases');
  let knex: Knex;
  before(async () => {
    await createDatabase(cfg.databaseUrl, false);
    knex = knexWith(cfg.databaseUrl, ['001_visits']);
    await migrateLatest(knex);
    await knex('visit').insert([
      { id: 1, room: 'Dinosaurs' },
      { id: 2, room: 'Gems' },
    ]);
    await knex.destroy();
    knex = knexWith(cfg.databaseUrl, Object.keys(STEPS));
  });
  after(async () => {
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  const columns = async () =>
    (
      await knex.raw<{ rows: { c: string }[] }>(
        `select column_name as c from information_schema.columns where table_name = 'visit' order by ordinal_position`,
      )
    ).rows.map((r) => r.c);

  it('holds the contract step and what follows until asked, keeping every row, then runs them as one batch', async () => {
    // A database never migrated gets every step at once: no older release has run on it.
    const fresh = isolatedConfig('phases-fresh');
    await createDatabase(fresh.databaseUrl, false);
    const freshKnex = knexWith(fresh.databaseUrl, Object.keys(STEPS));
    try {
      assert.deepEqual(await migrateExpand(freshKnex), { applied: Object.keys(STEPS), held: [] });
    } finally {
      await freshKnex.destroy();
      await dropDatabase(fresh.databaseUrl);
    }

    assert.deepEqual(await pendingPhases(knex), [
      { name: '002_gallery_column', phase: 'expand' },
      { name: '003_drop_room', phase: 'contract' },
      { name: '004_visit_day', phase: 'expand' },
    ]);
    assert.deepEqual(await migrateExpand(knex), {
      applied: ['002_gallery_column'],
      held: ['003_drop_room', '004_visit_day'],
    });
    // The previous release's column is still there: its writes keep working.
    assert.deepEqual(await columns(), ['id', 'room', 'gallery']);
    assert.deepEqual(await knex('visit').orderBy('id').select('id', 'room', 'gallery'), [
      { id: 1, room: 'Dinosaurs', gallery: 'Dinosaurs' },
      { id: 2, room: 'Gems', gallery: 'Gems' },
    ]);
    // Again: nothing more to expand.
    assert.deepEqual(await migrateExpand(knex), { applied: [], held: ['003_drop_room', '004_visit_day'] });

    // Once the previous release is gone: the contract step and the rest, one batch that one rollback undoes.
    assert.deepEqual(await migrateLatest(knex), ['003_drop_room', '004_visit_day']);
    assert.deepEqual(await columns(), ['id', 'gallery', 'day']);
    const status = await migrationStatus(knex);
    assert.deepEqual(status.pending, []);
    assert.deepEqual(
      status.applied.map((m) => [m.name, m.batch]),
      [
        ['001_visits', 1],
        ['002_gallery_column', 2],
        ['003_drop_room', 3],
        ['004_visit_day', 3],
      ],
    );
    await knex.migrate.rollback();
    assert.deepEqual(await columns(), ['id', 'gallery', 'room']);
    assert.deepEqual(await knex('visit').orderBy('id').select('id', 'room'), [
      { id: 1, room: 'Dinosaurs' },
      { id: 2, room: 'Gems' },
    ]);
  });
});
