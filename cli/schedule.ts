// `schedule ...`: the batch on a Temporal Schedule (not the deprecated cronSchedule). Each scheduled or
// backfilled run loads every object that landed by its action time and is not loaded yet in its current
// version: no window, so a paused schedule, a failed run or a clock change loses nothing.
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../infra/config';
import { batchWorkflow } from '../batch/workflow';
import { defaultSource, windowBoundArg } from './batch';
import { boundLastSecond, boundStart } from '../domain/date-window';
import { connectOrExplain } from './temporal-preflight';
import { UsageError } from './exit';

const DEFAULT_ID = 'kiosk-batch-daily';

interface CreateFlags {
  id: string;
  cron: string;
  timezone: string;
  source?: string;
  paused?: boolean;
}

/** The schedule `schedule create` makes (tests create the same one on their own task queue). */
export function batchScheduleOptions(o: {
  id: string;
  cron: string;
  timezone: string;
  source: string;
  taskQueue: string;
  workflowIdPrefix?: string;
  paused?: boolean;
}): ScheduleOptions {
  return {
    scheduleId: o.id,
    spec: { cronExpressions: [o.cron], timezone: o.timezone },
    action: {
      type: 'startWorkflow',
      workflowType: batchWorkflow,
      // Temporal appends the action time: batch-2026-11-27T02:00:00Z names the day it ran for.
      workflowId: o.workflowIdPrefix ?? 'batch',
      taskQueue: o.taskQueue,
      args: [{ source: o.source, scheduled: true }],
      staticSummary: `Scheduled batch load from ${o.source}`,
    },
    policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '1 day' },
    // The server stores cron as calendar specs; the memo keeps the expression as the operator wrote it.
    memo: { cron: o.cron, source: o.source },
    state: { paused: o.paused === true, note: `created by the kiosk-pipeline client` },
  };
}

async function withClient(fn: (client: Client, cfg: Config) => Promise<void>): Promise<void> {
  const cfg = loadConfig();
  const client = await connectOrExplain(cfg);
  try {
    await fn(client, cfg);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new Error(`no schedule '${err.scheduleId}': create it with 'schedule create'`);
    throw err;
  } finally {
    await client.connection.close();
  }
}

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('run the batch on a Temporal Schedule');
  const id = (cmd: Command) => cmd.option('--id <id>', 'schedule id', DEFAULT_ID);

  id(schedule.command('create'))
    .description(
      'create the schedule: each run loads every object that landed by its action time and is not loaded ' +
        'yet in its current version (nothing is lost to a paused schedule, a failed run or a clock change)',
    )
    .requiredOption('--cron <expr>', 'cron expression, e.g. "0 2 * * *" for 02:00 every day')
    .option('--timezone <tz>', 'time zone of the cron expression', 'Europe/London')
    .option('--source <uri>', 's3://bucket/prefix or file:///dir (default: s3://$S3_BUCKET/$S3_PREFIX)')
    .option('--paused', 'create it paused')
    .action((flags: CreateFlags) =>
      withClient(async (client, cfg) => {
        const source = flags.source ?? defaultSource(cfg);
        await client.schedule.create(
          batchScheduleOptions({ ...flags, source, taskQueue: cfg.temporal.taskQueue }),
        );
        console.log(`created schedule ${flags.id}: "${flags.cron}" (${flags.timezone}), source ${source}`);
      }),
    );

  id(schedule.command('describe'))
    .description('show the schedule, its next runs and its recent runs')
    .option('--json', 'print as JSON')
    .action((flags: { id: string; json?: boolean }) =>
      withClient(async (client) => {
        const d = await client.schedule.getHandle(flags.id).describe();
        const view = {
          id: d.scheduleId,
          paused: d.state.paused,
          note: d.state.note,
          cron: typeof d.memo?.cron === 'string' ? [d.memo.cron] : [],
          timezone: d.spec.timezone,
          nextRuns: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
          recentRuns: d.info.recentActions.map((a) => ({
            scheduledAt: a.scheduledAt.toISOString(),
            workflowId: a.action.workflow.workflowId,
          })),
          runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
        };
        if (flags.json) console.log(JSON.stringify(view));
        else {
          console.log(`schedule   ${view.id}${view.paused ? '  (PAUSED)' : ''}`);
          console.log(`cron       ${view.cron.join(', ')} (${view.timezone ?? 'UTC'})`);
          if (view.note) console.log(`note       ${view.note}`);
          console.log(`next       ${view.nextRuns.join(', ') || '-'}`);
          for (const r of view.recentRuns) console.log(`ran        ${r.scheduledAt}  ${r.workflowId}`);
        }
      }),
    );

  id(schedule.command('pause'))
    .description('pause the schedule')
    .option('--note <text>', 'why it is paused')
    .action((flags: { id: string; note?: string }) =>
      withClient(async (client) => {
        await client.schedule
          .getHandle(flags.id)
          .pause(flags.note ?? 'paused from the kiosk-pipeline client');
        console.log(`paused ${flags.id}`);
      }),
    );

  id(schedule.command('unpause'))
    .description('resume the schedule')
    .action((flags: { id: string }) =>
      withClient(async (client) => {
        await client.schedule.getHandle(flags.id).unpause('resumed from the kiosk-pipeline client');
        console.log(`unpaused ${flags.id}`);
      }),
    );

  id(schedule.command('trigger'))
    .description('start one run now (it loads what has landed by now)')
    .action((flags: { id: string }) =>
      withClient(async (client) => {
        await client.schedule.getHandle(flags.id).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
        console.log(`triggered ${flags.id}`);
      }),
    );

  id(schedule.command('backfill'))
    .description(
      'run every action the schedule would have taken between two times, one after another; each loads ' +
        'what had landed by its own action time',
    )
    .requiredOption('--from <date>', 'start (YYYY-MM-DD or ISO time)', windowBoundArg)
    .requiredOption('--to <date>', 'end (YYYY-MM-DD or ISO time)', windowBoundArg)
    .action((flags: { id: string; from: string; to: string }) =>
      withClient(async (client) => {
        const start = boundStart(flags.from);
        const end = boundLastSecond(flags.to);
        if (start >= end) throw new UsageError('--from must be before --to');
        // BUFFER_ALL: the default (SKIP) would drop every run but the first.
        await client.schedule
          .getHandle(flags.id)
          .backfill({ start, end, overlap: ScheduleOverlapPolicy.BUFFER_ALL });
        console.log(`backfill requested for ${flags.id}: ${start.toISOString()} .. ${end.toISOString()}`);
      }),
    );

  id(schedule.command('delete'))
    .description('delete the schedule (runs already started are not affected)')
    .action((flags: { id: string }) =>
      withClient(async (client) => {
        await client.schedule.getHandle(flags.id).delete();
        console.log(`deleted ${flags.id}`);
      }),
    );
}
