// The batch's load step on its own, against a real PostgreSQL: hand-made staging tables, so every rule,
// re-judgement and refusal can be set up exactly (the workflow suites cover the chain end to end on the
// real files).
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Knex } from 'knex';
import { loadObject } from '../../../batch/load';
import { overview } from '../../../report/queries';
import { parseDateRange } from '../../../report/range';
import { createKnex } from '../../../infra/db';
import { PRESSES_SQL, RAW_DDL, JUDGED_DDL, stagedTables, stagingTableName } from '../../../batch/staging';
import { createDatabase, dropDatabase, isolatedConfig } from '../../support/isolated-env';
import { referenceSeed } from '../../support/reference-seed';
import {
  registeredPresses,
  stageLines,
  STAGED_AT as AT,
  stagedObject as object,
  stagedRaw as rawOf,
  type StagedLine as Line,
} from '../../support/batch';

// The migration each registry's database is taken back to before: batch_press's contract step
// 20261207000400, batch_line's 20261207000600 (the expand phase: batch_line written beside the rows' raw).
const UNDONE = {
  row: undefined,
  batch_line: '20261207000600_batch_line_archive',
  batch_press: '20261207000400_drop_batch_press',
};

// Every test runs on the three registries: batch_press, batch_line, and the rows' own raw bytes ('row').
for (const registry of ['row', 'batch_line', 'batch_press'] as const)
  describe(`batch load (batch/load.ts), registry ${registry}`, function () {
    const cfg = isolatedConfig(
      `batch-load-${{ row: 'row', batch_line: 'line', batch_press: 'press' }[registry]}`,
    );
    let client: pg.Client;
    let knex: Knex;

    before(async () => {
      // A linguistic collation, where 'B.csv' sorts after 'a.csv': object keys must still compare bytewise.
      await createDatabase(
        cfg.databaseUrl,
        true,
        `template template0 locale_provider icu icu_locale 'en-US'`,
      );
      client = new pg.Client({ connectionString: cfg.databaseUrl });
      await client.connect();
      const order = await client.query<{ linguistic: boolean }>(`select 'B.csv' > 'a.csv' as linguistic`);
      assert.equal(order.rows[0]?.linguistic, true);
      knex = createKnex(cfg.databaseUrl, 1);
      const undone = UNDONE[registry];
      if (undone !== undefined) {
        while ((await knex('knex_migrations').pluck('name')).includes(undone)) await knex.migrate.down();
      }
      await client.query(
        referenceSeed({
          exhibitions: 3,
          runs: ['run-1', 'run-2', 'run-3'].map((runId) => ({ runId, kind: 'batch', source: 's3://b' })),
        }),
      );
    });
    after(async () => {
      await knex?.destroy();
      await client?.end();
      await dropDatabase(cfg.databaseUrl);
    });
    afterEach(async () => {
      await client.query(`truncate rating_interaction, request_interaction, rejected_interaction, source_object,
      ${{ batch_press: 'batch_press', batch_line: 'batch_line, batch_duplicate', row: 'batch_line_archive, batch_duplicate' }[registry]}`);
    });

    const stage = (runId: string, uri: string, lines: Line[]) => stageLines(client, runId, uri, lines);

    /** Every registered line (object and line), and each line's raw bytes from where the load keeps them. */
    async function registered(): Promise<string[]> {
      const r = await client.query<{ l: string }>(
        `select source_object || ' ' || source_line as l from (${await registeredPresses(knex)}) p`,
      );
      return r.rows.map((x) => x.l).sort();
    }

    /**
     * The raw bytes of every registered line, where the registry keeps them, and (from the expand step
     * 20261207000500 on) of every accepted row in the row itself, are the line's as staged.
     */
    async function assertRawExact(): Promise<void> {
      const rawOfEach = async (sql: string) =>
        (
          await client.query<{ source_object: string; source_line: number; raw: string | null }>(
            `select source_object, source_line, convert_from(raw, 'UTF8') as raw from (${sql}) p order by 1, 2`,
          )
        ).rows;
      const lines = await rawOfEach(await registeredPresses(knex));
      assert.deepEqual(
        lines.map((l) => l.raw),
        lines.map((l) => rawOf(l.source_object, l.source_line)),
        'raw bytes of the registered lines',
      );
      if (registry === 'batch_press') return;
      // After the contract step, a row loaded before it has its raw bytes in the archive instead.
      const own = (parent: string) =>
        registry === 'row'
          ? `select source_object, source_line, coalesce(t.raw, a.raw) as raw from ${parent} t
             left join batch_line_archive a using (source_object, source_line) where source_object is not null`
          : `select source_object, source_line, raw from ${parent} where source_object is not null`;
      const rows = await rawOfEach(`${own('rating_interaction')} union all ${own('request_interaction')}`);
      assert.deepEqual(
        rows.map((l) => l.raw),
        rows.map((l) => rawOf(l.source_object, l.source_line)),
        'raw bytes of the accepted rows',
      );
    }

    async function stageAndLoad(runId: string, uri: string, lines: Line[], etag?: string) {
      const { stem, staged } = await stage(runId, uri, lines);
      return loadObject(client, runId, object(uri, etag), stem, staged);
    }

    /** Every batch row of every table, as [object line: where, value or reasons, raw]. */
    async function tables(): Promise<string[]> {
      const r = await client.query<{ row: string }>(
        `select source_object || ' ' || source_line || ' rating ' || rating_value as row from rating_interaction
         where source_object is not null
       union all select source_object || ' ' || source_line || ' request ' || request_value from request_interaction
         where source_object is not null
       union all select source_object || ' ' || source_line || ' rejected ' || array_to_string(reasons, ',')
         || ' ' || convert_from(raw, 'UTF8') from rejected_interaction where source_object is not null
       order by 1`,
      );
      return r.rows.map((x) => x.row);
    }

    /** Per-object counts, which must follow every re-judgement. */
    async function objectCounts(): Promise<string[]> {
      const r = await client.query<{ row: string }>(
        `select source_object || ' ' || read_count || '=' || loaded_count || '+' || rejected_count as row
       from source_object order by 1`,
      );
      return r.rows.map((x) => x.row);
    }

    const A: Line[] = [
      { line: 2, site: 0, kind: 0, value: 1, atSecond: 0 },
      { line: 3, site: 0, kind: 0, value: 1, atSecond: 0 }, // same press again
      { line: 4, site: 0, kind: 0, value: 4, atSecond: 0 }, // another value: another press
      { line: 5, site: 0, kind: 1, value: 1, atSecond: 0 }, // a request: another press
      { line: 6, site: 1, kind: 0, value: 1, atSecond: 0 }, // another exhibition
      { line: 7, reasons: ['BAD_SITE'] },
      { line: 8, site: 0, kind: 1, value: 1, atSecond: 0 }, // the request again
    ];
    const B: Line[] = [
      { line: 2, site: 0, kind: 0, value: 1, atSecond: 0 }, // a.csv line 2's press
      { line: 3, site: 0, kind: 0, value: 1, atSecond: 1 },
      { line: 4, site: 0, kind: 1, value: 1, atSecond: 0 }, // a.csv line 5's press
    ];
    const CLEAN = [
      's3://b/a.csv 2 rating 1',
      's3://b/a.csv 3 rejected DUPLICATE a.csv line 3',
      's3://b/a.csv 4 rating 4',
      's3://b/a.csv 5 request 1',
      's3://b/a.csv 6 rating 1',
      's3://b/a.csv 7 rejected BAD_SITE a.csv line 7',
      's3://b/a.csv 8 rejected DUPLICATE a.csv line 8',
      's3://b/b.csv 2 rejected DUPLICATE b.csv line 2',
      's3://b/b.csv 3 rating 1',
      's3://b/b.csv 4 rejected DUPLICATE b.csv line 4',
    ];

    it('accepts the first press of each natural key, the lower object first, and keeps raw bytes of rejects', async () => {
      const result = await stageAndLoad('run-1', 's3://b/a.csv', A);
      const { read, loaded, rejected, rejectedByReason } = result;
      assert.deepEqual(
        { read, loaded, rejected, rejectedByReason },
        { read: 7, loaded: 4, rejected: 3, rejectedByReason: { BAD_SITE: 1, DUPLICATE: 2 } },
      );
      await stageAndLoad('run-1', 's3://b/b.csv', B);
      assert.deepEqual(await tables(), CLEAN);
      assert.deepEqual(await objectCounts(), ['s3://b/a.csv 7=4+3', 's3://b/b.csv 3=1+2']);
      await assertRawExact();
    });

    it('ends with the same tables whichever object loads first (the higher one gives its presses up)', async () => {
      await stageAndLoad('run-1', 's3://b/b.csv', B);
      assert.deepEqual(await objectCounts(), ['s3://b/b.csv 3=3+0']);
      const result = await stageAndLoad('run-1', 's3://b/a.csv', A);
      assert.equal(result.flipped, 2);
      assert.deepEqual(await tables(), CLEAN);
      await assertRawExact();
      assert.deepEqual(await objectCounts(), ['s3://b/a.csv 7=4+3', 's3://b/b.csv 3=1+2']);
      // A reprocess with the same presses leaves b.csv's rows alone (not freed, then taken back).
      const rowsOfB = async () =>
        (
          await client.query<{ id: string; source_line: number }>(
            `select rejected_interaction_id as id, source_line from rejected_interaction
           where source_object = 's3://b/b.csv' order by 2`,
          )
        ).rows;
      const before = await rowsOfB();
      const again = await stageAndLoad('run-2', 's3://b/a.csv', A, 'etag-2');
      assert.equal(again.flipped, 0);
      assert.deepEqual(await rowsOfB(), before);
      assert.deepEqual(await tables(), CLEAN);
    });

    it('a reprocess that frees a press gives it to the next object, raw bytes and counts following', async () => {
      await stageAndLoad('run-1', 's3://b/a.csv', A);
      await stageAndLoad('run-1', 's3://b/b.csv', B);
      // a.csv, reprocessed, no longer holds line 2's press (nor line 5's): b.csv's lines take them.
      await stageAndLoad(
        'run-2',
        's3://b/a.csv',
        [{ line: 2, site: 2, kind: 0, value: 1, atSecond: 0 }],
        'etag-2',
      );
      assert.deepEqual(await tables(), [
        's3://b/a.csv 2 rating 1',
        's3://b/b.csv 2 rating 1',
        's3://b/b.csv 3 rating 1',
        's3://b/b.csv 4 request 1',
      ]);
      assert.deepEqual(await objectCounts(), ['s3://b/a.csv 1=1+0', 's3://b/b.csv 3=3+0']);
      // b.csv's promoted rows stay b.csv's run's.
      const runs = await client.query(
        `select distinct run_id from rating_interaction where source_object = 's3://b/b.csv'`,
      );
      assert.deepEqual(runs.rows, [{ run_id: 'run-1' }]);
      await assertRawExact();

      // And back: a reprocess of a.csv that takes the presses again makes b.csv's rows DUPLICATE once more.
      await stageAndLoad('run-3', 's3://b/a.csv', A, 'etag-3');
      assert.deepEqual(await tables(), CLEAN);
      assert.deepEqual(await objectCounts(), ['s3://b/a.csv 7=4+3', 's3://b/b.csv 3=1+2']);
      assert.equal((await registered()).length, 9);
      await assertRawExact();
    });

    if (registry === 'row')
      it('demotes a row loaded before the contract step with the raw bytes batch_line_archive keeps', async () => {
        await stageAndLoad('run-1', 's3://b/b.csv', B);
        // As the contract step leaves rows an earlier release loaded: their raw bytes only in the archive.
        for (const parent of ['rating_interaction', 'request_interaction']) {
          await client.query(`
            with moved as (update ${parent} set raw = null where source_object = 's3://b/b.csv'
                           returning source_object, source_line, convert_to(
                             substr(source_object, 8) || ' line ' || source_line, 'UTF8') as raw)
            insert into batch_line_archive select * from moved`);
        }
        assert.equal((await client.query('select * from batch_line_archive')).rows.length, 3);
        await stageAndLoad('run-1', 's3://b/a.csv', A);
        assert.deepEqual(await tables(), CLEAN);
        await assertRawExact();
        // b.csv's line that is still accepted keeps its raw bytes in the archive until b.csv is loaded again.
        await stageAndLoad('run-2', 's3://b/b.csv', B, 'etag-2');
        assert.deepEqual(await tables(), CLEAN);
        assert.deepEqual((await client.query('select * from batch_line_archive')).rows, []);
        await assertRawExact();
      });

    it('after any sequence of loads and reprocesses, equals one clean run of the current versions', async () => {
      // A seeded walk: 4 objects over a small key space (many shared presses), each step loads a new version
      // of one of them. The expected tables follow from SPEC 3 alone: the lowest (object key, line) of each
      // natural key is accepted, every other valid line is a DUPLICATE reject.
      let seed = 20261130;
      const random = (n: number) => {
        // xorshift32: enough spread for a test's choices, and the same walk every run.
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) % n;
      };
      const uris = ['s3://b/a.csv', 's3://b/b.csv', 's3://b/B.csv', 's3://b/c.csv'];
      // Two seconds of one month and one of the next: loads judge across month partitions.
      const SECONDS = [0, 1, 26 * 86_400];
      const versions = new Map<string, Line[]>();
      const runOf = new Map<string, string>();
      // Stream rows with the walk's keys: never part of DUPLICATE, never touched by a batch load.
      await client.query(`
      insert into pipeline_run (run_id, kind, workflow_id, source) values ('stream-1', 'stream', 'w', 'lmnh')
        on conflict do nothing;
      insert into rating_interaction (exhibition_id, rating_value, event_at, run_id, source_topic,
        source_partition, source_offset)
        select e.exhibition_id, v, to_timestamp(${AT / 1000}) + s * interval '1 second', 'stream-1', 'lmnh', 0,
          row_number() over ()
        from exhibition e, generate_series(0, 1) v, unnest(array[${SECONDS.join(', ')}]) s where e.site < 2`);
      const streamRows = async () =>
        (
          await client.query<{ row: string }>(
            `select rating_interaction_id || ' ' || exhibition_id || ' ' || event_at || ' ' || rating_value as row
           from rating_interaction where source_topic is not null order by 1`,
          )
        ).rows.map((r) => r.row);
      const streamBefore = await streamRows();
      assert.equal(streamBefore.length, 12);
      const expected = () => {
        const keyOf = (l: Extract<Line, { site: number }>) => `${l.kind} ${l.site} ${l.atSecond} ${l.value}`;
        const holders = new Map<string, [string, number]>();
        for (const uri of [...versions.keys()].sort((x, y) =>
          Buffer.compare(Buffer.from(x), Buffer.from(y)),
        )) {
          for (const l of versions.get(uri)!) {
            if ('site' in l && !holders.has(keyOf(l))) holders.set(keyOf(l), [uri, l.line]);
          }
        }
        const rows: string[] = [];
        const counts: string[] = [];
        for (const [uri, lines] of versions) {
          let loaded = 0;
          for (const l of lines) {
            if (!('site' in l)) {
              rows.push(`${uri} ${l.line} rejected ${l.reasons.join(',')} ${rawOf(uri, l.line)}`);
            } else if (holders.get(keyOf(l))?.join(' ') === `${uri} ${l.line}`) {
              rows.push(`${uri} ${l.line} ${l.kind === 0 ? 'rating' : 'request'} ${l.value}`);
              loaded++;
            } else {
              rows.push(`${uri} ${l.line} rejected DUPLICATE ${rawOf(uri, l.line)}`);
            }
          }
          counts.push(`${uri} ${lines.length}=${loaded}+${lines.length - loaded}`);
        }
        return { rows: rows.sort(), counts: counts.sort() };
      };
      for (let step = 0; step < 40; step++) {
        const uri = uris[random(uris.length)]!;
        const lines: Line[] = Array.from({ length: random(9) }, (_, i) =>
          random(10) === 0
            ? { line: i + 2, reasons: ['BAD_SITE'] }
            : {
                line: i + 2,
                site: random(2),
                kind: random(2) as 0 | 1,
                value: random(2),
                atSecond: SECONDS[random(3)]!,
              },
        );
        versions.set(uri, lines);
        runOf.set(uri, `run-${1 + (step % 3)}`);
        await stageAndLoad(runOf.get(uri)!, uri, lines, `etag-${step}`);
        const want = expected();
        assert.deepEqual((await tables()).sort(), want.rows, `after step ${step} (${uri})`);
        assert.deepEqual((await objectCounts()).sort(), want.counts, `counts after step ${step} (${uri})`);
        // The registry: every valid line; batch_duplicate the DUPLICATE lines only.
        const lineOf = (row: string) => row.split(' ').slice(0, 2).join(' ');
        const listed = async (sql: string) =>
          (await client.query<{ l: string }>(sql)).rows.map((r) => r.l).sort();
        assert.deepEqual(
          await registered(),
          want.rows.filter((r) => !/ rejected (?!DUPLICATE )/.test(r)).map(lineOf),
          `registry after step ${step}`,
        );
        await assertRawExact();
        if (registry !== 'batch_press') {
          assert.deepEqual(
            await listed(`select source_object || ' ' || source_line as l from batch_duplicate`),
            want.rows.filter((r) => / rejected DUPLICATE /.test(r)).map(lineOf),
            `batch_duplicate after step ${step}`,
          );
        }
        // Every row, accepted or rejected, promoted or demoted, stays its own object's run's.
        const runs = await client.query<{ source_object: string; run_id: string }>(
          `select distinct source_object, run_id from (
           select source_object, run_id from rating_interaction union all
           select source_object, run_id from request_interaction union all
           select source_object, run_id from rejected_interaction) r where source_object is not null`,
        );
        for (const r of runs.rows)
          assert.equal(r.run_id, runOf.get(r.source_object), `run of ${r.source_object}`);
      }
      assert.deepEqual(await streamRows(), streamBefore);
    });

    it('a retry after the commit reports the object without loading it again', async () => {
      const first = await stageAndLoad('run-1', 's3://b/a.csv', A);
      const { stem, staged } = await stage('run-1', 's3://b/a.csv', []);
      const again = await loadObject(client, 'run-1', object('s3://b/a.csv'), stem, staged);
      assert.deepEqual({ ...again, flipped: 0 }, { ...first, flipped: 0 });
      assert.deepEqual((await tables()).length, 7);
    });

    it('loads a presses table staged without raw bytes (by an earlier release) from the raw table', async () => {
      const { stem, staged } = await stage('run-1', 's3://b/a.csv', A);
      await client.query(`alter table ${stagedTables(stem).presses} drop column raw`);
      await loadObject(client, 'run-1', object('s3://b/a.csv'), stem, staged);
      await stageAndLoad('run-1', 's3://b/b.csv', B);
      assert.deepEqual(await tables(), CLEAN);
      await assertRawExact();
    });

    it('refuses, changing nothing, when staging is gone or emptied (a crash): the chain must run again', async () => {
      await stageAndLoad('run-1', 's3://b/a.csv', A);
      const before = await tables();
      const { stem, staged } = await stage('run-2', 's3://b/a.csv', [
        { line: 2, site: 1, kind: 0, value: 2, atSecond: 5 },
      ]);
      const t = stagedTables(stem);
      await client.query(`truncate ${t.judged}`); // what a restart does to an unlogged table
      await assert.rejects(loadObject(client, 'run-2', object('s3://b/a.csv', 'etag-2'), stem, staged), {
        type: 'StagingLost',
      });
      await client.query(`drop table ${t.presses}`);
      await assert.rejects(loadObject(client, 'run-2', object('s3://b/a.csv', 'etag-2'), stem, staged), {
        type: 'StagingLost',
      });
      // Staged by the previous release's transform, which did not mark each key's first line.
      const older = await stage('run-2', 's3://b/a.csv', [
        { line: 2, site: 1, kind: 0, value: 2, atSecond: 5 },
      ]);
      await client.query(`alter table ${stagedTables(older.stem).presses} drop column first`);
      await assert.rejects(
        loadObject(client, 'run-2', object('s3://b/a.csv', 'etag-2'), older.stem, older.staged),
        { type: 'StagingLost', message: /staged by an earlier release/ },
      );
      // Extract said more lines than staging holds: a partial extract is never committed.
      const partial = await stage('run-2', 's3://b/a.csv', [
        { line: 2, site: 1, kind: 0, value: 2, atSecond: 5 },
      ]);
      await assert.rejects(
        loadObject(client, 'run-2', object('s3://b/a.csv', 'etag-2'), partial.stem, {
          lines: 5,
          header: true,
        }),
        { type: 'StagingLost' },
      );
      assert.deepEqual(await tables(), before);
    });

    it('refuses to commit an object that lost a row between extract and load', async () => {
      const uri = 's3://b/e.csv';
      // The site's exhibition moves between the judgement and the transform: the join drops the row.
      await client.query(`update exhibition set site = 9 where site = 2`);
      try {
        const { stem, staged } = await stage('run-1', uri, [
          { line: 2, site: 2, kind: 0, value: 2, atSecond: 7 },
        ]);
        await assert.rejects(
          loadObject(client, 'run-1', object(uri), stem, staged),
          /read 1 data lines but the load placed 0/,
        );
        assert.deepEqual(await tables(), []);
      } finally {
        await client.query(`update exhibition set site = 2 where site = 9`);
      }
    });

    it('refuses to take a press from a row moved in by the migration without its raw bytes', async () => {
      await stageAndLoad('run-1', 's3://b/b.csv', B);
      // As rows moved in by migration 20261130000200 are: raw bytes nowhere.
      const held = {
        batch_press: ['batch_press'],
        batch_line: ['batch_line', 'rating_interaction', 'request_interaction'],
        row: ['rating_interaction', 'request_interaction'],
      }[registry];
      for (const table of held) {
        await client.query(`update ${table} set raw = null where source_object = 's3://b/b.csv'`);
      }
      await assert.rejects(stageAndLoad('run-1', 's3://b/a.csv', A), /reprocess s3:\/\/b\/b.csv first/);
    });

    it('lets the stream write and a report read while an object loads (no lock on shared tables)', async () => {
      const uri = 's3://b/big.csv';
      const stem = stagingTableName('run-1', uri);
      const t = stagedTables(stem);
      const lines = 60_000;
      await client.query(RAW_DDL(t.raw));
      await client.query(JUDGED_DDL(t.judged));
      await client.query(
        `insert into ${t.raw} select g, convert_to('line ' || g, 'UTF8') from generate_series(1, $1) g`,
        [lines],
      );
      await client.query(
        `insert into ${t.judged} select g, g % 3, 0, g % 5, $2::bigint + g * 1000, null from generate_series(2, $1) g`,
        [lines, AT],
      );
      await client.query(PRESSES_SQL(t.presses, t.judged, t.raw));
      const loader = new pg.Client({ connectionString: cfg.databaseUrl });
      await loader.connect();
      const knex = createKnex(cfg.databaseUrl, 2);
      try {
        let loaded = false;
        const load = loadObject(loader, 'run-1', object(uri), stem, { lines, header: true }).finally(() => {
          loaded = true;
        });
        // Wait until the batch lock is held: first by the making of the rows' month (a new month in this
        // database), then by the load's transaction. The stream's write meets one or the other.
        for (let i = 0; i < 200; i++) {
          const held = await client.query(`select 1 from pg_locks where locktype = 'advisory' and granted`);
          if (held.rows.length > 0) break;
          await new Promise((r) => setTimeout(r, 25));
        }
        const began = performance.now();
        await client.query(`
        insert into pipeline_run (run_id, kind, workflow_id, source) values ('stream-1', 'stream', 'w', 'lmnh')
          on conflict do nothing;
        insert into rating_interaction (exhibition_id, rating_value, event_at, run_id, source_topic,
          source_partition, source_offset) values (1, 2, '2023-03-06 12:00:00+00', 'stream-1', 'lmnh', 0, 1);
        update pipeline_run set read_count = read_count + 1, loaded_count = loaded_count + 1
          where run_id = 'stream-1';`);
        const streamSeconds = (performance.now() - began) / 1000;
        await overview(knex, parseDateRange('2023-03-06', '2023-03-07'));
        const bothSeconds = (performance.now() - began) / 1000;
        const overlapped = !loaded;
        const result = await load;
        assert.equal(result.loaded, lines - 1);
        assert.ok(overlapped, 'the load should still have been running (make the object bigger)');
        assert.ok(streamSeconds < 1, `the stream's write waited ${streamSeconds} s`);
        assert.ok(bothSeconds < 2, `the stream's write and the report took ${bothSeconds} s`);
      } finally {
        await knex.destroy();
        await loader.end();
      }
    });
  });
