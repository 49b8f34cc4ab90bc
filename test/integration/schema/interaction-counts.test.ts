// Migration 20261130000801: interaction_count built from existing rows (up and down), kept exact by its
// triggers (their bodies as 20261207000200 rewrote them) through every kind of write on both London clock
// changes, under concurrent writers in READ COMMITTED that never wait for each other; and the report read
// from it equals the report computed from the rows. 20261207000200's down restores 20261130000801's bodies.
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createKnex } from '../../../infra/db';
import { migrateLatest } from '../../../infra/migrate';
import { ensureMonths } from '../../../batch/partitions';
import { loadReportData } from '../../../report/data';
import { requestsByExhibitionHour } from '../../../report/queries';
import { parseDateRange } from '../../../report/range';
import { closeActivityDeps, createActivityDeps, type ActivityDeps } from '../../../infra/activity-deps';
import { createStreamActivities } from '../../../stream/load';
import { readReplayValues } from '../../../simulator/kiosk-publishing';
import { createBucketWith, deleteBucket, runBatch } from '../../support/batch';
import { createDatabase, dropDatabase, isolatedConfig, SHARED_DATA } from '../../support/isolated-env';
import { referenceSeed } from '../../support/reference-seed';
import { SAMPLE_FILE } from '../../support/stream';
import { startTestWorker, type TestWorker } from '../../support/test-worker';
import { countMismatches, figuresFromRows } from '../../support/report-from-rows';

const NAME = '20261130000801_interaction_counts';
const LEAN = '20261207000200_interaction_count_lean_triggers';
// The first days of March and of October 2023 the rows start from: each span crosses a London clock change
// (26 March, 29 October) and a month's end.
const SPRING = '2023-03-25 22:40:00+00';
const AUTUMN = '2023-10-25 22:40:00+00';

/** `n` stream rows of one kind from `offset` on, spread over instants around London midnights and 1 pm. */
function streamRows(
  kind: 'rating' | 'request',
  offset: number,
  n: number,
  exhibitions: number[],
  from = SPRING,
): string {
  const value = kind === 'rating' ? 'rating_value' : 'request_value';
  const values = kind === 'rating' ? 5 : 2;
  return `insert into ${kind}_interaction (exhibition_id, ${value}, event_at, run_id, source_topic,
            source_partition, source_offset)
          select (array[${exhibitions.join(',')}])[1 + (g * 7) % ${exhibitions.length}], (g * 3) % ${values},
                 timestamptz '${from}' + (g % 400) * interval '37 minutes 13 seconds',
                 'run-s', 'lmnh', 0, g
          from generate_series(${offset}, ${offset + n - 1}) g`;
}

async function figuresAgree(knex: Knex, ranges: [string?, string?][]): Promise<void> {
  for (const [from, to] of ranges) {
    const range = parseDateRange(from, to);
    const report = await loadReportData(knex, range);
    const rows = await figuresFromRows(knex, range);
    assert.deepEqual(
      {
        overview: report.overview,
        exhibitions: report.exhibitions,
        floors: report.floors,
        departments: report.departments,
        hours: report.hours,
        cells: await requestsByExhibitionHour(knex, range),
      },
      {
        overview: rows.overview,
        exhibitions: rows.exhibitions,
        floors: rows.floors,
        departments: rows.departments,
        hours: rows.hours,
        cells: rows.cells,
      },
      `${from}..${to}`,
    );
  }
}

/** The source of the insert, delete and update functions of both kinds' triggers. */
async function triggerBodies(knex: Knex): Promise<Record<string, string>> {
  const r = await knex.raw<{ rows: { name: string; body: string }[] }>(
    `select proname as name, prosrc as body from pg_proc
     where proname ~ '^interaction_count_(rating|request)_(insert|delete|update)$' order by proname`,
  );
  assert.equal(r.rows.length, 6);
  return Object.fromEntries(r.rows.map((f) => [f.name, f.body]));
}

