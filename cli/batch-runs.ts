// `batch list | status | cancel`: the batch runs as the ledger records them, one run (with its live progress
// from Temporal), and cancelling one. A cancelled run drops its staging and records `cancelled` in the ledger
// itself (batch/workflow.ts); the command waits until it has.
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../infra/config';
import { createKnex } from '../infra/db';
import { listRuns, runOfWorkflow, type RunRecord } from '../ledger/run-queries';
import { batchProgressQuery, type BatchProgress } from '../batch/workflow';
import { UsageError } from './exit';
import { connectOrExplain, requireWorker, webUiLink } from './temporal-preflight';

const STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
const BATCH_WORKFLOW_TYPE = 'batchWorkflow';

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected 1 to 10000');
  return n;
}

async function withKnex<T>(cfg: Config, fn: (knex: Knex) => Promise<T>): Promise<T> {
  const knex = createKnex(cfg.databaseUrl, 1);
  try {
    return await fn(knex);
  } finally {
    await knex.destroy();
  }
}

const fmt = (n: number) => n.toLocaleString('en-GB');

function runLine(r: RunRecord): string {
  return (
    `${r.workflowId.padEnd(32)} ${r.status.padEnd(9)} ${r.startedAt}  ${(r.finishedAt ?? '-').padEnd(24)} ` +
    `read ${fmt(r.read)} · loaded ${fmt(r.loaded)} · rejected ${fmt(r.rejected)}`
  );
}

interface TemporalView {
  status: string;
  progress: BatchProgress | null;
  link: string;
}

async function temporalView(client: Client, cfg: Config, workflowId: string): Promise<TemporalView | null> {
  const handle = client.workflow.getHandle(workflowId);
  let status: string;
  try {
    const d = await handle.describe();
    if (d.type !== BATCH_WORKFLOW_TYPE) throw new UsageError(`${workflowId} is a ${d.type}, not a batch run`);
    status = d.status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
  const progress =
    status === 'RUNNING'
      ? await client.withDeadline(Date.now() + 3000, () => handle.query(batchProgressQuery)).catch(() => null)
      : null;
  return { status, progress, link: webUiLink(cfg, workflowId) };
}

async function showStatus(workflowId: string, flags: { json?: boolean }): Promise<void> {
  const cfg = loadConfig();
  const ledger = await withKnex(cfg, (knex) => runOfWorkflow(knex, workflowId));
  if (ledger !== undefined && ledger.kind !== 'batch')
    throw new UsageError(`${workflowId} is a ${ledger.kind} run, not a batch run`);
  const client = await connectOrExplain(cfg);
  let temporal: TemporalView | null;
  try {
    temporal = await temporalView(client, cfg, workflowId);
  } finally {
    await client.connection.close();
  }
  if (ledger === undefined && temporal === null) throw new Error(`no batch run ${workflowId}`);
  if (flags.json) {
    console.log(JSON.stringify({ workflowId, ledger: ledger ?? null, temporal }));
    return;
  }
  console.log(`workflow   ${workflowId}`);
  if (temporal) console.log(`temporal   ${temporal.status}  ${temporal.link}`);
  else console.log('temporal   not found (its history may have passed the retention period)');
  if (temporal?.progress) {
    const p = temporal.progress;
    console.log(
      `progress   ${p.phase}: objects ${p.objectsLoaded}/${p.objectsTotal} · read ${fmt(p.read)} · loaded ` +
        `${fmt(p.loaded)} · rejected ${fmt(p.rejected)}`,
    );
  }
  if (ledger) {
    console.log(`ledger     ${ledger.status} (run ${ledger.runId})`);
    console.log(`source     ${ledger.source}`);
    console.log(
      `started    ${ledger.startedAt}${ledger.finishedAt ? `, finished ${ledger.finishedAt}` : ''}`,
    );
    console.log(
      `counts     read ${fmt(ledger.read)} · loaded ${fmt(ledger.loaded)} · rejected ${fmt(ledger.rejected)}`,
    );
  } else console.log('ledger     no row yet (the run has not started its first step)');
}

async function cancelRun(workflowId: string, flags: { wait: boolean; json?: boolean }): Promise<void> {
  const cfg = loadConfig();
  const client = await connectOrExplain(cfg);
  try {
    const view = await temporalView(client, cfg, workflowId);
    if (view === null) throw new Error(`no batch run ${workflowId}`);
    if (view.status !== 'RUNNING')
      throw new Error(`${workflowId} is ${view.status}, not running: nothing to cancel`);
    // Without a worker the run cannot record its ending, so waiting would never end.
    if (flags.wait) await requireWorker(client, cfg);
    const handle = client.workflow.getHandle(workflowId);
    await handle.cancel();
    if (!flags.wait) {
      if (flags.json) console.log(JSON.stringify({ workflowId, cancelRequested: true }));
      else console.log(`cancellation of ${workflowId} requested`);
      return;
    }
    process.stderr.write(`cancelling ${workflowId}: waiting for it to record its ending\n`);
    try {
      await handle.result();
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
    }
    const ledger = await withKnex(cfg, (knex) => runOfWorkflow(knex, workflowId));
    if (flags.json) console.log(JSON.stringify({ workflowId, ledger: ledger ?? null }));
    else if (ledger) console.log(`${workflowId}: ${ledger.status}\n${runLine(ledger)}`);
    else console.log(`${workflowId}: cancelled before it opened its ledger row`);
    if (ledger && ledger.status !== 'cancelled')
      throw new Error(`${workflowId} ended ${ledger.status} before the cancellation reached it`);
  } finally {
    await client.connection.close();
  }
}

export function registerBatchRunCommands(batch: Command): void {
  batch
    .command('list')
    .description('the latest batch runs from the run ledger, newest first, with their counts')
    .addOption(new Option('--status <status>', 'only runs with this outcome').choices(STATUSES))
    .option('--limit <n>', 'at most this many', count, 20)
    .option('--json', 'one JSON object per run, per line')
    .action(async (flags: { status?: RunRecord['status']; limit: number; json?: boolean }) => {
      const runs = await withKnex(loadConfig(), (knex) =>
        listRuns(knex, { kind: 'batch', status: flags.status, limit: flags.limit }),
      );
      for (const r of runs) console.log(flags.json ? JSON.stringify(r) : runLine(r));
      if (!flags.json && runs.length === 0) console.error('no batch runs');
    });
  batch
    .command('status')
    .argument('<workflow-id>', 'the run, as batch list shows it (e.g. batch-2026-11-27-203512)')
    .description("one batch run: Temporal's status and live progress, and the ledger's counts")
    .option('--json', 'print as one JSON object')
    .action((workflowId: string, flags: { json?: boolean }) => showStatus(workflowId, flags));
  batch
    .command('cancel')
    .argument('<workflow-id>', 'the running batch run to cancel')
    .description(
      'cancel a running batch run: it stops its extracts, drops its staging and records cancelled in the ' +
        'ledger; objects it loaded stay loaded (a later run skips them)',
    )
    .option('--no-wait', 'only request the cancellation; do not wait for the ledger to record it')
    .option('--json', 'print the outcome as one JSON object')
    .action((workflowId: string, flags: { wait: boolean; json?: boolean }) => cancelRun(workflowId, flags));
}
