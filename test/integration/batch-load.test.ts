// The batch's set-based steps on their own, against a real PostgreSQL: prepare and load of hand-made staging
// tables, so every rule and refusal can be set up exactly (the workflow suites cover the same code end to
// end on the real files).
import assert from 'node:assert/strict';
import pg from 'pg';
import { loadObject, prepareObject, preparedTable } from '../../activities/batch-load';
import { STAGING_COLUMNS, STAGING_DDL, stagingTableName } from '../../activities/batch-staging';
import type { BatchObject } from '../../activities/batch-types';
import { objectTable } from '../../activities/object-tables';
import { createDatabase, dropDatabase, isolatedConfig } from '../support/isolated-env';

const AT = Date.parse('2023-03-06T10:00:00Z');

/** A staging row: an accepted press (kind 0 rating, 1 request) or a reject. */
type Staged =
  | { line: number; site: number; kind: 0 | 1; value: number; atSecond: number }
  | { line: number; reasons: string[] };

function object(uri: string, etag = 'etag-1'): BatchObject {
  return { uri, name: uri, etag, size: 1, lastModified: '', source: 's3://b', unchangedSinceLoad: false };
}

describe('batch prepare and load (activities/batch-load.ts)', function () {
  const cfg = isolatedConfig('batch-load');
  let client: pg.Client;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    client = new pg.Client({ connectionString: cfg.databaseUrl });
    await client.connect();
    await client.query(`
      insert into floor (name) values ('1');
      insert into department (name) values ('Geology');
      insert into exhibition (site, public_id, name, floor_id, department_id, start_date)
        select s, 'EXH_0' || s, 'Exhibition ' || s, 1, 1, '2021-08-23' from generate_series(0, 2) s;
      insert into pipeline_run (run_id, kind, workflow_id, source)
        values ('run-1', 'batch', 'w', 's3://b'), ('run-2', 'batch', 'w', 's3://b');`);
  });
  after(async () => {
    await client?.end();
    await dropDatabase(cfg.databaseUrl);
  });

  async function stage(runId: string, uri: string, rows: Staged[]): Promise<string> {
    const table = stagingTableName(runId, uri);
    await client.query(STAGING_DDL(table));
    const values = rows.map((r) =>
      'reasons' in r
        ? `(${r.line}, null, null, null, null, '\\x${Buffer.from(`bad ${r.line}`).toString('hex')}', array[${r.reasons.map((x) => `'${x}'`).join(',')}], null)`
        : `(${r.line}, ${r.site}, ${r.kind}, ${r.value}, ${AT + r.atSecond * 1000}, '\\x${Buffer.from(`line ${r.line}`).toString('hex')}', null, null)`,
    );
    await client.query(`insert into ${table} ${STAGING_COLUMNS} values ${values.join(', ')}`);
    return table;
  }

  async function prepareAndLoad(runId: string, uri: string, rows: Staged[], etag?: string) {
    const table = await stage(runId, uri, rows);
    await prepareObject(client, runId, uri, table);
    return loadObject(client, runId, object(uri, etag), table);
  }

  /** Where every line of an object ended: [line, table kind, value or reasons]. */
  async function placed(uri: string): Promise<string[]> {
    const r = await client.query<{ row: string }>(
      `select source_line || ' rating ' || rating_value as row, source_line from rating_interaction where source_object = $1
       union all select source_line || ' request ' || request_value, source_line from request_interaction where source_object = $1
       union all select source_line || ' rejected ' || array_to_string(reasons, ',') || ' ' || convert_from(raw, 'UTF8'),
         source_line from rejected_interaction where source_object = $1
       order by source_line`,
      [uri],
    );
    return r.rows.map((x) => x.row);
  }

  it('accepts the first press of each natural key, rejects the rest as DUPLICATE, keeps every reject', async () => {
    const result = await prepareAndLoad('run-1', 's3://b/a.csv', [
      { line: 2, site: 0, kind: 0, value: 1, atSecond: 0 },
      { line: 3, site: 0, kind: 0, value: 1, atSecond: 0 }, // same press again
      { line: 4, site: 0, kind: 0, value: 4, atSecond: 0 }, // another value: another press
      { line: 5, site: 0, kind: 1, value: 1, atSecond: 0 }, // a request: another press
      { line: 6, site: 1, kind: 0, value: 1, atSecond: 0 }, // another exhibition
      { line: 7, reasons: ['BAD_SITE'] },
      { line: 8, site: 0, kind: 1, value: 1, atSecond: 0 }, // the request again
    ]);
    assert.deepEqual(await placed('s3://b/a.csv'), [
      '2 rating 1',
      '3 rejected DUPLICATE line 3',
      '4 rating 4',
      '5 request 1',
      '6 rating 1',
      '7 rejected BAD_SITE bad 7',
      '8 rejected DUPLICATE line 8',
    ]);
    const { read, loaded, rejected, rejectedByReason } = result;
    assert.deepEqual(
      { read, loaded, rejected, rejectedByReason },
      { read: 7, loaded: 4, rejected: 3, rejectedByReason: { BAD_SITE: 1, DUPLICATE: 2 } },
    );
    const tables = await client.query<{ t: string; n: number }>(
      `select tableoid::regclass::text as t, count(*)::int as n from rating_interaction group by 1`,
    );
    assert.deepEqual(tables.rows, [{ t: objectTable('rating', 's3://b/a.csv'), n: 3 }]);
  });

  it('rejects as DUPLICATE a press an earlier object took, and nothing else of the later object', async () => {
    await prepareAndLoad('run-1', 's3://b/b.csv', [
      { line: 2, site: 0, kind: 0, value: 1, atSecond: 0 }, // taken by a.csv line 2
      { line: 3, site: 0, kind: 0, value: 1, atSecond: 1 },
      { line: 4, site: 0, kind: 1, value: 1, atSecond: 0 }, // taken by a.csv line 5
    ]);
    assert.deepEqual(await placed('s3://b/b.csv'), [
      '2 rejected DUPLICATE line 2',
      '3 rating 1',
      '4 rejected DUPLICATE line 4',
    ]);
  });

  it('reprocessing an object replaces its rows and frees its presses for other objects', async () => {
    const result = await prepareAndLoad(
      'run-2',
      's3://b/a.csv',
      [{ line: 2, site: 2, kind: 0, value: 1, atSecond: 0 }],
      'etag-2',
    );
    assert.equal(result.read, 1);
    assert.deepEqual(await placed('s3://b/a.csv'), ['2 rating 1']);
    // b.csv's presses that a.csv had taken are free again: a reprocess of b.csv now accepts them.
    await prepareAndLoad(
      'run-2',
      's3://b/b.csv',
      [{ line: 2, site: 0, kind: 0, value: 1, atSecond: 0 }],
      'etag-2',
    );
    assert.deepEqual(await placed('s3://b/b.csv'), ['2 rating 1']);
    const leftovers = await client.query(
      `select tablename from pg_tables where schemaname in ('batch_objects', 'batch_staging')
         and (tablename like '%replaced' or schemaname = 'batch_staging')`,
    );
    assert.deepEqual(leftovers.rows, []);
    const presses = await client.query<{ n: number }>('select count(*)::int as n from accepted_batch_press');
    assert.equal(presses.rows[0]?.n, 2);
  });

  it('a repeated prepare replaces what the earlier attempt prepared', async () => {
    const rows: Staged[] = [
      { line: 2, site: 1, kind: 0, value: 0, atSecond: 9 },
      { line: 3, site: 1, kind: 0, value: 0, atSecond: 9 },
    ];
    const table = await stage('run-1', 's3://b/c.csv', rows);
    await prepareObject(client, 'run-1', 's3://b/c.csv', table);
    await prepareObject(client, 'run-1', 's3://b/c.csv', table);
    await loadObject(client, 'run-1', object('s3://b/c.csv'), table);
    assert.deepEqual(await placed('s3://b/c.csv'), ['2 rating 0', '3 rejected DUPLICATE line 3']);
  });

  it('refuses to load, changing nothing, when the extract must run again', async () => {
    const uri = 's3://b/d.csv';
    const rows: Staged[] = [{ line: 2, site: 1, kind: 0, value: 2, atSecond: 5 }];
    const table = await stage('run-1', uri, rows);
    await assert.rejects(loadObject(client, 'run-1', object(uri), table), /staged table .* is missing/);

    await prepareObject(client, 'run-1', uri, table);
    const prepared = preparedTable(table, 'rating');
    await client.query(`alter table ${prepared} drop constraint rating_run_fk`);
    await client.query(
      `alter table ${prepared} add constraint rating_run_fk foreign key (run_id) references pipeline_run not valid`,
    );
    await assert.rejects(loadObject(client, 'run-1', object(uri), table), /unchecked foreign keys/);
    assert.deepEqual(await placed(uri), []);

    await prepareObject(client, 'run-1', uri, table);
    await loadObject(client, 'run-1', object(uri), table);
    assert.deepEqual(await placed(uri), ['2 rating 2']);
  });

  it('refuses, at prepare, rows whose foreign keys do not hold (checked in bulk)', async () => {
    const uri = 's3://b/f.csv';
    const table = await stage('run-1', uri, [{ line: 2, site: 0, kind: 1, value: 3, atSecond: 3 }]);
    await assert.rejects(
      prepareObject(client, 'run-1', uri, table),
      /violates foreign key constraint "request_value_fk"/,
    );
    await assert.rejects(loadObject(client, 'run-1', object(uri), table), /unchecked foreign keys/);
    assert.deepEqual(await placed(uri), []);
  });

  it('refuses to commit an object that lost a row between extract and load', async () => {
    const uri = 's3://b/e.csv';
    const table = await stage('run-1', uri, [{ line: 2, site: 2, kind: 0, value: 2, atSecond: 7 }]);
    // The site's exhibition moves between the extract's judgement and the prepare: the join drops the row.
    await client.query(`update exhibition set site = 9 where site = 2`);
    try {
      await prepareObject(client, 'run-1', uri, table);
      await assert.rejects(loadObject(client, 'run-1', object(uri), table), /staged 1 rows but placed 0/);
      assert.deepEqual(await placed(uri), []);
    } finally {
      await client.query(`update exhibition set site = 2 where site = 9`);
    }
  });
});
