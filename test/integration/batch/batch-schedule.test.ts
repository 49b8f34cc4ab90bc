// A daily 02:00 Europe/London schedule driven over past days by backfill (BUFFER_ALL), on a folder source
// whose files' mtimes say when each object landed: every object is loaded by the first action at or after
// it landed (or the first good one after), through both clock changes, a pause, a failed run and a late
// arrival.
import { ScheduleOverlapPolicy, WorkflowFailedError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { batchScheduleOptions } from '../../../cli/schedule';
import { createKnex } from '../../../infra/db';
import type { BatchSummary } from '../../../batch/workflow';
import { createDatabase, dropDatabase, isolatedConfig, uniqueSuffix } from '../../support/isolated-env';
import { startTestWorker, type TestWorker } from '../../support/test-worker';
import { waitFor } from '../../support/wait';

/** One scheduled pipeline over its own folder: objects land in it, actions run over past days. */
class ScheduledSource {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-schedule-'));
  readonly id = `kiosk-test-schedule-${uniqueSuffix()}`;
  readonly prefix = `batch-test-${uniqueSuffix()}`;
  private rows = 0;

  constructor(private readonly client: Client) {}

  get source(): string {
    return pathToFileURL(this.dir).href + '/';
  }

  async create(taskQueue: string): Promise<void> {
    await this.client.schedule.create(
      batchScheduleOptions({
        id: this.id,
        cron: '0 2 * * *',
        timezone: 'Europe/London',
        source: this.source,
        taskQueue,
        workflowIdPrefix: this.prefix,
      }),
    );
  }

  /** An object that landed at `at` (its mtime), with one press of its own. */
  land(name: string, at: string): void {
    const file = path.join(this.dir, `${name}.csv`);
    this.rows++;
    const second = String(this.rows % 60).padStart(2, '0');
    const minute = String(Math.floor(this.rows / 60)).padStart(2, '0');
    fs.writeFileSync(file, `at,site,val,type\n2023-03-06 10:${minute}:${second},1,3,\n`);
    fs.utimesSync(file, new Date(at), new Date(at));
  }

  workflowId(at: string): string {
    return `${this.prefix}-${new Date(at).toISOString().replace('.000Z', 'Z')}`;
  }

  /** Backfills [from, to] and waits for the runs of the given action times, in order. */
  async backfill(from: string, to: string, actionTimes: string[]): Promise<('completed' | 'failed')[]> {
    await this.client.schedule.getHandle(this.id).backfill({
      start: new Date(from),
      end: new Date(to),
      overlap: ScheduleOverlapPolicy.BUFFER_ALL,
    });
    const outcomes: ('completed' | 'failed')[] = [];
    for (const at of actionTimes) {
      const handle = this.client.workflow.getHandle<(i: unknown) => Promise<BatchSummary>>(
        this.workflowId(at),
      );
      await waitFor(`the run of ${at}`, () =>
        handle.describe().then(
          () => true,
          () => undefined,
        ),
      );
      outcomes.push(
        await handle.result().then(
          () => 'completed' as const,
          (err: unknown) => {
            if (err instanceof WorkflowFailedError) return 'failed' as const;
            throw err;
          },
        ),
      );
    }
    return outcomes;
  }

  /** One action: a backfill of the minute around it. */
  action(at: string): Promise<('completed' | 'failed')[]> {
    const t = Date.parse(at);
    return this.backfill(new Date(t - 60_000).toISOString(), new Date(t + 60_000).toISOString(), [at]);
  }

  /** Object name to the workflow id of the run that loaded it. */
  async loadedBy(knex: Knex): Promise<Record<string, string>> {
    const rows = await knex('source_object as s')
      .join('pipeline_run as p', 'p.run_id', 's.run_id')
      .where('s.source_object', 'like', `${this.source}%`)
      .select<{ source_object: string; workflow_id: string }[]>('s.source_object', 'p.workflow_id');
    return Object.fromEntries(
      rows.map((r) => [path.basename(r.source_object, '.csv'), r.workflow_id.slice(this.prefix.length + 1)]),
    );
  }

  async close(): Promise<void> {
    await this.client.schedule
      .getHandle(this.id)
      .delete()
      .catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.rmSync(`${this.dir}.away`, { recursive: true, force: true });
  }
}

describe('scheduled batch runs lose nothing', function () {
  this.timeout(180_000);
  const cfg = isolatedConfig('schedule');
  let knex: Knex;
  let tw: TestWorker;
  const sources: ScheduledSource[] = [];

  // Creating and dropping a database waits on the shared disk's syncs: minutes when it is busy.
  before(async function () {
    this.timeout(600_000);
    await createDatabase(cfg.databaseUrl);
    knex = createKnex(cfg.databaseUrl, 2);
    tw = await startTestWorker(cfg);
  });
  after(async function () {
    this.timeout(600_000);
    for (const s of sources) await s.close();
    await tw?.stop();
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
  });

  async function scheduled(): Promise<ScheduledSource> {
    const s = new ScheduledSource(tw.env.client);
    sources.push(s);
    await s.create(cfg.temporal.taskQueue);
    return s;
  }

  it('spring forward (29 March 2026): each object by the first action at or after it landed', async () => {
    const s = await scheduled();
    s.land('a-before-0200-gmt', '2026-03-28T01:59:00Z');
    s.land('b-at-the-action-time', '2026-03-28T02:00:00Z');
    s.land('c-night-of-the-change', '2026-03-29T00:30:00Z');
    s.land('d-after-0200-bst', '2026-03-29T01:30:00Z');
    s.land('e-after-the-range', '2026-03-30T05:00:00Z');
    // 02:00 London is 02:00Z in GMT and 01:00Z in BST.
    const actions = ['2026-03-28T02:00:00Z', '2026-03-29T01:00:00Z', '2026-03-30T01:00:00Z'];
    const outcomes = await s.backfill('2026-03-27T12:00:00Z', '2026-03-30T12:00:00Z', actions);
    assert.deepEqual(outcomes, ['completed', 'completed', 'completed']);
    assert.deepEqual(await s.loadedBy(knex), {
      'a-before-0200-gmt': '2026-03-28T02:00:00Z',
      'b-at-the-action-time': '2026-03-28T02:00:00Z',
      'c-night-of-the-change': '2026-03-29T01:00:00Z',
      'd-after-0200-bst': '2026-03-30T01:00:00Z',
    });
  });

  it('fall back (25 October 2026): the hour a 24-hour window missed is loaded', async () => {
    const s = await scheduled();
    s.land('a-before-0100z', '2026-10-24T00:30:00Z');
    s.land('b-0130z-on-the-24th', '2026-10-24T01:30:00Z');
    s.land('c-0130z-on-the-25th', '2026-10-25T01:30:00Z');
    s.land('d-at-the-action-time', '2026-10-25T02:00:00Z');
    s.land('e-after-0200-gmt', '2026-10-25T02:30:00Z');
    const actions = ['2026-10-24T01:00:00Z', '2026-10-25T02:00:00Z', '2026-10-26T02:00:00Z'];
    const outcomes = await s.backfill('2026-10-23T12:00:00Z', '2026-10-26T12:00:00Z', actions);
    assert.deepEqual(outcomes, ['completed', 'completed', 'completed']);
    assert.deepEqual(await s.loadedBy(knex), {
      'a-before-0100z': '2026-10-24T01:00:00Z',
      'b-0130z-on-the-24th': '2026-10-25T02:00:00Z',
      'c-0130z-on-the-25th': '2026-10-25T02:00:00Z',
      'd-at-the-action-time': '2026-10-25T02:00:00Z',
      'e-after-0200-gmt': '2026-10-26T02:00:00Z',
    });
  });

  it('a paused then resumed schedule: the first action after the pause loads what landed meanwhile', async () => {
    const s = await scheduled();
    s.land('a-day-1', '2026-01-05T12:00:00Z');
    assert.deepEqual(await s.action('2026-01-06T02:00:00Z'), ['completed']);
    const handle = tw.env.client.schedule.getHandle(s.id);
    await handle.pause('test: paused over two days');
    assert.equal((await handle.describe()).state.paused, true);
    // No actions while paused (7 and 8 January); objects keep landing.
    s.land('b-day-2', '2026-01-06T12:00:00Z');
    s.land('c-day-3', '2026-01-07T12:00:00Z');
    s.land('d-day-4', '2026-01-08T12:00:00Z');
    await handle.unpause('test: resumed');
    assert.equal((await handle.describe()).state.paused, false);
    assert.deepEqual(await s.action('2026-01-09T02:00:00Z'), ['completed']);
    assert.deepEqual(await s.loadedBy(knex), {
      'a-day-1': '2026-01-06T02:00:00Z',
      'b-day-2': '2026-01-09T02:00:00Z',
      'c-day-3': '2026-01-09T02:00:00Z',
      'd-day-4': '2026-01-09T02:00:00Z',
    });
  });

  it('a failed run followed by a good one: the good one loads what the failed one did not', async () => {
    const s = await scheduled();
    s.land('a-day-1', '2026-02-01T12:00:00Z');
    assert.deepEqual(await s.action('2026-02-02T02:00:00Z'), ['completed']);
    s.land('b-day-2', '2026-02-02T12:00:00Z');
    fs.renameSync(s.dir, `${s.dir}.away`); // the source is missing for the next run
    assert.deepEqual(await s.action('2026-02-03T02:00:00Z'), ['failed']);
    fs.renameSync(`${s.dir}.away`, s.dir);
    s.land('c-day-3', '2026-02-03T12:00:00Z');
    assert.deepEqual(await s.action('2026-02-04T02:00:00Z'), ['completed']);
    assert.deepEqual(await s.loadedBy(knex), {
      'a-day-1': '2026-02-02T02:00:00Z',
      'b-day-2': '2026-02-04T02:00:00Z',
      'c-day-3': '2026-02-04T02:00:00Z',
    });
    const ledger = await knex('pipeline_run')
      .where('workflow_id', 'like', `${s.prefix}-%`)
      .orderBy('workflow_id')
      .select<{ workflow_id: string; status: string }[]>('workflow_id', 'status');
    assert.deepEqual(
      ledger.map((r) => r.status),
      ['completed', 'failed', 'completed'],
    );
  });

  it('an object whose LastModified is older than the last run is loaded by the next one (BST)', async () => {
    const s = await scheduled();
    s.land('a-day-1', '2026-04-01T12:00:00Z');
    assert.deepEqual(await s.action('2026-04-02T01:00:00Z'), ['completed']);
    assert.deepEqual(await s.action('2026-04-03T01:00:00Z'), ['completed']);
    // Copied in late with its original time kept: it "landed" before both runs.
    s.land('b-late-arrival', '2026-03-31T09:00:00Z');
    assert.deepEqual(await s.action('2026-04-04T01:00:00Z'), ['completed']);
    assert.deepEqual(await s.loadedBy(knex), {
      'a-day-1': '2026-04-02T01:00:00Z',
      'b-late-arrival': '2026-04-04T01:00:00Z',
    });
  });
});
