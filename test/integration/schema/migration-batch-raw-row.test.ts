// The two steps that keep an accepted batch line's raw bytes in its own row, on a database loaded by each
// release in turn: the expand step 20261207000500 (a raw column, written beside batch_line) and the contract
// step 20261207000600 (batch_line renamed batch_line_archive, no longer written). Every step up and down keeps
// the rows; rows loaded before the contract step stay demotable with the archive's raw bytes; the way down
// from the contract step writes back the batch_line rows the new mode did not, so batch_line mode finds
// every line it expects.
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createKnex } from '../../../infra/db';
import { loadObject } from '../../../batch/load';
import { ensureMonths, monthsAround } from '../../../batch/partitions';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';
import { referenceSeed } from '../../support/reference-seed';
import {
  assertDuplicateExact,
  assertRawKept,
  registeredPresses,
  stagedObject,
  stagedRaw,
  stageLines,
  type StagedLine,
} from '../../support/batch';

const EXPAND = '20261207000500_interaction_raw';
const CONTRACT = '20261207000600_batch_line_archive';

/** Valid lines over a small key space, so objects share keys: site, kind, value and second from the line. */
const lines = (n: number, shift: number): StagedLine[] =>
  Array.from({ length: n }, (_, i) => ({
    line: i + 2,
    site: (i + shift) % 2,
    kind: (i + shift) % 3 === 0 ? 1 : 0,
    value: (i + shift) % 2,
    atSecond: (i + shift) % 4,
  }));

