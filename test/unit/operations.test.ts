import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import http from 'node:http';
import { loadConfig } from '../../infra/config';
import { createJsonLogger, formatLogLine, secretValues } from '../../infra/log';
import {
  activityRetriesTotal,
  loadSeconds,
  recordStoredRows,
  rejectReasonsTotal,
  rowsTotal,
} from '../../infra/metrics';
import { activityMetricsInterceptor } from '../../ops/activity-metrics';
import { checkReadiness, parseListenAddress, startOpsServer } from '../../ops/server';
import { londonMinuteOfDay, staleWhileOpenSeconds } from '../../ops/status-log';
import { runtimeLogFields } from '../../ops/worker-ops';

async function counterValue(
  counter: typeof rowsTotal | typeof rejectReasonsTotal | typeof activityRetriesTotal,
  labels: Record<string, string>,
): Promise<number> {
  const values = (await counter.get()).values;
  return values
    .filter((v) =>
      Object.entries(labels).every(([k, want]) => (v.labels as Record<string, string>)[k] === want),
    )
    .filter((v) => Object.keys(v.labels).length === Object.keys(labels).length)
    .reduce((sum, v) => sum + v.value, 0);
}

describe('operations: logs, metrics and readiness', () => {
  describe('JSON log lines', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://app:p%40ss%2Fw0rd-long@db.internal:5432/kiosk',
      KAFKA_SASL_USERNAME: 'kiosk',
      KAFKA_SASL_PASSWORD: 'kafka-password-123',
      TEMPORAL_API_KEY: 'temporal-api-key-abc',
      AWS_SECRET_ACCESS_KEY: 'aws-secret-xyz-123',
    });

    it('are one JSON object per line, time, level, logger and message first', () => {
      const lines: string[] = [];
      const log = createJsonLogger('bridge', { base: { topic: 'lmnh' }, write: (l) => lines.push(l) });
      log.info('joined\nthe group', { partition: 3 });
      log.error('failed', { error: new Error('boom') });
      assert.equal(lines.length, 2);
      assert.ok(lines.every((l) => !l.includes('\n')));
      const first = JSON.parse(lines[0]!) as Record<string, unknown>;
      assert.deepEqual(Object.keys(first), ['time', 'level', 'logger', 'message', 'topic', 'partition']);
      assert.deepEqual(
        { ...first, time: undefined },
        {
          time: undefined,
          level: 'info',
          logger: 'bridge',
          message: 'joined\nthe group',
          topic: 'lmnh',
          partition: 3,
        },
      );
      assert.deepEqual((JSON.parse(lines[1]!) as { error: unknown }).error, {
        name: 'Error',
        message: 'boom',
      });
    });

    it('never carry a configured secret, wherever it appears, nor a field named like a credential', () => {
      const secrets = secretValues(config);
      assert.deepEqual(secrets.sort(), [
        'aws-secret-xyz-123',
        'kafka-password-123',
        'p%40ss%2Fw0rd-long',
        'p@ss/w0rd-long',
        'temporal-api-key-abc',
      ]);
      const line = formatLogLine(
        'worker',
        'error',
        'connect postgres://app:p@ss/w0rd-long@db failed with kafka-password-123',
        {
          error: new Error('auth temporal-api-key-abc refused'),
          nested: { deeper: ['aws-secret-xyz-123'] },
          password: 'anything',
          apiKey: 'short',
          Authorization: 'Bearer x',
          user: 'app',
        },
        secrets,
      );
      for (const secret of [...secrets, 'anything', 'Bearer x', '"short"'])
        assert.ok(!line.includes(secret), line);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.equal(parsed.message, 'connect postgres://app:***@db failed with ***');
      assert.equal(parsed.user, 'app');
      assert.equal(parsed.password, '***');
    });

    it("leave the local stack's short development password readable text alone", () => {
      assert.deepEqual(secretValues(loadConfig({})), ['kiosk-local-secret']);
    });

    it("name the SDK's workflow and activity metadata as the project does, without the task token", () => {
      assert.deepEqual(
        runtimeLogFields({
          workflowId: 'batch-1',
          workflowRunId: 'r-1',
          activityType: 'loadObject',
          attempt: 2,
          taskToken: 'secret-token',
        }),
        { workflowId: 'batch-1', runId: 'r-1', activity: 'loadObject', attempt: 2 },
      );
      assert.deepEqual(
        runtimeLogFields({ workflowId: 'stream-lmnh-0', runId: 'r-2', workflowType: 'streamWorkflow' }),
        {
          workflowId: 'stream-lmnh-0',
          runId: 'r-2',
          workflowType: 'streamWorkflow',
        },
      );
    });
  });

  describe('row counters', () => {
    it('count a reject once under its first reason, and every reason in the reasons counter', async () => {
      const before = {
        loaded: await counterValue(rowsTotal, { source: 'stream', outcome: 'loaded' }),
        badVal: await counterValue(rowsTotal, { source: 'stream', outcome: 'rejected', reason: 'BAD_VAL' }),
        badAt: await counterValue(rowsTotal, { source: 'stream', outcome: 'rejected', reason: 'BAD_AT' }),
        reasonBadVal: await counterValue(rejectReasonsTotal, { source: 'stream', reason: 'BAD_VAL' }),
        reasonFuture: await counterValue(rejectReasonsTotal, { source: 'stream', reason: 'FUTURE_AT' }),
      };
      recordStoredRows('stream', 7, [
        [['BAD_AT', 'BAD_VAL'], 2],
        [['BAD_VAL'], 3],
        [['FUTURE_AT', 'BAD_VAL'], 1],
      ]);
      assert.equal(await counterValue(rowsTotal, { source: 'stream', outcome: 'loaded' }), before.loaded + 7);
      assert.equal(
        await counterValue(rowsTotal, { source: 'stream', outcome: 'rejected', reason: 'BAD_VAL' }),
        before.badVal + 3,
      );
      assert.equal(
        await counterValue(rowsTotal, { source: 'stream', outcome: 'rejected', reason: 'BAD_AT' }),
        before.badAt + 2,
      );
      assert.equal(
        await counterValue(rejectReasonsTotal, { source: 'stream', reason: 'BAD_VAL' }),
        before.reasonBadVal + 6,
      );
      assert.equal(
        await counterValue(rejectReasonsTotal, { source: 'stream', reason: 'FUTURE_AT' }),
        before.reasonFuture + 1,
      );
    });
  });

  describe('the activity interceptor', () => {
    const run = async (activityType: string, attempt: number, fn: () => Promise<string>) => {
      const logged: { message: string; meta?: Record<string, unknown> }[] = [];
      const logger = {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: (message: string, meta?: Record<string, unknown>) => logged.push({ message, meta }),
        error: () => undefined,
      };
      const env = new MockActivityEnvironment(
        { activityType, attempt },
        { interceptors: [activityMetricsInterceptor], logger },
      );
      return { result: await env.run(fn).catch((err: Error) => err.message), logged };
    };
    const observations = async (source: string) =>
      (await loadSeconds.get()).values.find(
        (v) => v.metricName === 'kiosk_load_seconds_count' && v.labels.source === source,
      )?.value ?? 0;

    it('counts a retried attempt and logs it with the activity, and times load activities even when they fail', async () => {
      const retriesBefore = await counterValue(activityRetriesTotal, { activity: 'loadObject' });
      const timedBefore = await observations('batch');
      const first = await run('loadObject', 1, () => Promise.resolve('done'));
      assert.equal(first.result, 'done');
      assert.equal(first.logged.length, 0);
      const retried = await run('loadObject', 3, () => Promise.reject(new Error('connection reset')));
      assert.equal(retried.result, 'connection reset');
      assert.equal(await counterValue(activityRetriesTotal, { activity: 'loadObject' }), retriesBefore + 1);
      assert.equal(await observations('batch'), timedBefore + 2);
      assert.equal(retried.logged[0]?.message, 'attempt 3 of loadObject');
      assert.equal(retried.logged[0]?.meta?.activityType, 'loadObject');
    });

    it('does not time activities that load nothing', async () => {
      const before = [await observations('batch'), await observations('stream')];
      await run('listHistoryObjects', 1, () => Promise.resolve('listed'));
      assert.deepEqual([await observations('batch'), await observations('stream')], before);
    });
  });

  describe('the listener', () => {
    it('parses host:port, IPv6 in brackets, and refuses the rest', () => {
      assert.deepEqual(parseListenAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
      assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
      assert.throws(() => parseListenAddress('9464'), /not host:port/);
      assert.throws(() => parseListenAddress('localhost:70000'), /not host:port/);
    });

    it('is ready only when every check answers in time, and names the ones that do not (masked)', async () => {
      const report = await checkReadiness(
        {
          postgres: () => Promise.resolve(),
          kafka: () => Promise.reject(new Error('connect ECONNREFUSED with hunter2-password')),
          temporal: () => new Promise(() => undefined),
        },
        50,
        (t) => t.replace('hunter2-password', '***'),
      );
      assert.deepEqual(report, {
        ready: false,
        checks: {
          postgres: 'ok',
          kafka: 'connect ECONNREFUSED with ***',
          temporal: 'no answer within 50 ms',
        },
      });
      assert.deepEqual(await checkReadiness({ postgres: () => Promise.resolve(1) }, 50), {
        ready: true,
        checks: { postgres: 'ok' },
      });
    });

    it('answers only requests that name a loopback Host and, from a browser, its own origin', async () => {
      const server = await startOpsServer({
        address: '127.0.0.1:0',
        checks: {},
        metrics: () => Promise.resolve({ contentType: 'text/plain', body: 'kiosk_up 1\n' }),
      });
      const get = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const req = http.get(`http://${server.address}/metrics`, { headers }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
        });
      try {
        assert.equal(await get({}), 200);
        assert.equal(await get({ origin: `http://${server.address}` }), 200);
        assert.equal(await get({ host: 'attacker.example:9464' }), 403);
        assert.equal(await get({ origin: 'http://attacker.example' }), 403);
        assert.equal(await get({ origin: 'null' }), 403);
      } finally {
        await server.close();
      }
    });

    it('addresses are validated with the rest of the configuration', () => {
      const cfg = loadConfig({});
      assert.deepEqual(cfg.metrics, { workerAddress: '127.0.0.1:9464', bridgeAddress: '127.0.0.1:9465' });
      assert.equal(loadConfig({ WORKER_METRICS_ADDRESS: '0.0.0.0:0' }).metrics.workerAddress, '0.0.0.0:0');
      assert.throws(
        () => loadConfig({ WORKER_METRICS_ADDRESS: '9464', BRIDGE_METRICS_ADDRESS: 'h:99999' }),
        /WORKER_METRICS_ADDRESS must be host:port[\s\S]*BRIDGE_METRICS_ADDRESS must be host:port/,
      );
    });
  });

  describe('London opening hours for the status line', () => {
    it('reads the London wall clock in winter and in summer time', () => {
      assert.equal(londonMinuteOfDay(new Date('2026-01-15T09:15:00Z')), 555);
      assert.equal(londonMinuteOfDay(new Date('2026-07-15T08:15:00Z')), 555);
      assert.equal(londonMinuteOfDay(new Date('2026-03-29T00:59:00Z')), 59); // just before the change
      assert.equal(londonMinuteOfDay(new Date('2026-03-29T01:00:00Z')), 120);
      assert.equal(londonMinuteOfDay(new Date('2026-07-15T23:30:00Z')), 30);
    });

    it('reports the stream as stale only after 30 minutes without a press from 09:15 to 18:15', () => {
      const summer = (hhmm: string) => new Date(`2026-07-15T${hhmm}:00+01:00`);
      assert.equal(staleWhileOpenSeconds(3600, summer('09:14')), 0);
      assert.equal(staleWhileOpenSeconds(3600, summer('09:15')), 3600);
      assert.equal(staleWhileOpenSeconds(1800, summer('12:00')), 0);
      assert.equal(staleWhileOpenSeconds(1801, summer('12:00')), 1801);
      assert.equal(staleWhileOpenSeconds(3600, summer('18:15')), 3600);
      assert.equal(staleWhileOpenSeconds(3600, summer('18:16')), 0);
      assert.equal(staleWhileOpenSeconds(undefined, summer('12:00')), 0);
      assert.equal(staleWhileOpenSeconds(3600, new Date('2026-01-15T09:20:00Z')), 3600);
    });
  });
});
