import type { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import { KioskDateTo, KioskPipeline, KioskRowsRead } from '../../../contracts/search-attributes';
import type { BatchSummary } from '../../../batch/workflow';
import { createBucketWith, deleteBucket } from '../../support/batch';
import { startEntryPoint } from '../../support/child-process';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  SHARED_DATA,
  uniqueSuffix,
} from '../../support/isolated-env';
import { startTestWorker, type TestWorker } from '../../support/test-worker';
import type { Config } from '../../../infra/config';
import { waitFor } from '../../support/wait';

async function client(cfg: Config, args: string[]): Promise<{ code: number | string; out: string }> {
  const p = startEntryPoint('client.ts', cfg, args);
  const code = await p.exited;
  return { code, out: p.output() };
}

describe('operator CLI: batch and schedule commands', function () {
  this.timeout(180_000);
  const cfg = isolatedConfig('cli');
  let tw: TestWorker;

  before(async () => {
    await createDatabase(cfg.databaseUrl);
    await createBucketWith(cfg, SHARED_DATA);
    tw = await startTestWorker(cfg);
  });
  after(async () => {
    await tw?.stop();
    await dropDatabase(cfg.databaseUrl);
    await deleteBucket(cfg);
  });

  it('batch run --wait --json prints the run summary as one JSON object', async () => {
    const { code, out } = await client(cfg, ['batch', 'run', '--wait', '--json']);
    assert.equal(code, 0, out);
    const lines = out.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
    assert.deepEqual(
      {
        read: summary.read,
        loaded: summary.loaded,
        rejected: summary.rejected,
        rejectedByReason: summary.rejectedByReason,
      },
      { read: 2137, loaded: 2079, rejected: 58, rejectedByReason: { DUPLICATE: 6, OUTSIDE_HOURS: 52 } },
    );
    assert.equal(
      (summary.ratingRows as number) + (summary.assistanceRows as number) + (summary.emergencyRows as number),
      2079,
    );
    assert.match(String(summary.runId), /^[0-9a-f-]{36}$/);
  });

  it('makes the run findable in the Web UI by its search attributes', async () => {
    const found = await waitFor('the run in visibility', async () => {
      const ids: string[] = [];
      for await (const w of tw.env.client.workflow.list({
        query: `KioskPipeline = 'batch' AND KioskSource = 's3://${cfg.s3.bucket}/' AND KioskRowsRead = 2137`,
      })) {
        ids.push(w.workflowId);
      }
      return ids.length > 0 ? ids : undefined;
    });
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^batch-\d{4}-\d{2}-\d{2}-\d{6}$/);
    const d = await tw.env.client.workflow.getHandle(found[0]!).describe();
    assert.equal(d.typedSearchAttributes.get(KioskPipeline), 'batch');
    assert.equal(d.typedSearchAttributes.get(KioskRowsRead), 2137);
    assert.match((await d.staticSummary()) ?? '', /Batch load of all objects/);
  });

  it('refuses to start without a worker, and says how to start one', async () => {
    const { code, out } = await client(
      { ...cfg, temporal: { ...cfg.temporal, taskQueue: `idle-${uniqueSuffix()}` } },
      ['batch', 'run'],
    );
    assert.equal(code, 1);
    assert.match(out, /no worker is polling task queue 'idle-.*'.*npm run worker/);
  });

  it('fails with a one-line reason when the source is missing or Temporal is down', async () => {
    const missing = await client(cfg, ['batch', 'run', '--source', 's3://kiosk-no-such-bucket/']);
    assert.equal(missing.code, 1);
    assert.match(
      missing.out,
      /^error: source s3:\/\/kiosk-no-such-bucket\/: bucket 'kiosk-no-such-bucket' does not exist/m,
    );
    const down = await client({ ...cfg, temporal: { ...cfg.temporal, address: '127.0.0.1:1' } }, [
      'batch',
      'run',
    ]);
    assert.equal(down.code, 1);
    assert.match(down.out, /Temporal is not reachable at 127\.0\.0\.1:1.*npm run stack:up/);
  });

  it('refuses a reprocess with nothing chosen, and bad dates', async () => {
    const bare = await client(cfg, ['batch', 'reprocess']);
    assert.equal(bare.code, 2);
    assert.match(bare.out, /reprocess needs --key, --from\/--to or --all/);
    const bad = await client(cfg, ['batch', 'run', '--from', '2023-13-45']);
    assert.equal(bad.code, 2);
    assert.match(bad.out, /expected a date YYYY-MM-DD/);
  });

  describe('schedules', function () {
    const scheduleId = `kiosk-test-${uniqueSuffix()}`;
    after(async () => {
      await tw.env.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    });

    async function scheduledRuns(temporal: Client): Promise<{ workflowId: string; scheduledAt: Date }[]> {
      const d = await temporal.schedule.getHandle(scheduleId).describe();
      return d.info.recentActions.map((a) => ({
        workflowId: a.action.workflow.workflowId,
        scheduledAt: a.scheduledAt,
      }));
    }

    it('creates, describes, pauses and unpauses a schedule', async () => {
      const created = await client(cfg, [
        'schedule',
        'create',
        '--id',
        scheduleId,
        '--cron',
        '0 2 * * *',
        '--paused',
      ]);
      assert.equal(created.code, 0, created.out);
      const described = await client(cfg, ['schedule', 'describe', '--id', scheduleId, '--json']);
      const view = JSON.parse(described.out.trim()) as { paused: boolean; cron: string[]; timezone: string };
      assert.deepEqual([view.paused, view.cron, view.timezone], [true, ['0 2 * * *'], 'Europe/London']);
      assert.equal((await client(cfg, ['schedule', 'unpause', '--id', scheduleId])).code, 0);
      const after = JSON.parse(
        (await client(cfg, ['schedule', 'describe', '--id', scheduleId, '--json'])).out,
      ) as {
        paused: boolean;
        nextRuns: string[];
      };
      assert.equal(after.paused, false);
      assert.match(after.nextRuns[0] ?? '', /T0[12]:00:00/);
    });

    it('a triggered run considers every object that landed by now and skips those already loaded', async () => {
      assert.equal((await client(cfg, ['schedule', 'trigger', '--id', scheduleId])).code, 0);
      const run = await waitFor('the triggered run', async () => (await scheduledRuns(tw.env.client))[0]);
      assert.match(run.workflowId, /^batch-\d{4}-\d{2}-\d{2}T/);
      const summary = (await tw.env.client.workflow.getHandle(run.workflowId).result()) as BatchSummary;
      // The real files were uploaded minutes ago, before the trigger; the CLI run above loaded them, so this
      // run finds them unchanged and skips them.
      assert.equal(summary.objects, 4);
      assert.equal(summary.skipped, 4);
      assert.equal(summary.from, undefined);
      assert.ok(Math.abs(Date.parse(summary.landedBy!) - Date.now()) < 120_000, summary.landedBy);
    });

    it('a backfill runs once per scheduled time, each loading what had landed by its action time', async () => {
      const before = (await scheduledRuns(tw.env.client)).length;
      const res = await client(cfg, [
        'schedule',
        'backfill',
        '--id',
        scheduleId,
        '--from',
        '2020-01-01',
        '--to',
        '2020-01-03',
      ]);
      assert.equal(res.code, 0, res.out);
      const runs = await waitFor('three backfilled runs', async () => {
        const all = await scheduledRuns(tw.env.client);
        return all.length >= before + 3 ? all.slice(before) : undefined;
      });
      const summaries = await Promise.all(
        runs.map((r) => tw.env.client.workflow.getHandle(r.workflowId).result() as Promise<BatchSummary>),
      );
      // 02:00 London on 1, 2 and 3 January 2020 (GMT): nothing of the source had landed by then.
      assert.deepEqual(
        summaries.map((s) => [s.landedBy, s.objects, s.read]),
        [
          ['2020-01-01T02:00:00.000Z', 0, 0],
          ['2020-01-02T02:00:00.000Z', 0, 0],
          ['2020-01-03T02:00:00.000Z', 0, 0],
        ],
      );
      const d = await tw.env.client.workflow.getHandle(runs[0]!.workflowId).describe();
      assert.deepEqual(d.typedSearchAttributes.get(KioskDateTo), new Date('2020-01-01T02:00:00Z'));
    });

    it('deletes the schedule', async () => {
      assert.equal((await client(cfg, ['schedule', 'delete', '--id', scheduleId])).code, 0);
      const gone = await client(cfg, ['schedule', 'describe', '--id', scheduleId]);
      assert.equal(gone.code, 1);
      assert.match(gone.out, /no schedule/);
    });
  });
});
