// The live dashboard end to end: the real data loaded through the batch workflow, the server in this process
// on a random loopback port, and Debian's Chromium driven by playwright-core. Figures on the page are checked
// against SQL written here, separately from report/queries.ts; a stream row inserted the way the stream
// loader writes one must appear without a reload; screenshots go to test-output/.
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createKnex } from '../../../infra/db';
import { createKafka } from '../../../infra/kafka';
import { startDashboard, type Dashboard } from '../../../report/dashboard/app';
import { createLogEnds } from '../../../report/dashboard/log-ends';
import { createBucketWith, deleteBucket, runBatch } from '../../support/batch';
import { startEntryPoint, waitForOutput } from '../../support/child-process';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  REPO_ROOT,
  SHARED_DATA,
} from '../../support/isolated-env';
import { createTopic, deleteTopic } from '../../support/kafka-topics';
import { startTestWorker } from '../../support/test-worker';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const OUTPUT = path.join(REPO_ROOT, 'test-output');
const POLL_MS = 2000;

type Row = Record<string, string>;

// The callbacks passed to page.evaluate and friends run in the browser. This project compiles without the DOM
// library (Node only), so the little of the DOM they touch is declared here, for this file alone.
interface El {
  textContent: string | null;
  hidden: boolean;
  title: string;
  dataset: Record<string, string | undefined>;
  querySelectorAll(selector: string): Iterable<El>;
}
declare const document: { body: El; getElementById(id: string): El | null };
declare const window: { marker?: string };

/** The rows of a dashboard table as {field: text}, keyed by the row's data-key. */
function tableRows(page: Page, tbody: string): Promise<Record<string, Row>> {
  // No named helper inside: tsx wraps named functions in a __name() call that the browser does not have.
  return page.$$eval(`#${tbody} tr[data-key]`, (trs): Record<string, Row> =>
    Object.fromEntries(
      (trs as unknown as El[]).map((tr) => [
        tr.dataset.key ?? '',
        Object.fromEntries<string>(
          [...tr.querySelectorAll('td')].map((td) => [td.dataset.field ?? '', td.textContent ?? '']),
        ),
      ]),
    ),
  );
}

const text = (page: Page, id: string): Promise<string> =>
  page.$eval(`#${id}`, (el): string => (el as unknown as El).textContent ?? '');
const fmt = (n: number | null) => (n === null ? '–' : n.toFixed(2));