const RANGES: [string?, string?][] = [
  [],
  ['2023-03-26', '2023-03-26'],
  ['2023-03-01', '2023-04-30'],
  ['2023-03-20', '2023-05-02'],
  ['2023-04-01', '2023-04-30'],
  [undefined, '2023-04-15'],
  ['2023-04-15'],
];

describe('interaction_count (migration 20261130000801 and its triggers)', function () {
  const cfg = isolatedConfig('interaction-counts');
  let knex: Knex;
  let exhibitions: number[];

  before(async () => {
    await createDatabase(cfg.databaseUrl, false);
    knex = createKnex(cfg.databaseUrl, 8);
    await migrateLatest(knex);
    await knex.raw(
      referenceSeed({
        exhibitions: 4,
        floors: ['1', 'Vault'],
        departments: ['Geology', 'Zoology'],
        runs: [{ runId: 'run-s', kind: 'stream', source: 'kafka://lmnh' }],
      }),
    );
    exhibitions = (await knex('exhibition').orderBy('site').pluck('exhibition_id')) as number[];
    const client = new pg.Client({ connectionString: cfg.databaseUrl });
    await client.connect();
    await ensureMonths(client, [
      '2023-03-01',
      '2023-04-01',
      '2023-05-01',
      '2023-10-01',
      '2023-11-01',
    ]).finally(() => client.end());
  });
  after(async () => {
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });
  afterEach(async () => {
    await knex.raw('truncate rating_interaction, request_interaction');
  });

  it('is built from the rows already there, and dropped on the way down keeping them', async () => {
    await knex.migrate.down({ name: LEAN });
    await knex.migrate.down({ name: NAME });
    await knex.raw(streamRows('rating', 0, 700, exhibitions));
    await knex.raw(streamRows('request', 0, 150, exhibitions));
    await knex.migrate.up({ name: NAME });
    assert.deepEqual(await countMismatches(knex), []);
    const counted = await knex('interaction_count').count<{ n: string }[]>({ n: '*' });
    assert.ok(Number(counted[0]?.n) > 0);
    await figuresAgree(knex, RANGES);

    await knex.migrate.down({ name: NAME });
    const left = await knex.raw<{ rows: { t: string | null; r: number; q: number }[] }>(
      `select to_regclass('interaction_count')::text as t,
              (select count(*)::int from rating_interaction) as r, (select count(*)::int from request_interaction) as q`,
    );
    assert.deepEqual(left.rows[0], { t: null, r: 700, q: 150 });
    // Rows written while it is down are counted when it comes back.
    await knex.raw(streamRows('rating', 700, 50, exhibitions));
    await knex.migrate.up({ name: NAME });
    assert.deepEqual(await countMismatches(knex), []);
    await knex.migrate.up({ name: LEAN });
  });

  it("keeps the counts exact through 20261207000200's bodies, up and down, and restores the first ones", async () => {
    await knex.migrate.down({ name: LEAN });
    await knex.migrate.down({ name: NAME });
    await knex.raw(streamRows('rating', 0, 300, exhibitions, AUTUMN));
    await knex.migrate.up({ name: NAME });
    const first = await triggerBodies(knex);
    const writes = async (offset: number) => {
      await knex.raw(streamRows('rating', offset, 200, exhibitions, AUTUMN));
      await knex.raw(streamRows('request', offset, 80, exhibitions));
      await knex.raw(
        `delete from rating_interaction where source_offset % 7 = 0 and source_offset < ${offset}`,
      );
      await knex.raw(`update request_interaction set request_value = 1 - request_value,
        event_at = event_at + interval '1 hour 3 minutes' where source_offset % 4 = 1`);
      assert.deepEqual(await countMismatches(knex), []);
    };
    await writes(1000);

    await knex.migrate.up({ name: LEAN });
    const lean = await triggerBodies(knex);
    for (const [name, body] of Object.entries(lean)) assert.notEqual(body, first[name], name);
    assert.deepEqual(await countMismatches(knex), []);
    await writes(2000);
    await figuresAgree(knex, [[], ['2023-10-29', '2023-10-29'], ['2023-10-01', '2023-11-30']]);

    await knex.migrate.down({ name: LEAN });
    assert.deepEqual(await triggerBodies(knex), first);
    assert.deepEqual(await countMismatches(knex), []);
    await writes(3000);
    await knex.migrate.up({ name: LEAN });
    assert.deepEqual(await triggerBodies(knex), lean);
    await writes(4000);
  });

  for (const [season, from, ranges] of [
    ['spring', SPRING, RANGES],
    [
      'autumn',
      AUTUMN,
      [[], ['2023-10-29', '2023-10-29'], ['2023-10-01', '2023-11-30'], ['2023-10-28', '2023-11-02']],
    ],
  ] as [string, string, [string?, string?][]][]) {
    it(`follows inserts, deletes, updates and truncates (the ${season} clock change)`, async () => {
      await knex.raw(streamRows('rating', 0, 400, exhibitions, from));
      await knex.raw(streamRows('request', 0, 100, exhibitions, from));
      assert.deepEqual(await countMismatches(knex), []);
      await knex.raw(`delete from rating_interaction where source_offset % 3 = 0`);
      assert.deepEqual(await countMismatches(knex), []);
      // Value, exhibition and instant (across a London midnight and a month) changed in place.
      await knex.raw(`update rating_interaction set rating_value = (rating_value + 1) % 5,
      exhibition_id = ${exhibitions[0]}, event_at = event_at + interval '5 hours 17 minutes'
      where source_offset % 5 = 1`);
      assert.deepEqual(await countMismatches(knex), []);
      await figuresAgree(knex, ranges);
      await knex.raw('truncate rating_interaction');
      assert.deepEqual(await countMismatches(knex), []);
      const left = await knex.raw<{ rows: { ratings: number; requests: number }[] }>(
        `select coalesce(sum(r0 + r1 + r2 + r3 + r4), 0)::int as ratings,
              coalesce(sum(assistance + emergencies), 0)::int as requests
       from interaction_count where grain = 'd'`,
      );
      assert.deepEqual(left.rows[0], { ratings: 0, requests: 100 });
      await knex.raw('truncate request_interaction');
      const rows = await knex('interaction_count').count<{ n: string }[]>({ n: '*' });
      assert.equal(Number(rows[0]?.n), 0, 'nothing left once both tables are empty');
    });
  }

  it('leaves the counts alone when a month is made and its rows move out of the DEFAULT partition', async () => {
    await knex.raw(`
      insert into rating_interaction (exhibition_id, rating_value, event_at, run_id, source_topic,
        source_partition, source_offset)
      values (${exhibitions[1]}, 2, '2019-05-10 12:00:00+00', 'run-s', 'lmnh', 0, 9000),
             (${exhibitions[2]}, 4, '2019-05-31 23:30:00+00', 'run-s', 'lmnh', 0, 9001)`);
    const client = new pg.Client({ connectionString: cfg.databaseUrl });
    await client.connect();
    await ensureMonths(client, ['2019-05-01']).finally(() => client.end());
    assert.deepEqual(await countMismatches(knex), []);
    await figuresAgree(knex, [['2019-05-01', '2019-06-01']]);
  });

  it('stays exact under concurrent writers that never wait for each other, committed or rolled back', async () => {
    // Each writer inserts, deletes and updates the same keys (the same London hours) in READ COMMITTED,
    // statement after statement with the others' in between; a third of them roll back.
    const writers = 6;
    const statements = 8;
    const clients = await Promise.all(
      Array.from({ length: writers }, async () => {
        const c = new pg.Client({ connectionString: cfg.databaseUrl });
        await c.connect();
        // A writer that had to wait for another's row lock would fail here instead of waiting.
        await c.query(`set lock_timeout = '300ms'`);
        return c;
      }),
    );
    try {
      await Promise.all(
        clients.map(async (c, w) => {
          await c.query('begin');
          for (let s = 0; s < statements; s++) {
            const offset = (w * statements + s) * 100;
            await c.query(streamRows(s % 2 === 0 ? 'rating' : 'request', offset, 100, exhibitions));
            if (s % 3 === 2) {
              await c.query(`delete from rating_interaction where source_offset between $1 and $2`, [
                offset - 200,
                offset - 150,
              ]);
            }
            if (s % 4 === 3) {
              await c.query(
                `update request_interaction set request_value = 1 - request_value
                 where source_offset between $1 and $2`,
                [offset - 50, offset],
              );
            }
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          await c.query(w % 3 === 0 ? 'rollback' : 'commit');
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    const stored = await knex.raw<{ rows: { n: number }[] }>(
      `select (select count(*) from rating_interaction) + (select count(*) from request_interaction) as n`,
    );
    assert.ok(Number(stored.rows[0]?.n) > 0);
    assert.deepEqual(await countMismatches(knex), []);
    await figuresAgree(knex, RANGES);
    // Folding keeps a key to a few rows however many statements wrote it.
    const widest = await knex.raw<{ rows: { n: number }[] }>(
      `select max(n)::int as n from (select count(*) as n from interaction_count group by grain, day, exhibition_id, hour) k`,
    );
    assert.ok(widest.rows[0]!.n <= writers, `at most one row per writer for a key, got ${widest.rows[0]!.n}`);
  });
});

describe('the report after batch, stream and a reprocess running alongside the stream', function () {
  const cfg = isolatedConfig('counts-pipeline');
  let knex: Knex;
  let tw: TestWorker;
  let deps: ActivityDeps;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    await createBucketWith(cfg, SHARED_DATA);
    tw = await startTestWorker(cfg);
    deps = createActivityDeps(cfg);
  });
  after(async () => {
    await tw?.stop();
    await closeActivityDeps(deps);
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
    await deleteBucket(cfg);
  });

  it('equals the figures computed from the rows, and the counts equal a count of the rows', async () => {
    const first = await runBatch(tw.env.client, cfg, { source: `s3://${cfg.s3.bucket}/` });
    assert.equal(first.loaded, 2079);
    const stream = createStreamActivities(deps);
    const values = readReplayValues(SAMPLE_FILE);
    const streamInto = async (partition: number, from: number, to: number) => {
      for (let offset = from; offset < to; offset += 250) {
        const messages = values.slice(offset, Math.min(offset + 250, to)).map((v, i) => ({
          offset: offset + i,
          value: v.toString('base64'),
          timestamp: Date.parse('2026-11-30T12:00:00Z'),
        }));
        await stream.loadStreamMessages({
          ledgerRunId: `stream-lmnh-${partition}/run-1`,
          workflowId: `stream-lmnh-${partition}`,
          topic: 'lmnh',
          partition,
          messages,
        });
      }
    };
    await streamInto(0, 0, 2000);
    // Two partitions of the stream write while every object is reprocessed (its rows deleted and written
    // again, DUPLICATE judged again).
    const [reprocess] = await Promise.all([
      runBatch(tw.env.client, cfg, { source: `s3://${cfg.s3.bucket}/`, reprocess: true }),
      streamInto(0, 2000, 4000),
      streamInto(1, 4000, values.length),
    ]);
    assert.equal(reprocess.loaded, 2079);
    assert.deepEqual(await countMismatches(knex), []);
    const days = await knex.raw<{ rows: { d: string }[] }>(
      `select to_char(min(day), 'YYYY-MM-DD') as d from interaction_count where grain = 'd'
       union all select to_char(max(day), 'YYYY-MM-DD') from interaction_count where grain = 'd'`,
    );
    const [firstDay, lastDay] = days.rows.map((r) => r.d);
    assert.ok(firstDay !== undefined && lastDay !== undefined && firstDay < lastDay);
    await figuresAgree(knex, [[], [firstDay, firstDay], [lastDay, lastDay], [firstDay, lastDay]]);
    const report = await loadReportData(knex, {});
    assert.ok(
      report.overview.ratings + report.overview.requests > 2079,
      'batch and stream rows both counted',
    );
  });
});
