import { PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createKnex } from '../../../infra/db';
import { createS3Client } from '../../../infra/s3';
import { createBucketWith, deleteBucket, runBatch } from '../../support/batch';
import { actualBatchRows, expectedFromFiles } from '../../support/expected-batch';
import { createDatabase, dropDatabase, isolatedConfig, SHARED_DATA } from '../../support/isolated-env';
import { startTestWorker, type TestWorker } from '../../support/test-worker';

const HISTORY = [
  'lmnh_hist_data_0.csv',
  'lmnh_hist_data_1.csv',
  'lmnh_hist_data_2.csv',
  'lmnh_hist_data_3.csv',
];
const SITES = new Set([0, 1, 2, 3, 4, 5]);

function realFiles(uriOf: (name: string) => string) {
  return HISTORY.map((name) => ({
    uri: uriOf(name),
    text: fs.readFileSync(path.join(SHARED_DATA, name), 'utf8'),
  }));
}

async function tableSnapshot(knex: Knex) {
  type Row = Record<string, unknown>;
  const q = (table: string): Promise<Row[]> => knex(table).orderBy(1).select<Row[]>('*');
  return {
    ratings: await q('rating_interaction'),
    requests: await q('request_interaction'),
    rejects: await q('rejected_interaction').then((rows: Record<string, unknown>[]) =>
      rows.map(({ rejected_at: _ignored, ...rest }) => rest),
    ),
    exhibitions: await knex('exhibition')
      .orderBy('site')
      .select('site', 'public_id', 'name', 'floor_id', 'department_id', 'start_date'),
  };
}

