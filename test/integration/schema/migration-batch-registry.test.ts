// The contract step 20261207000400 on a database with rows: batch_press's lines move to batch_line (raw bytes)
// and batch_duplicate (the lines not accepted), batch_press goes, and the way down gives it back row for row,
// with its index. A batch_press that disagrees with the interaction tables is refused, nothing changed.
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createKnex } from '../../../infra/db';
import { migrateLatest } from '../../../infra/migrate';
import { ensureMonths } from '../../../batch/partitions';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';
import { referenceSeed } from '../../support/reference-seed';

const CONTRACT = '20261207000400_drop_batch_press';
const A = 's3://b/a.csv';
const B = 's3://b/b.csv';

describe(`migration ${CONTRACT}: the registry without batch_press`, function () {
  const cfg = isolatedConfig('batch-registry');
  let knex: Knex;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    // The database as the expand phase leaves it, then loaded by releases that write batch_press (the later
    // migrations undone first).
    while ((await knex('knex_migrations').pluck('name')).includes(CONTRACT)) await knex.migrate.down();
    const client = new pg.Client({ connectionString: cfg.databaseUrl });
    await client.connect();
    try {
      await ensureMonths(client, ['2023-03-01']);
    } finally {
      await client.end();
    }
    await knex.raw(
      referenceSeed({
        exhibitions: 2,
        runs: [
          { runId: 'run-1', kind: 'batch', source: 's3://b' },
          { runId: 'stream-1', kind: 'stream', source: 'lmnh' },
        ],
      }),
    );
    const t0 = '2023-03-06T10:00:00Z';
    const t1 = '2023-03-06T10:00:01Z';
    // a: K accepted (line 2), a request (3), K again (4, DUPLICATE), a bad site (5). b: K (2, DUPLICATE) and
    // a press moved in from the per-object tables without raw bytes (3). The stream has K too.
    for (const sql of [
      `insert into rating_interaction (exhibition_id, rating_value, event_at, run_id, source_object, source_line)
         values (1, 3, '${t0}', 'run-1', '${A}', 2), (2, 1, '${t1}', 'run-1', '${B}', 3)`,
      `insert into rating_interaction (exhibition_id, rating_value, event_at, run_id, source_topic,
         source_partition, source_offset) values (1, 3, '${t0}', 'stream-1', 'lmnh', 0, 1)`,
      `insert into request_interaction (exhibition_id, request_value, event_at, run_id, source_object, source_line)
         values (1, 0, '${t1}', 'run-1', '${A}', 3)`,
      `insert into rejected_interaction (raw, reasons, run_id, source_object, source_line) values
         ('a4', '{DUPLICATE}', 'run-1', '${A}', 4), ('a5', '{BAD_SITE}', 'run-1', '${A}', 5),
         ('b2', '{DUPLICATE}', 'run-1', '${B}', 2)`,
      `insert into batch_press (kind, exhibition_id, event_at, value, source_object, source_line, raw) values
         (0, 1, '${t0}', 3, '${A}', 2, 'a2'), (1, 1, '${t1}', 0, '${A}', 3, 'a3'),
         (0, 1, '${t0}', 3, '${A}', 4, 'a4'), (0, 1, '${t0}', 3, '${B}', 2, 'b2'),
         (0, 2, '${t1}', 1, '${B}', 3, null)`,
    ]) {
      await knex.raw(sql);
    }
  });
  after(async () => {
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  // This contract step alone: the ones after it build on it.
  const upToContract = async () => ((await knex.migrate.up({ name: CONTRACT })) as [number, string[]])[1];
  const rows = async (sql: string) => (await knex.raw<{ rows: unknown[] }>(sql)).rows;
  const presses = () =>
    rows(`select kind, exhibition_id, event_at, value, source_object, source_line, encode(raw, 'escape') as raw
          from batch_press order by source_object, source_line`);
  const pressShape = () =>
    rows(`select (select array_agg(attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull
                    order by attnum) from pg_attribute
                  where attrelid = 'batch_press'::regclass and attnum > 0 and not attisdropped) as columns,
                 (select array_agg(pg_get_indexdef(indexrelid) order by 1) from pg_index
                  where indrelid = 'batch_press'::regclass) as indexes,
                 (select array_agg(pg_get_constraintdef(oid) order by 1) from pg_constraint
                  where conrelid = 'batch_press'::regclass) as constraints`);
  const exists = async (table: string) =>
    (await rows(`select to_regclass('${table}') is not null as e`))[0] as { e: boolean };

  it('moves batch_press to batch_line and batch_duplicate, and back down row for row', async () => {
    const before = await presses();
    assert.equal(before.length, 5);
    const shape = await pressShape();

    assert.deepEqual(await upToContract(), [CONTRACT]);
    assert.deepEqual(await exists('batch_press'), { e: false });
    assert.deepEqual(
      await rows(`select source_object, source_line, encode(raw, 'escape') as raw from batch_line
                  order by source_object, source_line`),
      [
        { source_object: A, source_line: 2, raw: 'a2' },
        { source_object: A, source_line: 3, raw: 'a3' },
        { source_object: A, source_line: 4, raw: 'a4' },
        { source_object: B, source_line: 2, raw: 'b2' },
        { source_object: B, source_line: 3, raw: null },
      ],
    );
    assert.deepEqual(
      await rows(`select kind, exhibition_id, value, source_object, source_line from batch_duplicate
                  order by source_object, source_line`),
      [
        { kind: 0, exhibition_id: 1, value: 3, source_object: A, source_line: 4 },
        { kind: 0, exhibition_id: 1, value: 3, source_object: B, source_line: 2 },
      ],
    );

    await knex.migrate.down({ name: CONTRACT });
    assert.deepEqual(await presses(), before);
    assert.deepEqual(await pressShape(), shape);
    assert.deepEqual(
      await rows('select source_object from batch_line union all select source_object from batch_duplicate'),
      [],
    );
  });

  it('refuses, changing nothing, when an accepted batch row is not in batch_press', async () => {
    await knex.raw(`delete from batch_press where source_object = ? and source_line = 3`, [A]);
    try {
      const before = await presses();
      await assert.rejects(
        migrateLatest(knex),
        /batch_press has 4 lines, but the interaction tables hold 3 batch rows \(1 of them not in batch_press\).*nothing was changed/,
      );
      assert.deepEqual(await presses(), before);
      assert.deepEqual(await rows('select * from batch_line'), []);
      assert.ok(!(await knex('knex_migrations').pluck('name')).includes(CONTRACT));
    } finally {
      await knex.raw(
        `insert into batch_press (kind, exhibition_id, event_at, value, source_object, source_line, raw)
         values (1, 1, '2023-03-06T10:00:01Z', 0, ?, 3, 'a3')`,
        [A],
      );
    }
    assert.deepEqual(await upToContract(), [CONTRACT]);
  });
});
