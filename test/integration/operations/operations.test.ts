import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { connectPublisher } from '../../../kafka/publisher';
import { readReplayValues, replayValues } from '../../../simulator/kiosk-publishing';
import { createJsonLogger } from '../../../infra/log';
import { startBridgeOps } from '../../../ops/bridge-ops';
import { startWorkerStatusLog } from '../../../ops/status-log';
import { createBucketWith, deleteBucket, runBatch } from '../../support/batch';
import { startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { SHARED_DATA } from '../../support/isolated-env';
import { freePort, startPrometheus, type RunningPrometheus } from '../../support/prometheus';
import {
  countStored,
  SAMPLE_FILE,
  setUpStream,
  tearDownStream,
  waitUntil,
  workflowBundleFile,
  type StreamEnv,
} from '../../support/stream';
import { TcpProxy } from '../../support/tcp-proxy';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format's sample lines (no escaped quotes occur in our label values). */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

/** Per label value of `by`, the sum of the non-zero samples. */
function sumBy(samples: Sample[], name: string, by: string, where: Record<string, string>) {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name || s.value === 0) continue;
    if (!Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
    const key = s.labels[by] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

async function scrape(address: string): Promise<Sample[]> {
  const res = await fetch(`http://${address}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parseSamples(await res.text());
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function listenerOf(p: RunningProcess): Promise<string> {
  await waitForOutput(p, /"metricsAddress":"[^"]+"/, 120_000);
  return /"metricsAddress":"([^"]+)"/.exec(p.output())![1]!;
}

/** What the run ledger and the rejects table say for one source. */
async function ledger(knex: Knex, kind: 'batch' | 'stream') {
  const runs = await knex.raw<{
    rows: { loaded: number; rejected: number; reasons: Record<string, number> }[];
  }>(
    `select coalesce(sum(loaded_count), 0)::int as loaded, coalesce(sum(rejected_count), 0)::int as rejected,
       (select coalesce(jsonb_object_agg(key, total), '{}'::jsonb) from (
          select key, sum(value::int) as total from pipeline_run r, jsonb_each_text(r.rejected_by_reason)
          where r.kind = :kind group by key) t) as reasons
     from pipeline_run where kind = :kind`,
    { kind },
  );
  const column = kind === 'batch' ? 'source_object' : 'source_topic';
  const first = await knex.raw<{ rows: { reason: string; n: number }[] }>(
    `select reasons[1] as reason, count(*)::int as n from rejected_interaction where ${column} is not null
     group by 1`,
  );
  return {
    ...runs.rows[0]!,
    byFirstReason: Object.fromEntries(first.rows.map((r) => [r.reason, r.n])),
  };
}

function assertRowsMatchLedger(samples: Sample[], source: string, l: Awaited<ReturnType<typeof ledger>>) {
  assert.ok(l.loaded > 0 && l.rejected > 0, `the ${source} run stored rows and rejects`);
  assert.equal(sum(samples, 'kiosk_rows_total', { source, outcome: 'loaded' }), l.loaded);
  assert.equal(sum(samples, 'kiosk_rows_total', { source, outcome: 'rejected' }), l.rejected);
  assert.deepEqual(
    sumBy(samples, 'kiosk_rows_total', 'reason', { source, outcome: 'rejected' }),
    l.byFirstReason,
  );
  assert.deepEqual(sumBy(samples, 'kiosk_reject_reasons_total', 'reason', { source }), l.reasons);
}

const STREAM_ROWS = 'sum(kiosk_rows_total{job="kiosk-worker",source="stream"})';

describe('operations: metrics, health and alert rules against a real Prometheus', function () {
  this.timeout(300_000);
  let env: StreamEnv;
  let worker: RunningProcess | undefined;
  let bridge: RunningProcess | undefined;
  let prometheus: RunningPrometheus | undefined;
  let workerAddress = '';
  let bridgeAddress = '';
  const stopProcess = async (p: RunningProcess | undefined) => {
    if (p === undefined || p.child.exitCode !== null) return;
    p.child.kill('SIGTERM');
    await p.exited;
  };

  before(async () => {
    env = await setUpStream('ops', 2);
    await createBucketWith(env.cfg, SHARED_DATA);
    worker = startEntryPoint('worker.ts', env.cfg, [], { WORKFLOW_BUNDLE_PATH: await workflowBundleFile() });
    bridge = startEntryPoint('bridge/main.ts', env.cfg, [], { STREAM_FLUSH_MAX_AGE_MS: '200' });
    [workerAddress, bridgeAddress] = await Promise.all([listenerOf(worker), listenerOf(bridge)]);
    await waitForOutput(bridge, /joined group/, 60_000);
    prometheus = await startPrometheus({ 'kiosk-worker': workerAddress, 'kiosk-bridge': bridgeAddress });
    // Both targets scraped before any run, so the series have a 'before' to compare with.
    await waitUntil(
      'Prometheus scraped the worker and the bridge',
      async () => (await prometheus!.scalar('sum(up{job=~"kiosk-worker|kiosk-bridge"})')) === 2,
      30_000,
    );
  });

  after(async () => {
    await prometheus?.stop();
    await stopProcess(bridge);
    await stopProcess(worker);
    await deleteBucket(env.cfg).catch(() => undefined);
    await tearDownStream(env);
  });

  it('answers /healthz and /readyz on both listeners, and 404 elsewhere', async () => {
    for (const address of [workerAddress, bridgeAddress]) {
      assert.deepEqual((await getJson(`http://${address}/healthz`)).body, { status: 'ok' });
      const ready = await getJson(`http://${address}/readyz`);
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
      assert.equal(ready.body.status, 'ready');
      assert.equal((await fetch(`http://${address}/other`)).status, 404);
    }
    const checks = async (a: string) =>
      Object.keys((await getJson(`http://${a}/readyz`)).body.checks as object);
    assert.deepEqual((await checks(workerAddress)).sort(), ['postgres', 'temporal', 'worker']);
    assert.deepEqual((await checks(bridgeAddress)).sort(), ['kafka', 'postgres', 'temporal']);
  });

  it("counts a batch run's rows exactly as the run ledger does, and times its loads", async () => {
    await runBatch(env.client, env.cfg, { source: `s3://${env.cfg.s3.bucket}/` });
    const samples = await scrape(workerAddress);
    assertRowsMatchLedger(samples, 'batch', await ledger(env.knex, 'batch'));
    const objects = await env.knex('source_object').count<{ count: string }[]>('* as count');
    assert.equal(sum(samples, 'kiosk_load_seconds_count', { source: 'batch' }), Number(objects[0]!.count));
    const fresh = samples.find((s) => s.name === 'kiosk_freshness_seconds' && s.labels.source === 'batch');
    const newest = await env.knex.raw<{ rows: { at: number }[] }>(
      `select extract(epoch from max(event_at))::float8 as at from rating_interaction`,
    );
    const expectedAge = Date.now() / 1000 - newest.rows[0]!.at;
    assert.ok(
      fresh && Math.abs(fresh.value - expectedAge) < 60,
      `freshness ${fresh?.value} ~ ${expectedAge}`,
    );
    const completed = samples.find(
      (s) => s.name === 'kiosk_batch_last_finished_timestamp_seconds' && s.labels.status === 'completed',
    );
    assert.ok(completed && Math.abs(completed.value - Date.now() / 1000) < 120);
    assert.ok(
      samples.some((s) => s.name.startsWith('temporal_')),
      "the SDK's metrics are served too",
    );
  });

  it("counts the stream's rows as the ledger does, and its lag falls to 0 once everything is stored", async () => {
    // Prometheus holds a scrape of the stream's rows at 0 before any is stored (a later test reads the series
    // going from 0 to everything). Waited for, not assumed: a scrape of a busy worker can time out.
    await waitUntil(
      'Prometheus scraped the stream rows at 0',
      async () => (await prometheus!.scalar(STREAM_ROWS)) === 0,
      30_000,
    );
    const values = readReplayValues(SAMPLE_FILE);
    const publisher = await connectPublisher(env.cfg.kafka, env.cfg.kafka.topic);
    try {
      await replayValues(publisher, values);
    } finally {
      await publisher.close();
    }
    await waitUntil(
      'every message stored',
      async () => (await countStored(env.knex, env.cfg.kafka.topic)) === values.length,
      120_000,
    );
    // The worker counts after each commit; the last commit is in.
    assertRowsMatchLedger(await scrape(workerAddress), 'stream', await ledger(env.knex, 'stream'));
    const bridgeSamples = await scrape(bridgeAddress);
    const lag = bridgeSamples.filter((s) => s.name === 'kiosk_stream_lag_messages');
    assert.deepEqual(lag.map((s) => [s.labels.topic, s.labels.partition, s.value]).sort(), [
      [env.cfg.kafka.topic, '0', 0],
      [env.cfg.kafka.topic, '1', 0],
    ]);
    const stored = await env.knex.raw<{ rows: { p: number; last: number }[] }>(
      `select source_partition as p, max(source_offset)::int as last from (
         select source_partition, source_offset from rating_interaction where source_topic = :t
         union all select source_partition, source_offset from request_interaction where source_topic = :t
         union all select source_partition, source_offset from rejected_interaction where source_topic = :t) x
       group by 1`,
      { t: env.cfg.kafka.topic },
    );
    for (const row of stored.rows) {
      assert.equal(
        sum(bridgeSamples, 'kiosk_stream_last_stored_offset', { partition: String(row.p) }),
        row.last,
      );
    }
  });

  it('is scraped by Prometheus during the runs: its queries agree with the ledger, its rules are loaded', async () => {
    const prom = prometheus!;
    const batch = await ledger(env.knex, 'batch');
    const stream = await ledger(env.knex, 'stream');
    const total = batch.loaded + batch.rejected + stream.loaded + stream.rejected;
    await waitUntil(
      'Prometheus has scraped the final counts',
      async () => (await prom.scalar('sum(kiosk_rows_total{job="kiosk-worker"})')) === total,
      30_000,
    );
    assert.equal(
      await prom.scalar('sum(kiosk_rows_total{job="kiosk-worker",source="stream",outcome="rejected"})'),
      stream.rejected,
    );
    assert.equal(await prom.scalar('sum(up{job=~"kiosk-worker|kiosk-bridge"})'), 2);
    // The bridge computes lag at scrape time (Kafka and PostgreSQL): wait for a scrape taken after the drain.
    await waitUntil(
      'Prometheus scraped the lag at 0',
      async () => (await prom.scalar('sum(kiosk_stream_lag_messages{job="kiosk-bridge"})')) === 0,
      30_000,
    );
    // Scraped before the stream's load at 0 (the test above waited for it), and now at everything.
    assert.equal(await prom.scalar(STREAM_ROWS), stream.loaded + stream.rejected);
    assert.ok((await prom.scalar('count({job="kiosk-worker",__name__=~"temporal_.+"})'))! > 0);

    const rules = await prom.api<{ groups: { name: string; rules: { name: string; health: string }[] }[] }>(
      '/api/v1/rules',
    );
    const loaded = rules.groups.flatMap((g) => g.rules);
    assert.ok(loaded.some((r) => r.name === 'KioskPartitionStuck'));
    assert.ok(
      loaded.every((r) => r.health !== 'err'),
      JSON.stringify(loaded.filter((r) => r.health === 'err')),
    );
    // The recording rule's London wall clock agrees with the time-zone database's, whatever today's offset.
    const parts = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/London',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    }).formatToParts(new Date());
    const part = (t: string) => Number(parts.find((p) => p.type === t)!.value);
    await waitUntil(
      'the recording rule evaluated',
      async () => (await prom.scalar('kiosk:london_minute_of_day')) !== undefined,
      10_000,
    );
    const recorded = (await prom.scalar('kiosk:london_minute_of_day'))!;
    const london = part('hour') * 60 + part('minute');
    assert.ok(
      Math.abs(recorded - london) <= 1 || Math.abs(recorded - london) === 1439,
      `${recorded} vs ${london}`,
    );
  });

  it('writes the status lines that the CloudWatch alarms read, from the same figures', async () => {
    const lines: string[] = [];
    const log = createJsonLogger('test', { write: (l) => lines.push(l) });
    const stopWorkerStatus = startWorkerStatusLog(env.knex, log, 100);
    const ops = await startBridgeOps(
      { ...env.cfg, metrics: { ...env.cfg.metrics, bridgeAddress: '127.0.0.1:0' } },
      log,
      (t) => t,
      100,
    );
    type Status = Record<string, unknown> & { event?: string };
    const parsed = () => lines.map((l) => JSON.parse(l) as Status);
    try {
      await waitUntil(
        'a line of each kind',
        () =>
          Promise.resolve(
            ['pipeline_status', 'stream_status'].every((e) => parsed().some((l) => l.event === e)),
          ),
        15_000,
        50,
      );
    } finally {
      stopWorkerStatus();
      await ops.close();
    }
    const worker = parsed().find((l) => l.event === 'pipeline_status')!;
    assert.equal(worker.batchLastRunFailed, 0);
    assert.ok((worker.batchHoursSinceCompleted as number) < 1, JSON.stringify(worker));
    assert.equal(typeof worker.streamFreshnessSeconds, 'number');
    assert.equal(typeof worker.streamStaleWhileOpenSeconds, 'number');
    const stream = parsed().find((l) => l.event === 'stream_status')!;
    assert.equal(stream.maxLagMessages, 0);
    assert.deepEqual(
      (stream.partitions as { partition: number; lagMessages: number }[]).map((p) => [
        p.partition,
        p.lagMessages,
      ]),
      [
        [0, 0],
        [1, 0],
      ],
    );
  });

  it('logs one JSON object per line from both processes, never a secret', () => {
    for (const p of [worker!, bridge!]) {
      const lines = p
        .output()
        .split('\n')
        .filter((l) => l !== '');
      assert.ok(lines.length > 0);
      for (const line of lines) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        assert.equal(typeof parsed.message, 'string', line);
        assert.ok(!line.includes(env.cfg.s3.credentials!.secretAccessKey), line);
      }
    }
    assert.match(bridge!.output(), /"topic":"lmnh-test-[^"]+"/);
  });

  it('turns /readyz to 503 naming PostgreSQL while the database is unreachable, and back to 200', async () => {
    const url = new URL(env.cfg.databaseUrl);
    const proxy = new TcpProxy(url.hostname, Number(url.port));
    await proxy.start();
    url.port = String(proxy.port);
    const cfg = {
      ...env.cfg,
      databaseUrl: url.toString(),
      temporal: { ...env.cfg.temporal, taskQueue: `${env.cfg.temporal.taskQueue}-proxy` },
    };
    const second = startEntryPoint('worker.ts', cfg, [], {
      WORKFLOW_BUNDLE_PATH: await workflowBundleFile(),
    });
    try {
      const address = await listenerOf(second);
      assert.equal((await getJson(`http://${address}/readyz`)).status, 200);
      await proxy.stop();
      const down = await getJson(`http://${address}/readyz`);
      assert.equal(down.status, 503);
      const checks = down.body.checks as Record<string, string>;
      assert.equal(checks.temporal, 'ok');
      assert.notEqual(checks.postgres, 'ok');
      assert.ok(!JSON.stringify(down.body).includes(url.password), 'no password in the answer');
      assert.equal((await getJson(`http://${address}/healthz`)).status, 200, 'still alive');
      await proxy.start();
      await waitUntil(
        'ready again',
        async () => (await getJson(`http://${address}/readyz`)).status === 200,
        30_000,
      );
    } finally {
      await stopProcess(second);
      await proxy.stop();
    }
  });

  it("turns the bridge's /readyz to 503 naming Kafka when no broker answers", async () => {
    const closed = await freePort();
    const lines: string[] = [];
    const cfg = {
      ...env.cfg,
      kafka: { ...env.cfg.kafka, brokers: [`127.0.0.1:${closed}`] },
      metrics: { ...env.cfg.metrics, bridgeAddress: '127.0.0.1:0' },
    };
    const ops = await startBridgeOps(
      cfg,
      createJsonLogger('bridge', { write: (l) => lines.push(l) }),
      (t) => t,
    );
    try {
      const down = await getJson(`http://${ops.address}/readyz`);
      assert.equal(down.status, 503);
      const checks = down.body.checks as Record<string, string>;
      assert.deepEqual([checks.postgres, checks.temporal], ['ok', 'ok']);
      assert.notEqual(checks.kafka, 'ok');
      // The scrape still answers; the lag it cannot read is absent rather than stale, and the failure is logged.
      const samples = await scrape(ops.address);
      assert.equal(samples.filter((s) => s.name === 'kiosk_stream_lag_messages').length, 0);
      assert.ok(
        lines.some((l) => (JSON.parse(l) as { level: string }).level === 'warn'),
        lines.join('\n'),
      );
    } finally {
      await ops.close();
    }
  });
});