describe('batch workflow: S3 to PostgreSQL on the real LMNH files', function () {
  const cfg = isolatedConfig('batch');
  const uriOf = (name: string) => `s3://${cfg.s3.bucket}/${name}`;
  const source = `s3://${cfg.s3.bucket}/`;
  let knex: Knex;
  let tw: TestWorker;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    await createBucketWith(cfg, SHARED_DATA);
    tw = await startTestWorker(cfg);
  });
  after(async () => {
    await tw?.stop();
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
    await deleteBucket(cfg);
  });

  it('loads every valid row once, rejects the rest with their reasons, and balances the ledger', async () => {
    const summary = await runBatch(tw.env.client, cfg, { source });
    const expected = expectedFromFiles(realFiles(uriOf), SITES);

    // Facts stated independently in ../shared/data/lmnh/SOURCES.md: 2,137 rows, 52 before 08:45, 6 repeated.
    assert.equal(summary.read, 2137);
    assert.deepEqual(summary.rejectedByReason, { DUPLICATE: 6, OUTSIDE_HOURS: 52 });
    assert.equal(summary.rejected, 58);
    assert.equal(summary.loaded, 2137 - 58);
    assert.equal(summary.read, summary.loaded + summary.rejected);
    assert.equal(summary.ratingRows + summary.assistanceRows + summary.emergencyRows, summary.loaded);
    assert.equal(summary.objects, 4);

    const actual = await actualBatchRows(knex);
    assert.deepEqual(actual.ratings, expected.ratings);
    assert.deepEqual(actual.requests, expected.requests);
    assert.deepEqual(actual.rejects, expected.rejects);
    assert.equal(summary.ratingRows, expected.ratings.length);
    assert.equal(summary.assistanceRows, expected.requests.filter((r) => r.value === 0).length);
    assert.equal(summary.emergencyRows, expected.requests.filter((r) => r.value === 1).length);

    const [run] = await knex('pipeline_run')
      .where({ run_id: summary.runId })
      .select<Record<string, unknown>[]>('*');
    assert.equal(run?.status, 'completed');
    assert.deepEqual(
      [run?.read_count, run?.loaded_count, run?.rejected_count, run?.rejected_by_reason],
      [2137, 2079, 58, { DUPLICATE: 6, OUTSIDE_HOURS: 52 }],
    );
    const objects = await knex('source_object')
      .orderBy('source_object')
      .select<{ source_object: string; read_count: number }[]>('source_object', 'read_count');
    assert.deepEqual(
      objects.map((o) => [o.source_object, o.read_count]),
      [
        [uriOf(HISTORY[0]!), 535],
        [uriOf(HISTORY[1]!), 534],
        [uriOf(HISTORY[2]!), 534],
        [uriOf(HISTORY[3]!), 534],
      ],
    );
  });

  it('upserts the exhibition catalogue from the metadata files, floors and departments included', async () => {
    const rows = await knex('exhibition as e')
      .join('floor as f', 'f.floor_id', 'e.floor_id')
      .join('department as d', 'd.department_id', 'e.department_id')
      .orderBy('e.site')
      .select(
        'e.site',
        'e.public_id',
        'e.name',
        'f.name as floor',
        'd.name as department',
        knex.raw("to_char(e.start_date, 'YYYY-MM-DD') as start"),
      );
    assert.deepEqual(rows, [
      {
        site: 0,
        public_id: 'EXH_00',
        name: 'Measureless to Man',
        floor: '1',
        department: 'Geology',
        start: '2021-08-23',
      },
      {
        site: 1,
        public_id: 'EXH_01',
        name: 'Adaptation',
        floor: 'Vault',
        department: 'Entomology',
        start: '2019-07-01',
      },
      {
        site: 2,
        public_id: 'EXH_02',
        name: 'The Crenshaw Collection',
        floor: '2',
        department: 'Zoology',
        start: '2021-03-03',
      },
      {
        site: 3,
        public_id: 'EXH_03',
        name: 'Cetacean Sensations',
        floor: '1',
        department: 'Zoology',
        start: '2019-07-01',
      },
      {
        site: 4,
        public_id: 'EXH_04',
        name: 'Our Polluted World',
        floor: '3',
        department: 'Ecology',
        start: '2021-05-12',
      },
      {
        site: 5,
        public_id: 'EXH_05',
        name: 'Thunder Lizards',
        floor: '1',
        department: 'Paleontology',
        start: '2023-02-01',
      },
    ]);
  });

  it('changes nothing when the same batch runs again', async () => {
    const before = await tableSnapshot(knex);
    const summary = await runBatch(tw.env.client, cfg, { source });
    assert.equal(summary.read, 0);
    assert.equal(summary.skipped, 4);
    assert.deepEqual(await tableSnapshot(knex), before);
  });

  it('reprocessing one object replaces its rows only', async () => {
    const before = await tableSnapshot(knex);
    const target = uriOf('lmnh_hist_data_2.csv');
    const summary = await runBatch(tw.env.client, cfg, {
      source,
      keys: ['lmnh_hist_data_2.csv'],
      reprocess: true,
    });
    assert.equal(summary.read, 534);
    const after = await tableSnapshot(knex);
    const others = (rows: Record<string, unknown>[]) => rows.filter((r) => r.source_object !== target);
    const mine = (rows: Record<string, unknown>[]) => rows.filter((r) => r.source_object === target);
    assert.deepEqual(others(after.ratings), others(before.ratings));
    assert.deepEqual(others(after.requests), others(before.requests));
    assert.deepEqual(others(after.rejects), others(before.rejects));
    assert.ok(mine(after.ratings).length > 0);
    assert.ok(mine(after.ratings).every((r) => r.run_id === summary.runId));
    const strip = (rows: Record<string, unknown>[]) =>
      rows.map(
        ({
          rating_interaction_id: _a,
          request_interaction_id: _b,
          rejected_interaction_id: _c,
          run_id: _d,
          ...rest
        }) => rest,
      );
    assert.deepEqual(strip(mine(after.ratings)), strip(mine(before.ratings)));
    assert.deepEqual(strip(mine(after.rejects)), strip(mine(before.rejects)));
    const expected = expectedFromFiles(realFiles(uriOf), SITES);
    assert.deepEqual((await actualBatchRows(knex)).ratings, expected.ratings);
  });

  it('rejects every line of malformed files, keeping the raw bytes, and still balances', async () => {
    const s3 = createS3Client(cfg.s3);
    const badHeader = 'when,where,what\n2023-03-06 10:00:00,1,3\n';
    const brokenLines = Buffer.concat([
      Buffer.from('at,site,val,type\n2023-03-06 10:00:00,1,3,\n'),
      Buffer.from('2023-03-06 10:00:01,1,3\n'), // a column short
      Buffer.from('"2023-03-06 10:00:02,1,3,\n'), // unclosed quote
      Buffer.from([0xff, 0xfe, 0x2c, 0x31, 0x2c, 0x33, 0x2c, 0x0a]), // invalid UTF-8
      Buffer.from('\n'), // an empty line
      Buffer.from('2023-03-06 10:00:03,1,INF,\r\n2023-03-06 10:00:04,9,-1,2.0'), // CRLF, no final newline
    ]);
    await s3.send(new PutObjectCommand({ Bucket: cfg.s3.bucket, Key: 'zz_bad_header.csv', Body: badHeader }));
    await s3.send(
      new PutObjectCommand({ Bucket: cfg.s3.bucket, Key: 'zz_broken_lines.csv', Body: brokenLines }),
    );
    s3.destroy();

    const summary = await runBatch(tw.env.client, cfg, {
      source,
      keys: ['zz_bad_header.csv', 'zz_broken_lines.csv'],
    });
    assert.equal(summary.read, 2 + 7);
    assert.equal(summary.loaded, 1);
    const rejects = await knex('rejected_interaction')
      .whereIn('source_object', [uriOf('zz_bad_header.csv'), uriOf('zz_broken_lines.csv')])
      .orderBy(['source_object', 'source_line'])
      .select('source_object', 'source_line', 'reasons', 'raw');
    assert.deepEqual(
      rejects.map((r: { source_object: string; source_line: number; reasons: string[]; raw: Buffer }) => [
        path.posix.basename(r.source_object),
        r.source_line,
        r.reasons,
        r.raw.toString('hex'),
      ]),
      [
        ['zz_bad_header.csv', 1, ['MALFORMED'], Buffer.from('when,where,what').toString('hex')],
        ['zz_bad_header.csv', 2, ['MALFORMED'], Buffer.from('2023-03-06 10:00:00,1,3').toString('hex')],
        ['zz_broken_lines.csv', 3, ['MALFORMED'], Buffer.from('2023-03-06 10:00:01,1,3').toString('hex')],
        ['zz_broken_lines.csv', 4, ['MALFORMED'], Buffer.from('"2023-03-06 10:00:02,1,3,').toString('hex')],
        ['zz_broken_lines.csv', 5, ['BAD_AT'], 'fffe2c312c332c'],
        ['zz_broken_lines.csv', 6, ['MALFORMED'], ''],
        ['zz_broken_lines.csv', 7, ['BAD_VAL'], Buffer.from('2023-03-06 10:00:03,1,INF,').toString('hex')],
        [
          'zz_broken_lines.csv',
          8,
          ['UNKNOWN_SITE', 'BAD_TYPE'],
          Buffer.from('2023-03-06 10:00:04,9,-1,2.0').toString('hex'),
        ],
      ],
    );
  });

  it('fails fast with a clear reason when the source does not exist', async () => {
    await assert.rejects(
      runBatch(tw.env.client, cfg, { source: 's3://no-such-bucket-kiosk/' }),
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        const activityFailure = err.cause as Error & { cause?: Error };
        assert.match(activityFailure.cause?.message ?? '', /bucket 'no-such-bucket-kiosk' does not exist/);
        return true;
      },
    );
    await assert.rejects(runBatch(tw.env.client, cfg, { source, keys: ['nope.csv'] }), WorkflowFailedError);
  });
});

describe('batch workflow: a local folder as the source', function () {
  const cfg = isolatedConfig('batch-file');
  let knex: Knex;
  let tw: TestWorker;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    tw = await startTestWorker(cfg);
  });
  after(async () => {
    await tw?.stop();
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  it('loads the same rows from file:// as from S3', async () => {
    const source = pathToFileURL(SHARED_DATA).href;
    const summary = await runBatch(tw.env.client, cfg, { source });
    assert.equal(summary.read, 2137);
    const expected = expectedFromFiles(
      realFiles((name) => pathToFileURL(path.join(SHARED_DATA, name)).href),
      SITES,
    );
    assert.deepEqual(await actualBatchRows(knex), expected);
  });
});
