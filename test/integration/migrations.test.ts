import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { createKnex } from '../../infra/db';
import { migrateLatest, rollbackAll } from '../../infra/migrate';
import {
  addObjectForeignKeysSql,
  createObjectTableSql,
  attachObjectTableSql,
  indexObjectTableSql,
  objectTable,
  registerAcceptedPressesSql,
} from '../../activities/object-tables';
import { createDatabase, dropDatabase, isolatedConfig } from '../support/isolated-env';

const TABLES = [
  'accepted_batch_press',
  'department',
  'exhibition',
  'floor',
  'pipeline_run',
  'rating',
  'rating_interaction',
  'reject_reason',
  'rejected_interaction',
  'request',
  'request_interaction',
  'source_object',
];

const FOREIGN_KEYS = [
  'exhibition.department_id -> department',
  'exhibition.floor_id -> floor',
  'rating_interaction.exhibition_id -> exhibition',
  'rating_interaction.rating_value -> rating',
  'rating_interaction.run_id -> pipeline_run',
  'rejected_interaction.run_id -> pipeline_run',
  'request_interaction.exhibition_id -> exhibition',
  'request_interaction.request_value -> request',
  'request_interaction.run_id -> pipeline_run',
  'source_object.run_id -> pipeline_run',
];

async function userTables(knex: Knex): Promise<string[]> {
  const r = await knex.raw<{ rows: { table_name: string }[] }>(
    `select table_name from information_schema.tables
     where table_schema = 'public' and table_name not like 'knex_%' order by table_name`,
  );
  return r.rows.map((x) => x.table_name);
}

async function foreignKeys(knex: Knex): Promise<string[]> {
  const r = await knex.raw<{ rows: { fk: string }[] }>(
    `select c.conrelid::regclass || '.' || a.attname || ' -> ' || c.confrelid::regclass as fk
     from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
     where c.contype = 'f' and c.connamespace = 'public'::regnamespace order by 1`,
  );
  return r.rows.map((x) => x.fk);
}

/** SQLSTATE of the statement's failure, or 'accepted' when it went through. */
async function outcome(knex: Knex, sql: string): Promise<string> {
  try {
    await knex.transaction(async (trx) => {
      await trx.raw(sql);
      throw new Error('accepted');
    });
    return 'unreachable';
  } catch (err) {
    const e = err as { code?: string; message: string };
    return e.message === 'accepted' ? 'accepted' : (e.code ?? e.message);
  }
}

const FIXTURE = `
  insert into floor (name) values ('1');
  insert into department (name) values ('Geology');
  insert into exhibition (site, public_id, name, floor_id, department_id, start_date)
    values (0, 'EXH_00', 'Measureless to Man', 1, 1, '2021-08-23');
  insert into pipeline_run (run_id, kind, workflow_id, source) values ('run-1', 'batch', 'batch-test', 'test');
`;

const rating = (cols: string, values: string) =>
  `insert into rating_interaction (${cols}) values (${values})`;
// The interaction tables themselves hold the stream's rows; batch rows live in per-object tables (below).
const GOOD_RATING = `exhibition_id, rating_value, event_at, run_id, source_topic, source_partition, source_offset`;
const BATCH_RATING = `exhibition_id, rating_value, event_at, run_id, source_object, source_line`;
const UNIQUE = '23505';
const CHECK = '23514';
const FK = '23503';
const NOT_NULL = '23502';