describe('dashboard in headless Chromium', function () {
  const cfg = isolatedConfig('dashboard');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-dashboard-chromium-'));
  let knex: Knex;
  let dashboardKnex: Knex;
  let dashboard: Dashboard;
  let browser: BrowserContext;
  let page: Page;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    await createBucketWith(cfg, SHARED_DATA);
    const tw = await startTestWorker(cfg);
    try {
      const summary = await runBatch(tw.env.client, cfg, { source: `s3://${cfg.s3.bucket}/` });
      assert.equal(summary.loaded, 2079);
    } finally {
      await tw.stop();
    }
    dashboardKnex = createKnex(cfg.databaseUrl, 4);
    // The suite's own topic, two partitions with 50 and 3 records: the Operations view reads their log ends.
    await createTopic(cfg, 2);
    const producer = createKafka(cfg.kafka, '-test').producer();
    await producer.connect();
    const records = (n: number) => Array.from({ length: n }, (_, i) => ({ value: `{"n": ${i}}` }));
    await producer.sendBatch({
      topicMessages: [
        { topic: cfg.kafka.topic, messages: records(50).map((m) => ({ ...m, partition: 0 })) },
        { topic: cfg.kafka.topic, messages: records(3).map((m) => ({ ...m, partition: 1 })) },
      ],
    });
    await producer.disconnect();
    dashboard = await startDashboard({
      knex: dashboardKnex,
      port: 0,
      pollMs: POLL_MS,
      log: () => undefined,
      operations: { topic: cfg.kafka.topic, logEnds: createLogEnds(cfg.kafka, cfg.kafka.topic) },
      maxEventClients: 4,
    });
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1280, height: 1000 },
      locale: 'en-GB',
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    fs.mkdirSync(OUTPUT, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await dashboard?.close();
    await dashboardKnex?.destroy();
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
    await deleteBucket(cfg);
    await deleteTopic(cfg).catch(() => undefined);
    fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  // Independent figures: correlated subqueries per exhibition and a London-hour text key, unlike the report's
  // single grouped scan.
  async function expectedExhibitions(from: string | null, to: string | null) {
    const inRange = `(? :: date is null or (t.event_at at time zone 'Europe/London')::date >= ?::date)
      and (? :: date is null or (t.event_at at time zone 'Europe/London')::date <= ?::date)`;
    const b = [from, from, to, to];
    const result = await knex.raw<{ rows: { site: number; name: string; floor: string; n: number[] }[] }>(
      `select e.site, e.name, f.name as floor, array[
         (select count(*) from rating_interaction t where t.exhibition_id = e.exhibition_id and ${inRange}),
         (select coalesce(sum(t.rating_value), 0) from rating_interaction t where t.exhibition_id = e.exhibition_id and ${inRange}),
         (select count(*) from request_interaction t where t.exhibition_id = e.exhibition_id and t.request_value = 0 and ${inRange}),
         (select count(*) from request_interaction t where t.exhibition_id = e.exhibition_id and t.request_value = 1 and ${inRange})
       ]::int[] as n
       from exhibition e join floor f on f.floor_id = e.floor_id order by e.site`,
      [...b, ...b, ...b, ...b],
    );
    return result.rows.map((r) => {
      const [ratings = 0, sum = 0, assistance = 0, emergencies = 0] = r.n;
      return { site: r.site, name: r.name, floor: r.floor, ratings, sum, assistance, emergencies };
    });
  }

  async function waitForVersion(): Promise<string> {
    await page.waitForFunction(() => document.body.dataset.version !== undefined);
    return page.evaluate(() => document.body.dataset.version ?? '');
  }

  it('exhibitions view: popularity, rating distribution and rating by hour equal the database', async () => {
    await page.goto(`${dashboard.url}?from=2023-03-06&to=2023-03-06`);
    await waitForVersion();
    const expected = await expectedExhibitions('2023-03-06', '2023-03-06');
    const ratings = expected.reduce((s, e) => s + e.ratings, 0);
    const sum = expected.reduce((s, e) => s + e.sum, 0);
    assert.equal(await text(page, 'total-visits'), String(ratings));
    assert.equal(await text(page, 'total-avg'), fmt(sum / ratings));
    const rows = await tableRows(page, 'rows-exhibitions');
    for (const e of expected) {
      const row = rows[String(e.site)];
      assert.equal(row?.name, e.name);
      assert.equal(row?.visits, String(e.ratings), `visits of ${e.name}`);
      assert.equal(row?.avgRating, fmt(e.ratings ? e.sum / e.ratings : null), `average of ${e.name}`);
    }
    const distribution = await knex.raw<{ rows: { site: number; v: number; n: number }[] }>(
      `select e.site, r.rating_value as v, count(*)::int as n from rating_interaction r
       join exhibition e on e.exhibition_id = r.exhibition_id group by 1, 2`,
    );
    const distributionRows = await tableRows(page, 'rows-distribution');
    for (const d of distribution.rows) {
      assert.equal(distributionRows[String(d.site)]?.[`rating${d.v}`], String(d.n));
    }
    const hours = await knex.raw<{ rows: { h: string; n: number; a: string }[] }>(
      `select to_char(event_at at time zone 'Europe/London', 'HH24') as h, count(*)::int as n,
              to_char(avg(rating_value), 'FM0.00') as a
       from rating_interaction group by 1 order by 1`,
    );
    const hourRows = await tableRows(page, 'rows-rating-hours');
    assert.deepEqual(
      Object.values(hourRows).map((r) => [r.hour, r.ratings, r.avgRating]),
      hours.rows.map((h) => [`${h.h}:00`, String(h.n), h.a]),
    );
    const charts = await page.$$eval('#view-manager .chart svg', (svgs) => svgs.length);
    assert.equal(charts, 3);
  });

  it('security view: requests by exhibition and hour, and the latest emergencies, equal the database', async () => {
    await page.click('#tab-security');
    await page.waitForSelector('#view-security:not([hidden])');
    assert.ok(await page.$eval('#view-manager', (el) => (el as unknown as El).hidden));
    const expected = await expectedExhibitions('2023-03-06', '2023-03-06');
    assert.equal(
      await text(page, 'total-assistance'),
      String(expected.reduce((s, e) => s + e.assistance, 0)),
    );
    assert.equal(
      await text(page, 'total-emergencies'),
      String(expected.reduce((s, e) => s + e.emergencies, 0)),
    );
    const rows = await tableRows(page, 'rows-requests');
    for (const e of expected) {
      assert.deepEqual(
        [rows[String(e.site)]?.floor, rows[String(e.site)]?.assistance, rows[String(e.site)]?.emergencies],
        [e.floor, String(e.assistance), String(e.emergencies)],
        e.name,
      );
    }
    const hours = await knex.raw<{ rows: { h: string; a: number; e: number }[] }>(
      `select to_char(event_at at time zone 'Europe/London', 'HH24') as h,
              sum(1 - request_value)::int as a, sum(request_value)::int as e
       from request_interaction group by 1 order by 1`,
    );
    const hourRows = await tableRows(page, 'rows-request-hours');
    for (const h of hours.rows) {
      assert.deepEqual(
        [hourRows[String(Number(h.h))]?.assistance, hourRows[String(Number(h.h))]?.emergencies],
        [String(h.a), String(h.e)],
      );
    }
    const emergencies = await knex.raw<{ rows: { t: string; name: string }[] }>(
      `select to_char(q.event_at at time zone 'Europe/London', 'YYYY-MM-DD HH24:MI:SS') as t, e.name
       from request_interaction q join exhibition e on e.exhibition_id = q.exhibition_id
       where q.request_value = 1 order by q.event_at desc limit 10`,
    );
    const shown = await tableRows(page, 'rows-emergencies');
    assert.deepEqual(
      Object.values(shown).map((r) => [r.time, r.name, r.source]),
      emergencies.rows.map((r) => [r.t, r.name, 'batch']),
    );
    assert.equal(await page.$$eval('#view-security .chart svg', (svgs) => svgs.length), 3);
  });

  it('the date filter changes the figures in place', async () => {
    await page.evaluate(() => (window.marker = 'same page'));
    await page.fill('#from', '2023-03-07');
    await page.fill('#to', '2023-03-07');
    await page.click('#filter button[type=submit]');
    await page.waitForFunction(() => document.getElementById('total-assistance')?.textContent === '0');
    assert.equal(await text(page, 'total-emergencies'), '0');
    assert.match(await text(page, 'rows-emergencies'), /none in this period/);
    assert.match(page.url(), /\?from=2023-03-07&to=2023-03-07#security$/);
    const assistance = (await expectedExhibitions(null, null)).reduce((s, e) => s + e.assistance, 0);
    await page.click('#all');
    await page.waitForFunction(
      (n) => document.getElementById('total-assistance')?.textContent === String(n),
      assistance,
    );
    assert.equal(await page.evaluate(() => window.marker), 'same page');
  });

  it('shows a new stream row without a reload, and saves screenshots', async () => {
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'live');
    const before = Number(await text(page, 'total-emergencies'));
    const visitsBefore = (await expectedExhibitions(null, null)).reduce((s, e) => s + e.ratings, 0);
    await page.evaluate(() => (window.marker = 'no reload'));

    // What the stream loader writes: a stream run, then rows keyed by topic, partition and offset.
    const started = Date.now();
    await knex.transaction(async (trx) => {
      await trx('pipeline_run').insert({
        run_id: 'stream-dashboard-test',
        kind: 'stream',
        workflow_id: 'stream-lmnh-0',
        source: 'kafka://lmnh/0',
      });
      const [site3] = await trx('exhibition').where({ site: 3 }).select<{ exhibition_id: number }[]>();
      const stream = { run_id: 'stream-dashboard-test', source_topic: 'lmnh', source_partition: 0 };
      await trx('request_interaction').insert({
        ...stream,
        exhibition_id: site3?.exhibition_id,
        request_value: 1,
        event_at: trx.raw('now()'),
        source_offset: 41,
      });
      await trx('rating_interaction').insert({
        ...stream,
        exhibition_id: site3?.exhibition_id,
        rating_value: 4,
        event_at: trx.raw('now()'),
        source_offset: 42,
      });
    });
    await page.waitForFunction(
      (n) => document.getElementById('total-emergencies')?.textContent === String(n),
      before + 1,
      { timeout: 4 * POLL_MS },
    );
    const latencyMs = Date.now() - started;
    console.log(`      new stream row on the page after ${latencyMs} ms (poll every ${POLL_MS} ms)`);
    assert.ok(latencyMs < 2 * POLL_MS + 2000, `shown within two polls, took ${latencyMs} ms`);

    const [first] = Object.values(await tableRows(page, 'rows-emergencies'));
    assert.deepEqual([first?.name, first?.source], ['Cetacean Sensations', 'stream']);
    assert.deepEqual(
      await page.$$eval('#rows-emergencies tr.fresh', (trs) => trs.length),
      1,
      'only the new emergency is highlighted',
    );
    assert.equal(await page.evaluate(() => window.marker), 'no reload');
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-security.png'), fullPage: true });

    await page.click('#tab-manager');
    assert.equal(await text(page, 'total-visits'), String(visitsBefore + 1));
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-exhibitions.png'), fullPage: true });
    assert.ok(fs.statSync(path.join(OUTPUT, 'dashboard-security.png')).size > 10_000);
  });

  it('operations view: freshness, lag per partition, reject rate by reason and the latest runs', async () => {
    // A stream run of the suite's topic that stored partition 0 up to offset 20 (a reject there).
    const topic = cfg.kafka.topic;
    await knex('pipeline_run').insert({
      run_id: 'stream-ops-test',
      kind: 'stream',
      workflow_id: `stream-${topic}-0`,
      source: `kafka://${topic}/0`,
      read_count: 1,
      rejected_count: 1,
      rejected_by_reason: { MALFORMED: 1 },
    });
    await knex('rejected_interaction').insert({
      raw: Buffer.from('{'),
      reasons: ['MALFORMED'],
      run_id: 'stream-ops-test',
      source_topic: topic,
      source_partition: 0,
      source_offset: 20,
    });
    await page.goto(`${dashboard.url}#operations`);
    await page.waitForFunction(() => document.body.dataset.opsAt !== undefined);

    const partitions = await tableRows(page, 'rows-partitions');
    assert.deepEqual(partitions, {
      'partition-0': { partition: '0', stored: '20', logEnd: '50', lag: '29' },
      'partition-1': { partition: '1', stored: '–', logEnd: '3', lag: '3' },
    });
    assert.ok(await page.$eval('#ops-kafka', (el) => (el as unknown as El).hidden), 'no Kafka warning');

    const newest = await knex.raw<{ rows: { batch: Date; stream: Date | null }[] }>(
      `select (select max(event_at) from rating_interaction where source_object is not null) as batch,
              (select max(event_at) from (select event_at, source_topic from rating_interaction union all
                 select event_at, source_topic from request_interaction) t where source_topic is not null) as stream`,
    );
    const fresh = newest.rows[0]!;
    const title = (id: string) => page.$eval(`#${id}`, (el): string => (el as unknown as El).title);
    assert.equal(await title('fresh-batch'), fresh.batch.toISOString());
    assert.equal(await title('fresh-stream'), fresh.stream?.toISOString() ?? '');
    assert.match(await text(page, 'fresh-batch'), /^\d+ days$/);

    const ledger = await knex.raw<{ rows: { day: string; read: number; rejected: number }[] }>(
      `select to_char((started_at at time zone 'Europe/London')::date, 'YYYY-MM-DD') as day,
              sum(read_count)::int as read, sum(rejected_count)::int as rejected
       from pipeline_run where kind in ('batch', 'stream') group by 1 order by 1`,
    );
    const days = await tableRows(page, 'rows-reject-days');
    assert.deepEqual(
      Object.values(days).map((d) => [d.day, d.read, d.rejected, d.rate]),
      ledger.rows.map((d) => [
        d.day,
        String(d.read),
        String(d.rejected),
        `${((100 * d.rejected) / d.read).toFixed(1)}%`,
      ]),
    );
    const today = Object.values(days).at(-1)!;
    assert.equal(today.reasons, 'OUTSIDE_HOURS 52, DUPLICATE 6, MALFORMED 1');
    assert.equal(await page.$$eval('#view-operations .chart svg', (svgs) => svgs.length), 1);

    const runs = await knex('pipeline_run').select<{ run_id: string; status: string; read_count: number }[]>(
      'run_id',
      'status',
      'read_count',
    );
    const shownRuns = await tableRows(page, 'rows-runs');
    assert.deepEqual(
      Object.entries(shownRuns)
        .map(([id, r]) => [id, r.status, r.read])
        .sort(),
      runs.map((r) => [r.run_id, r.status, String(r.read_count)]).sort(),
    );
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-operations.png'), fullPage: true });
  });

  it('operations view says so when Kafka is unreachable, and still shows what the database knows', async () => {
    const noKafka = await startDashboard({
      knex: dashboardKnex,
      port: 0,
      pollMs: POLL_MS,
      log: () => undefined,
      operations: {
        topic: cfg.kafka.topic,
        logEnds: createLogEnds({ ...cfg.kafka, brokers: ['127.0.0.1:1'] }, cfg.kafka.topic, 1500),
      },
    });
    const second = await browser.newPage();
    try {
      await second.goto(`${noKafka.url}#operations`);
      await second.waitForFunction(() => document.body.dataset.opsAt !== undefined, undefined, {
        timeout: 15_000,
      });
      assert.equal(await second.$eval('#ops-kafka', (el) => (el as unknown as El).hidden), false);
      assert.match(
        await text(second, 'ops-kafka'),
        /^Kafka unreachable: .*log end offsets and lag are unknown/,
      );
      assert.deepEqual(await tableRows(second, 'rows-partitions'), {
        'partition-0': { partition: '0', stored: '20', logEnd: '–', lag: 'unknown' },
      });
      await second.screenshot({
        path: path.join(OUTPUT, 'dashboard-operations-no-kafka.png'),
        fullPage: true,
      });
    } finally {
      await second.close();
      await noKafka.close();
    }
  });

  it('serves loopback names only and answers a bad date with 400', async () => {
    const get = (pathname: string, host?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.get(
          { host: '127.0.0.1', port: dashboard.port, path: pathname, headers: host ? { host } : {} },
          (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
      });
    assert.equal((await get('/', 'attacker.example')).status, 403);
    const bad = await get('/api/snapshot?from=2023-02-30');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /YYYY-MM-DD/);
    assert.equal((await get('/nope')).status, 404);
  });

  describe('limits on what a request may ask', () => {
    const request = (pathname: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string; res: http.IncomingMessage }>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: dashboard.port, path: pathname, headers }, (res) => {
          if (res.headers['content-type']?.startsWith('text/event-stream')) {
            resolve({ status: res.statusCode ?? 0, body: '', res });
            return;
          }
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, res }));
        });
        req.on('error', reject);
      });

    it('refuses a request from another origin, and serves its own', async () => {
      const own = `http://127.0.0.1:${dashboard.port}`;
      assert.equal((await request('/api/snapshot', { origin: own })).status, 200);
      for (const origin of ['http://attacker.example', 'http://127.0.0.1:8233', 'null']) {
        const r = await request('/api/operations', { origin });
        assert.equal(r.status, 403, origin);
        assert.match(r.body, /forbidden origin/);
      }
      assert.equal((await request('/api/events', { origin: 'http://attacker.example' })).status, 403);
    });

    it('answers 400 to dates out of bounds or a span too long, on both data routes', async () => {
      for (const route of ['/api/snapshot', '/api/operations']) {
        const old = await request(`${route}?from=1900-01-01&to=1900-01-02`);
        assert.equal(old.status, 400);
        assert.match(old.body, /between 2000-01-01 and 2099-12-31/);
        const long = await request(`${route}?from=2000-01-01&to=2099-12-31`);
        assert.equal(long.status, 400);
        assert.match(long.body, /at most 3660 days/);
      }
      assert.equal((await request('/api/operations?from=2023-03-01&to=2023-03-31')).status, 200);
    });

    it('bounds the event streams: 429 past the limit, a slot again once a viewer leaves', async () => {
      const open: http.IncomingMessage[] = [];
      try {
        // The limit is 4; the browser page holds one stream already, so fill what is left.
        for (;;) {
          const r = await request('/api/events');
          if (r.status !== 200) {
            assert.equal(r.status, 429);
            assert.equal(r.res.headers['retry-after'], '2');
            break;
          }
          open.push(r.res);
          assert.ok(open.length <= 4, 'more streams than the limit were accepted');
        }
        assert.ok(open.length >= 3, `only ${open.length} streams accepted before 429`);
        open.pop()!.destroy();
        let again: { status: number; res: http.IncomingMessage } | undefined;
        for (let i = 0; i < 40 && again?.status !== 200; i++) {
          await new Promise((r) => setTimeout(r, 50));
          again = await request('/api/events');
        }
        assert.equal(again?.status, 200);
        open.push(again.res);
      } finally {
        for (const res of open) res.destroy();
      }
    });
  });

  describe('the dashboard command', () => {
    it('prints --help, and refuses to start with a clear message when the database is down', async () => {
      const help = startEntryPoint('report/dashboard/server.ts', cfg, ['--help']);
      const down = startEntryPoint('report/dashboard/server.ts', {
        ...cfg,
        databaseUrl: 'postgres://kiosk:s3cret@127.0.0.1:1/kiosk',
      });
      assert.equal(await help.exited, 0);
      assert.match(help.output(), /--port <port>/);
      assert.match(help.output(), /DASHBOARD_PORT/);
      assert.equal(await down.exited, 1);
      assert.match(
        down.output(),
        /error: database postgres:\/\/kiosk:\*\*\*@127\.0\.0\.1:1\/kiosk is not reachable/,
      );
    });

    it('listens on 127.0.0.1 and shuts down cleanly on SIGTERM, even with a browser attached', async () => {
      const p = startEntryPoint('report/dashboard/server.ts', cfg, [], { DASHBOARD_PORT: '0' });
      await waitForOutput(p, /listening on http:\/\/127\.0\.0\.1:\d+\//);
      const url = /listening on (\S+)/.exec(p.output())?.[1] ?? '';
      const events = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(`${url}api/events`, resolve).on('error', reject),
      );
      const first = await new Promise<string>((resolve) =>
        events.once('data', (d: Buffer) => resolve(d.toString())),
      );
      assert.match(first, /retry: \d+/);
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0);
      assert.match(p.output(), /SIGTERM, shutting down/);
    });
  });
});
