import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { createKnex } from '../../../infra/db';
import { dropEverything, migrateLatest, rollbackAll } from '../../../infra/migrate';
import pg from 'pg';
import { ensureMonths, monthsAround } from '../../../batch/partitions';
import { overview } from '../../../report/queries';
import { parseDateRange } from '../../../report/range';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';
import { referenceSeed } from '../../support/reference-seed';

const TABLES = [
  'batch_duplicate',
  'batch_line_archive',
  'department',
  'exhibition',
  'floor',
  'interaction_count',
  'pipeline_run',
  'rating',
  'rating_interaction',
  'reject_reason',
  'rejected_interaction',
  'request',
  'request_interaction',
  'source_object',
  'stream_topic_incarnation',
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
    `select relname as table_name from pg_class
     where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') and not relispartition
       and relname not like 'knex_%' order by relname`,
  );
  return r.rows.map((x) => x.table_name);
}

async function foreignKeys(knex: Knex): Promise<string[]> {
  const r = await knex.raw<{ rows: { fk: string }[] }>(
    `select c.conrelid::regclass || '.' || a.attname || ' -> ' || c.confrelid::regclass as fk
     from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
     where c.contype = 'f' and c.connamespace = 'public'::regnamespace and c.conparentid = 0 order by 1`,
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

const FIXTURE = referenceSeed({
  exhibitions: ['Measureless to Man'],
  runs: [{ runId: 'run-1', kind: 'batch', workflowId: 'batch-test', source: 'test' }],
});

const rating = (cols: string, values: string) =>
  `insert into rating_interaction (${cols}) values (${values})`;
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
    'the same batch press from two objects',
    rating(
      BATCH_RATING,
      `1, 3, '2023-03-06 10:00:00+00', 'run-1', 's3://b/k', 1), (1, 3, '2023-03-06 10:00:00+00', 'run-1', 's3://b/j', 1`,
    ),
    UNIQUE,
  ],
  [
    'the same source line twice',
    rating(
      BATCH_RATING,
      `1, 3, '2023-03-06 10:00:00+00', 'run-1', 's3://b/k', 1), (1, 4, '2023-03-06 10:00:00+00', 'run-1', 's3://b/k', 1`,
    ),
    UNIQUE,
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
        // The key holds event_at too (partitioned tables need it): an offset always yields the same instant.
        await outcome(knex, rating(GOOD_RATING, `1, 4, '2023-03-06 10:00:00+00', 'run-1', 'lmnh', 0, 1`)),
        UNIQUE,
      );
    });
  });

  describe('interaction tables partitioned by month of event_at', function () {
    const partitionsOf = async (parent: string) =>
      (
        await knex.raw<{ rows: { p: string }[] }>(
          `select c.relname as p from pg_inherits i join pg_class c on c.oid = i.inhrelid
           where i.inhparent = ?::regclass order by 1`,
          [parent],
        )
      ).rows.map((r) => r.p);

    it('keep a row of a month without a partition in the DEFAULT one, moved out when the month is made', async () => {
      await knex.raw(rating(GOOD_RATING, `1, 3, '2019-05-06 10:00:00+00', 'run-1', 'lmnh', 0, 50`));
      const where = async () =>
        (
          await knex.raw<{ rows: { t: string }[] }>(
            `select tableoid::regclass::text as t from rating_interaction where source_offset = 50`,
          )
        ).rows;
      assert.deepEqual(await where(), [{ t: 'rating_interaction_pdefault' }]);
      const client = new pg.Client({ connectionString: cfg.databaseUrl });
      await client.connect();
      try {
        await ensureMonths(client, ['2019-05-01']);
        await ensureMonths(client, ['2019-05-01']); // a second call finds it made
      } finally {
        await client.end();
      }
      assert.deepEqual(await where(), [{ t: 'rating_interaction_p2019_05' }]);
      assert.ok((await partitionsOf('request_interaction')).includes('request_interaction_p2019_05'));
    });

    it('read only the partitions of a date range', async () => {
      const plan = await knex.raw<{ rows: { 'QUERY PLAN': string }[] }>(
        `explain select count(*) from rating_interaction
         where event_at >= '2019-05-10 00:00:00+00' and event_at < '2019-05-12 00:00:00+00'`,
      );
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      const scanned = (await partitionsOf('rating_interaction')).filter((p) => text.includes(p));
      assert.deepEqual(scanned, ['rating_interaction_p2019_05']);
    });

    it("let the report's queries read only the months of its date range", async () => {
      // The report's own statement, run again under EXPLAIN ANALYZE: partitions it read show actual rows. It
      // sums interaction_count and reads rows of the range's first and last day with data (6 May) only.
      const RANGE: [string, string] = ['2019-05-06', '2019-05-11'];
      let captured: string | undefined;
      const capture = (q: { sql: string }) => {
        captured = q.sql;
      };
      knex.on('query', capture);
      try {
        await overview(knex, parseDateRange(...RANGE));
      } finally {
        knex.off('query', capture);
      }
      assert.ok(captured);
      // The event's SQL is in PostgreSQL's own form ($1, $2): the dates go back in as literals.
      const sql = captured.replace(/\$(\d)/g, (_, n: string) => `'${RANGE[Number(n) - 1]}'`);
      const plan = await knex.raw<{ rows: { 'QUERY PLAN': string }[] }>(
        `explain (analyze, costs off, timing off, summary off) ${sql}`,
      );
      const partition = / on (\w+_interaction_p(?:\d{4}_\d{2}|default))\b(?!_)/;
      const read = [
        ...new Set(
          plan.rows
            .map((r) => r['QUERY PLAN'])
            .filter((line) => partition.test(line) && !line.includes('never executed'))
            .map((line) => partition.exec(line)![1]),
        ),
      ].sort();
      assert.deepEqual(read, ['rating_interaction_p2019_05', 'request_interaction_p2019_05']);
    });
  });

  it('move rows, rejects and ledger from the per-object tables into month partitions, and back down', async () => {
    await rollbackAll(knex);
    await knex.migrate.up();
    await knex.migrate.up();
    await knex.raw(FIXTURE);
    await knex.raw(`
      insert into rating_interaction (${BATCH_RATING}) values
        (1, 3, '2023-03-06 10:00:00+00', 'run-1', 's3://b/one', 1),
        (1, 4, '2023-04-06 10:00:01+00', 'run-1', 's3://b/one', 2),
        (1, 3, '2023-03-06 10:00:02+00', 'run-1', 's3://b/two''s', 1);
      insert into request_interaction (exhibition_id, request_value, event_at, run_id, source_object, source_line)
        values (1, 1, '2023-03-06 10:00:00+00', 'run-1', 's3://b/one', 3);
      insert into rating_interaction (${GOOD_RATING}) values (1, 0, '2023-03-06 11:00:00+00', 'run-1', 'lmnh', 0, 7);
      insert into rejected_interaction (raw, reasons, run_id, source_object, source_line)
        values ('\\x00ff'::bytea, '{DUPLICATE}', 'run-1', 's3://b/two''s', 2);
      insert into source_object (source_object, etag, size_bytes, run_id, read_count, loaded_count, rejected_count)
        values ('s3://b/one', 'e1', 10, 'run-1', 3, 3, 0), ('s3://b/two''s', 'e2', 10, 'run-1', 2, 1, 1);
      update pipeline_run set read_count = 6, loaded_count = 5, rejected_count = 1 where run_id = 'run-1';`);
    await knex.migrate.up(); // per-object tables
    await knex.migrate.up(); // reject reasons
    const everything = async () =>
      (
        await knex.raw<{ rows: unknown[] }>(
          `select 'rating' as kind, rating_interaction_id as id, source_object, source_line, source_offset,
             rating_value as value, event_at::text, run_id
           from rating_interaction
           union all select 'request', request_interaction_id, source_object, source_line, source_offset,
             request_value, event_at::text, run_id
           from request_interaction
           union all select 'reject ' || array_to_string(reasons, ','), rejected_interaction_id, source_object,
             source_line, source_offset, null, encode(raw, 'hex'), run_id
           from rejected_interaction
           union all select 'object ' || etag, read_count * 100 + loaded_count * 10 + rejected_count,
             source_object, null, null, null, null, run_id from source_object
           union all select 'run', read_count * 100 + loaded_count * 10 + rejected_count, null, null, null,
             null, status, run_id from pipeline_run
           order by 1, 2`,
        )
      ).rows;
    const placed = async () =>
      (
        await knex.raw<{ rows: { t: string; n: number }[] }>(
          `select tableoid::regclass::text as t, count(*)::int as n from rating_interaction group by 1
           union all select tableoid::regclass::text, count(*)::int from request_interaction group by 1
           order by 1`,
        )
      ).rows;
    const before = await everything();
    assert.equal(before.length, 9);
    const placedBefore = await placed();
    assert.equal(placedBefore.filter((p) => p.t.startsWith('batch_objects.')).length, 3);

    await knex.migrate.up();
    assert.deepEqual(await everything(), before);
    assert.deepEqual(await placed(), [
      { t: 'rating_interaction_p2023_03', n: 3 },
      { t: 'rating_interaction_p2023_04', n: 1 },
      { t: 'request_interaction_p2023_03', n: 1 },
    ]);
    const presses = await knex('batch_press').whereNull('raw').count<{ n: number }[]>({ n: '*' });
    assert.equal(presses[0]?.n, 4);
    const schemas = await knex.raw<{ rows: unknown[] }>(
      `select 1 from pg_namespace where nspname = 'batch_objects'`,
    );
    assert.equal(schemas.rows.length, 0);

    await knex.migrate.down();
    assert.deepEqual(await everything(), before);
    assert.deepEqual(await placed(), placedBefore);
    await rollbackAll(knex);
    await migrateLatest(knex);
  });

  it('reset (db reset) drops every table a few at a time, month partitions included, and migrates again', async () => {
    await knex.raw(FIXTURE);
    const months = Array.from({ length: 60 }, (_, i) =>
      new Date(Date.UTC(2015, i, 1)).toISOString().slice(0, 10),
    );
    const client = new pg.Client({ connectionString: cfg.databaseUrl });
    await client.connect();
    try {
      await ensureMonths(client, months);
    } finally {
      await client.end();
    }
    await knex.raw(rating(GOOD_RATING, `1, 3, '2016-05-06 10:00:00+00', 'run-1', 'lmnh', 0, 1`));
    await dropEverything(knex);
    assert.deepEqual(await userTables(knex), []);
    await migrateLatest(knex);
    assert.deepEqual(await userTables(knex), TABLES);
    const rows = await knex('rating_interaction').count<{ n: number }[]>({ n: '*' });
    assert.equal(rows[0]?.n, 0);
    const partitions = await knex.raw<{ rows: { p: string }[] }>(
      `select c.relname as p from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'rating_interaction'::regclass order by 1`,
    );
    const expected = monthsAround(new Date()).map(
      (m) => `rating_interaction_p${m.slice(0, 7).replace('-', '_')}`,
    );
    assert.deepEqual(
      partitions.rows.map((r) => r.p),
      [...expected, 'rating_interaction_pdefault'].sort(),
    );
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