// Each statement breaks one constraint; the good twin of each is accepted (proves the fixture is sound).
const BAD_ROWS: [string, string, string][] = [
  ['floor with an empty name', `insert into floor (name) values ('  ')`, CHECK],
  ['duplicate floor', `insert into floor (name) values ('1')`, UNIQUE],
  ['duplicate department', `insert into department (name) values ('Geology')`, UNIQUE],
  [
    'exhibition with a malformed public id',
    `insert into exhibition (site, public_id, name, floor_id, department_id, start_date) values (1, 'X1', 'n', 1, 1, now())`,
    CHECK,
  ],
  [
    'exhibition with a negative site',
    `insert into exhibition (site, public_id, name, floor_id, department_id, start_date) values (-1, 'EXH_09', 'n', 1, 1, now())`,
    CHECK,
  ],
  [
    'exhibition with a site already taken',
    `insert into exhibition (site, public_id, name, floor_id, department_id, start_date) values (0, 'EXH_09', 'n', 1, 1, now())`,
    UNIQUE,
  ],
  [
    'exhibition on an unknown floor',
    `insert into exhibition (site, public_id, name, floor_id, department_id, start_date) values (9, 'EXH_09', 'n', 99, 1, now())`,
    FK,
  ],
  [
    'exhibition without a start date',
    `insert into exhibition (site, public_id, name, floor_id, department_id) values (9, 'EXH_09', 'n', 1, 1)`,
    NOT_NULL,
  ],
  ['rating value 5', `insert into rating (rating_value, description) values (5, 'Sublime')`, CHECK],
  ['request value 2', `insert into request (request_value, description) values (2, 'Lost child')`, CHECK],
  ['unknown reject reason', `insert into reject_reason (code, description) values ('NOPE', 'x')`, CHECK],
  [
    'run of an unknown kind',
    `insert into pipeline_run (run_id, kind, workflow_id, source) values ('r2', 'manual', 'w', 's')`,
    CHECK,
  ],
  [
    'run whose counts do not balance',
    `insert into pipeline_run (run_id, kind, workflow_id, source, read_count, loaded_count, rejected_count)
     values ('r2', 'batch', 'w', 's', 10, 5, 4)`,
    CHECK,
  ],
  [
    'source object whose counts do not balance',
    `insert into source_object (source_object, etag, size_bytes, run_id, read_count, loaded_count, rejected_count)
     values ('s3://b/k', 'e', 1, 'run-1', 3, 1, 1)`,
    CHECK,
  ],
  [
    'rating interaction with an unknown rating',
    rating(GOOD_RATING, `1, 7, now(), 'run-1', 'lmnh', 0, 1`),
    FK,
  ],
  [
    'rating interaction at an unknown exhibition',
    rating(GOOD_RATING, `42, 3, now(), 'run-1', 'lmnh', 0, 1`),
    FK,
  ],
  ['rating interaction of an unknown run', rating(GOOD_RATING, `1, 3, now(), 'nope', 'lmnh', 0, 1`), FK],
  [
    'rating interaction with no source',
    rating('exhibition_id, rating_value, event_at, run_id', `1, 3, now(), 'run-1'`),
    CHECK,
  ],
  [
    'rating interaction with both sources',
    rating(`${GOOD_RATING}, source_object, source_line`, `1, 3, now(), 'run-1', 'lmnh', 0, 1, 's3://b/k', 1`),
    CHECK,
  ],
  [
    'a batch rating in the interaction table instead of its object table',
    rating(BATCH_RATING, `1, 3, now(), 'run-1', 's3://b/k', 1`),
    CHECK,
  ],
  [
    'request interaction with an unknown request',
    `insert into request_interaction (exhibition_id, request_value, event_at, run_id, source_topic, source_partition, source_offset)
     values (1, 3, now(), 'run-1', 'lmnh', 0, 5)`,
    FK,
  ],
  [
    'request interaction at a negative offset',
    `insert into request_interaction (exhibition_id, request_value, event_at, run_id, source_topic, source_partition, source_offset)
     values (1, 1, now(), 'run-1', 'lmnh', 0, -5)`,
    CHECK,
  ],
  [
    'reject with no reason',
    `insert into rejected_interaction (raw, reasons, run_id, source_object, source_line) values ('x', '{}', 'run-1', 's3://b/k', 1)`,
    CHECK,
  ],
  [
    'reject with an unknown reason',
    `insert into rejected_interaction (raw, reasons, run_id, source_object, source_line) values ('x', '{WHATEVER}', 'run-1', 's3://b/k', 1)`,
    CHECK,
  ],
  [
    'reject without its raw value',
    `insert into rejected_interaction (reasons, run_id, source_object, source_line) values ('{BAD_AT}', 'run-1', 's3://b/k', 1)`,
    NOT_NULL,
  ],
];