describe(`migrations ${EXPAND} and ${CONTRACT}: raw bytes in the rows`, function () {
  const cfg = isolatedConfig('batch-raw-row');
  let knex: Knex;
  let client: pg.Client;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    client = new pg.Client({ connectionString: cfg.databaseUrl });
    await client.connect();
    await client.query(
      referenceSeed({ exhibitions: 2, runs: [{ runId: 'run-1', kind: 'batch', source: 's3://b' }] }),
    );
  });
  after(async () => {
    await client?.end();
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  const load = async (uri: string, staged: StagedLine[], etag = 'etag-1') => {
    const { stem, staged: counts } = await stageLines(client, 'run-1', uri, staged);
    return loadObject(client, 'run-1', stagedObject(uri, etag), stem, counts);
  };
  const rows = async (sql: string) => (await knex.raw<{ rows: unknown[] }>(sql)).rows;
  /** Every batch row and reject with its raw bytes, and the object counts: what no step may change. */
  const everything = () =>
    rows(`select 'rating' as t, source_object, source_line, exhibition_id, rating_value as v, event_at, run_id
          from rating_interaction
          union all select 'request', source_object, source_line, exhibition_id, request_value, event_at, run_id
          from request_interaction
          union all select 'reject ' || array_to_string(reasons, ',') || ' ' || encode(raw, 'escape'),
            source_object, source_line, null, null, null, run_id from rejected_interaction
          union all select 'object ' || read_count || '=' || loaded_count || '+' || rejected_count,
            source_object, null, null, null, null, run_id from source_object
          order by 2, 3, 1`);
  /** Each registered line with its raw bytes, from wherever the registry keeps them. */
  const registered = async () =>
    rows(`select source_object, source_line, encode(raw, 'escape') as raw
          from (${await registeredPresses(knex)}) p order by 1, 2`);
  const expectedRaw = (r: unknown[]) =>
    (r as { source_object: string; source_line: number }[]).map((x) => ({
      ...x,
      raw: stagedRaw(x.source_object, x.source_line),
    }));
  const rowRaw = () =>
    rows(`select source_object, source_line, encode(raw, 'escape') as raw from rating_interaction
          union all select source_object, source_line, encode(raw, 'escape') from request_interaction
          order by 1, 2`);
  /** The schema in production before the two steps, whatever the test before left. */
  const beforeExpand = async () => {
    while ((await knex('knex_migrations').pluck('name')).includes(EXPAND)) await knex.migrate.down();
  };
  const exists = async (table: string) =>
    ((await rows(`select to_regclass('${table}') is not null as e`))[0] as { e: boolean }).e;

  it('adds the column, archives batch_line, and gives batch_line back whole on the way down', async () => {
    await beforeExpand();
    // Loaded by the release before the expand step.
    await load('s3://b/b.csv', lines(12, 0));
    await load('s3://b/d.csv', lines(6, 1));
    const before = await everything();

    await knex.migrate.up({ name: EXPAND });
    assert.deepEqual(await everything(), before);
    const partitions =
      await rows(`select count(*)::int as n from pg_attribute a join pg_class c on c.oid = a.attrelid
      where a.attname = 'raw' and not a.attisdropped and c.relname ~ '^(rating|request)_interaction'`);
    assert.ok((partitions[0] as { n: number }).n >= 4, 'the column reaches the partitions');
    await knex.migrate.down({ name: EXPAND });
    assert.deepEqual(await everything(), before);
    await knex.migrate.up({ name: EXPAND });

    // The expand phase: a's rows keep their raw bytes in the rows and in batch_line; b's lose keys to a.
    await load('s3://b/a.csv', lines(5, 2));
    await assertDuplicateExact(knex);
    await assertRawKept(knex);
    assert.deepEqual(await registered(), expectedRaw(await registered()));
    const inRows = (await rowRaw()) as { source_object: string; raw: string | null }[];
    assert.ok(inRows.some((r) => r.source_object === 's3://b/a.csv'));
    for (const r of inRows) {
      assert.equal(r.raw === null, r.source_object !== 's3://b/a.csv', `${JSON.stringify(r)}`);
    }

    const expanded = await everything();
    const lineRows = await rows('select * from batch_line order by source_object, source_line');
    await knex.migrate.up({ name: CONTRACT });
    assert.deepEqual([await exists('batch_line'), await exists('batch_line_archive')], [false, true]);
    assert.deepEqual(
      await rows('select * from batch_line_archive order by source_object, source_line'),
      lineRows,
    );
    assert.deepEqual(await everything(), expanded);

    const duplicatesOfOldRows = async () =>
      (
        (await rows(`select count(*)::int as n from rejected_interaction where reasons = '{DUPLICATE}'
          and source_object in ('s3://b/b.csv', 's3://b/d.csv')`)) as { n: number }[]
      )[0]!.n;
    const oldDuplicates = await duplicatesOfOldRows();
    // After the contract step: c.csv takes keys that b.csv (raw bytes in the archive only) and a.csv (in its
    // rows) hold; a reprocess of a.csv with fewer lines frees keys, promoted from the rejects with their bytes.
    await load('s3://b/c.csv', lines(10, 3));
    await load('s3://b/B.csv', lines(8, 1));
    await load('s3://b/a.csv', lines(2, 2), 'etag-2');
    await assertDuplicateExact(knex);
    await assertRawKept(knex);
    assert.deepEqual(await registered(), expectedRaw(await registered()));
    assert.ok(
      (await duplicatesOfOldRows()) > oldDuplicates,
      'rows loaded before the contract step were demoted',
    );
    assert.deepEqual(
      await rows(`select count(*)::int as n from batch_line_archive where source_object not in
        ('s3://b/b.csv', 's3://b/d.csv')`),
      [{ n: 0 }],
    );
    const contracted = await everything();
    const registeredBefore = await registered();

    // Down: batch_line again, with every registered line's raw bytes, as batch_line mode expects.
    await knex.migrate.down({ name: CONTRACT });
    assert.deepEqual([await exists('batch_line'), await exists('batch_line_archive')], [true, false]);
    assert.deepEqual(await everything(), contracted);
    assert.deepEqual(await registered(), registeredBefore);
    assert.deepEqual(
      await rows(`select source_object, source_line, encode(raw, 'escape') as raw from batch_line
                  order by 1, 2`),
      registeredBefore,
    );
    // And batch_line mode loads on it: c.csv reprocessed gives its keys back, then takes them again.
    await load('s3://b/c.csv', [], 'etag-2');
    await load('s3://b/c.csv', lines(10, 3), 'etag-3');
    await assertDuplicateExact(knex);
    await assertRawKept(knex);
    assert.deepEqual(
      await everything(),
      contracted.map((r) => r),
    );
    const back = await everything();

    // The whole way down and up again keeps every row.
    await knex.migrate.down({ name: EXPAND });
    assert.deepEqual(await everything(), back);
    await knex.migrate.up({ name: EXPAND });
    await knex.migrate.up({ name: CONTRACT });
    assert.deepEqual(await everything(), back);
    await assertDuplicateExact(knex);
  });

  it('waits out a transaction that writes the tables, with short lock attempts, then adds the column', async () => {
    await beforeExpand();
    const writer = new pg.Client({ connectionString: cfg.databaseUrl });
    await writer.connect();
    try {
      // A stream transaction in flight: its table lock outlasts several of the migration's attempts.
      await writer.query('begin');
      await writer.query('lock table rating_interaction in row exclusive mode');
      let done = false;
      const up = knex.migrate.up({ name: EXPAND }).finally(() => {
        done = true;
      });
      const attempts = async () =>
        (
          (await rows(`select count(*)::int as n from pg_stat_activity
            where query like 'lock table rating_interaction, request_interaction%'`)) as { n: number }[]
        )[0]!.n;
      let seen = 0;
      for (let i = 0; i < 100 && seen === 0; i++) {
        seen = await attempts();
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(seen > 0, 'the migration tried to lock the tables');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(done, false, 'the migration waits while the tables are held');
      await writer.query('commit');
      await up;
      assert.deepEqual(
        await rows(`select count(*)::int as n from pg_attribute
        where attrelid = 'rating_interaction'::regclass and attname = 'raw' and not attisdropped`),
        [{ n: 1 }],
      );
    } finally {
      await writer.end();
    }
    await knex.migrate.up({ name: CONTRACT });
  });

  it('runs the expand step beside a batch_line load in flight, which commits first', async () => {
    await beforeExpand();
    const before = await everything();
    const loader = new pg.Client({ connectionString: cfg.databaseUrl });
    await loader.connect();
    try {
      // Every key its own, and two lines again at the end: 40,000 rows, 2 DUPLICATE rejects.
      const unique = lines(40_000, 5).map((l, i) => ({ ...l, atSecond: 100 + i }));
      const big = [...unique, ...unique.slice(0, 2).map((l, i) => ({ ...l, line: 40_002 + i }))];
      const uri = 's3://b/e.csv';
      const { stem, staged } = await stageLines(loader, 'run-1', uri, big);
      // Its months made first: the only batch lock to wait for is then the load's own transaction's.
      await ensureMonths(loader, ['2023-03-01', ...monthsAround(new Date())]);
      let loaded = false;
      const load = loadObject(loader, 'run-1', stagedObject(uri), stem, staged).finally(() => {
        loaded = true;
      });
      for (let i = 0; i < 400; i++) {
        const held = await rows(`select 1 from pg_locks where locktype = 'advisory' and granted`);
        if (held.length > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const expand = knex.migrate.up({ name: EXPAND });
      assert.equal(loaded, false, 'the load should still be running (make the object bigger)');
      const result = await load;
      await expand;
      assert.deepEqual([result.loaded, result.rejected], [unique.length, 2]);
      // The load judged and wrote as the release before the expand step: every line in batch_line.
      assert.deepEqual(
        await rows(`select count(*)::int as n, count(raw)::int as raw from (
          select raw from rating_interaction where source_object = '${uri}'
          union all select raw from request_interaction where source_object = '${uri}') r`),
        [{ n: unique.length, raw: 0 }],
      );
      assert.equal(
        (
          (await rows(`select count(*)::int as n from batch_line where source_object = '${uri}'`)) as {
            n: number;
          }[]
        )[0]!.n,
        big.length,
      );
      await assertDuplicateExact(knex);
      await assertRawKept(knex);
      assert.equal((await everything()).length, before.length + big.length + 1);
    } finally {
      await loader.end();
    }
    await knex.migrate.up({ name: CONTRACT });
  });
});