describe('schema migrations', function () {
  const cfg = isolatedConfig('migrations');
  let knex: Knex;

  before(async () => {
    await createDatabase(cfg.databaseUrl, false);
    knex = createKnex(cfg.databaseUrl, 2);
  });
  after(async () => {
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  it('go up, down and up again with every table and foreign key in place', async () => {
    await migrateLatest(knex);
    assert.deepEqual(await userTables(knex), TABLES);
    assert.deepEqual(await foreignKeys(knex), FOREIGN_KEYS);
    await rollbackAll(knex);
    assert.deepEqual(await userTables(knex), []);
    await migrateLatest(knex);
    assert.deepEqual(await userTables(knex), TABLES);
    assert.deepEqual(await foreignKeys(knex), FOREIGN_KEYS);
  });

  it('seed the reference data for ratings, requests and reject reasons', async () => {
    const ratings = await knex('rating').orderBy('rating_value').select('rating_value', 'description');
    assert.deepEqual(ratings, [
      { rating_value: 0, description: 'Terrible' },
      { rating_value: 1, description: 'Bad' },
      { rating_value: 2, description: 'Neutral' },
      { rating_value: 3, description: 'Good' },
      { rating_value: 4, description: 'Amazing' },
    ]);
    const requests = await knex('request').orderBy('request_value').select('request_value', 'description');
    assert.deepEqual(requests, [
      { request_value: 0, description: 'Assistance' },
      { request_value: 1, description: 'Emergency' },
    ]);
    const reasons = await knex('reject_reason').count<{ count: number }[]>({ count: '*' });
    assert.equal(reasons[0]?.count, 18);
  });

  describe('refuse a bad row for each constraint', function () {
    before(async () => {
      await knex.raw(FIXTURE);
    });

    it('accepts the good rows the bad ones are made from', async () => {
      assert.equal(
        await outcome(knex, rating(GOOD_RATING, `1, 3, now(), 'run-1', 'lmnh', 0, 1`)),
        'accepted',
      );
      assert.equal(
        await outcome(
          knex,
          `insert into rejected_interaction (raw, reasons, run_id, source_topic, source_partition, source_offset)
           values ('\\xff00'::bytea, '{MALFORMED}', 'run-1', 'lmnh', 0, 1)`,
        ),
        'accepted',
      );
    });

    for (const [name, sql, code] of BAD_ROWS) {
      it(`refuses ${name}`, async () => {
        assert.equal(await outcome(knex, sql), code);
      });
    }

    it('refuses the same stream offset twice', async () => {
      await knex.raw(rating(GOOD_RATING, `1, 3, '2023-03-06 10:00:00+00', 'run-1', 'lmnh', 0, 1`));
      assert.equal(
        await outcome(knex, rating(GOOD_RATING, `1, 4, '2023-03-06 12:00:00+00', 'run-1', 'lmnh', 0, 1`)),
        UNIQUE,
      );
    });
  });

  describe("an object's tables, built the way a batch load builds them", function () {
    const uri = 's3://b/k';
    const table = objectTable('rating', uri);
    const intoObject = (values: string) => `insert into ${table} (${BATCH_RATING}) values (${values})`;

    before(async () => {
      await knex.transaction(async (trx) => {
        await trx.raw(createObjectTableSql('rating', uri));
        await trx.raw(intoObject(`1, 3, '2023-03-06 10:00:00+00', 'run-1', '${uri}', 1`));
        await trx.raw(registerAcceptedPressesSql('rating', uri, false));
        await trx.raw(indexObjectTableSql('rating', table));
        await trx.raw(attachObjectTableSql('rating', uri));
        await trx.raw(addObjectForeignKeysSql('rating', table));
      });
    });

    it('show their rows through the interaction table, with an id from its sequence', async () => {
      const rows = await knex.raw<{ rows: { source_line: number; id_from_family: boolean }[] }>(
        `select source_line,
           rating_interaction_id <= (select last_value from rating_interaction_rating_interaction_id_seq)
             as id_from_family
         from rating_interaction where source_object = ?`,
        [uri],
      );
      assert.deepEqual(rows.rows, [{ source_line: 1, id_from_family: true }]);
    });

    const OBJECT_BAD_ROWS: [string, string, string][] = [
      ['an unknown exhibition', `42, 3, now(), 'run-1', '${uri}', 2`, FK],
      ['an unknown rating', `1, 7, now(), 'run-1', '${uri}', 2`, FK],
      ['an unknown run', `1, 3, now(), 'nope', '${uri}', 2`, FK],
      ['line 0', `1, 3, now(), 'run-1', '${uri}', 0`, CHECK],
      ["another object's row", `1, 3, now(), 'run-1', 's3://b/other', 2`, CHECK],
      ['a row without its object', `1, 3, now(), 'run-1', null, 2`, NOT_NULL],
      ['the same source line twice', `1, 2, '2023-03-06 11:00:00+00', 'run-1', '${uri}', 1`, UNIQUE],
    ];
    it('accept the good row the bad ones are made from', async () => {
      assert.equal(await outcome(knex, intoObject(`1, 3, now(), 'run-1', '${uri}', 2`)), 'accepted');
    });
    for (const [name, values, code] of OBJECT_BAD_ROWS) {
      it(`refuse ${name}`, async () => {
        assert.equal(await outcome(knex, intoObject(values)), code);
      });
    }

    it('register each accepted press once across every object', async () => {
      const press = (kind: number) =>
        `insert into accepted_batch_press (exhibition_id, event_at, kind, value)
         values (1, '2023-03-06 10:00:00+00', ${kind}, 3)`;
      assert.equal(await outcome(knex, press(0)), UNIQUE);
      assert.equal(
        await outcome(knex, press(1)),
        'accepted',
        'a request with the same value is another press',
      );
    });
  });

  it('move rows loaded before object tables existed into them, and back on the way down', async () => {
    await rollbackAll(knex);
    await knex.migrate.up();
    await knex.migrate.up();
    await knex.raw(FIXTURE);
    await knex.raw(`
      insert into rating_interaction (${BATCH_RATING}) values
        (1, 3, '2023-03-06 10:00:00+00', 'run-1', 's3://b/one', 1),
        (1, 4, '2023-03-06 10:00:01+00', 'run-1', 's3://b/one', 2),
        (1, 3, '2023-03-06 10:00:02+00', 'run-1', 's3://b/two''s', 1);
      insert into request_interaction (exhibition_id, request_value, event_at, run_id, source_object, source_line)
        values (1, 1, '2023-03-06 10:00:00+00', 'run-1', 's3://b/one', 3);
      insert into rating_interaction (${GOOD_RATING}) values (1, 0, '2023-03-06 11:00:00+00', 'run-1', 'lmnh', 0, 7);`);
    const everything = async () =>
      (
        await knex.raw<{ rows: unknown[] }>(
          `select 'rating' as kind, source_object, source_line, source_offset, rating_value as value, event_at
           from rating_interaction
           union all select 'request', source_object, source_line, source_offset, request_value, event_at
           from request_interaction order by 1, 2, 3, 4`,
        )
      ).rows;
    const before = await everything();
    assert.equal(before.length, 5);

    await knex.migrate.up();
    assert.deepEqual(await everything(), before);
    const placed = await knex.raw<{ rows: { tableoid: string; n: number }[] }>(
      `select tableoid::regclass::text as tableoid, count(*)::int as n from rating_interaction group by 1
       union all select tableoid::regclass::text, count(*)::int from request_interaction group by 1 order by 1`,
    );
    assert.deepEqual(
      placed.rows,
      [
        { tableoid: 'rating_interaction', n: 1 },
        { tableoid: objectTable('rating', 's3://b/one'), n: 2 },
        { tableoid: objectTable('rating', "s3://b/two's"), n: 1 },
        { tableoid: objectTable('request', 's3://b/one'), n: 1 },
      ].sort((a, b) => (a.tableoid < b.tableoid ? -1 : 1)),
    );
    const presses = await knex('accepted_batch_press').count<{ n: number }[]>({ n: '*' });
    assert.equal(presses[0]?.n, 4);

    await knex.migrate.down();
    assert.deepEqual(await everything(), before);
    const schemas = await knex.raw<{ rows: unknown[] }>(
      `select 1 from pg_namespace where nspname = 'batch_objects'`,
    );
    assert.equal(schemas.rows.length, 0);
    await rollbackAll(knex);
    await migrateLatest(knex);
  });

  it('record a cancelled run, and call it failed on the way down, keeping the row', async () => {
    await migrateLatest(knex);
    await knex('pipeline_run').insert([
      { run_id: 'run-cancelled', kind: 'batch', workflow_id: 'w1', source: 's3://b/', status: 'cancelled' },
      { run_id: 'run-done', kind: 'batch', workflow_id: 'w2', source: 's3://b/', status: 'completed' },
    ]);
    await assert.rejects(
      knex('pipeline_run').insert({
        run_id: 'r',
        kind: 'batch',
        workflow_id: 'w',
        source: 's',
        status: 'lost',
      }),
      /pipeline_run_status_check/,
    );
    await knex.migrate.down({ name: '20261130000300_run_cancelled' });
    const statuses = async () =>
      (
        await knex('pipeline_run')
          .orderBy('run_id')
          .select<{ run_id: string; status: string }[]>('run_id', 'status')
      ).map((r) => [r.run_id, r.status]);
    assert.deepEqual(await statuses(), [
      ['run-cancelled', 'failed'],
      ['run-done', 'completed'],
    ]);
    await assert.rejects(knex('pipeline_run').where({ run_id: 'run-done' }).update({ status: 'cancelled' }));
    await migrateLatest(knex);
    await knex('pipeline_run').where({ run_id: 'run-done' }).update({ status: 'cancelled' });
    await knex('pipeline_run').whereIn('run_id', ['run-cancelled', 'run-done']).delete();
  });
});
