// `stream status`: per partition, the Kafka side (end of log, committed position, lag) next to the streaming
// workflow's own account (last offset taken, buffered, loaded, rejected).
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { InvalidArgumentError, type Command } from 'commander';
import { runStreamDemo } from './stream-demo';
import { readPartitionOffsets } from '../kafka/offsets';
import { loadBridgeSettings } from '../bridge/settings';
import { loadConfig, type Config } from '../infra/config';
import { createTemporalClient } from '../infra/temporal';
import { KioskRowsLoaded, KioskRowsRejected } from '../contracts/search-attributes';
import { resumeSignal, stateQuery, streamWorkflowId, type StreamState } from '../contracts/stream';

export interface PartitionStatus {
  partition: number;
  workflowId: string;
  /** RUNNING, CONTINUED_AS_NEW, TERMINATED…, or null when Kafka has sent this partition nothing yet. */
  workflowStatus: string | null;
  /** The group's committed position: the next offset the bridge will read. */
  committedOffset: number | null;
  endOffset: number;
  /** Records in Kafka that Temporal has not accepted yet. */
  lag: number;
  /** Highest offset the workflow took. */
  workflowLastOffset: number | null;
  buffered: number | null;
  loaded: number | null;
  rejected: number | null;
  lastFlushAt: string | null;
  /** The topic id the workflow's chain reads (null from older chains, or without a worker to answer). */
  topicId: string | null;
  /** Why the partition is stopped (its offsets went backwards), or null; `stream resume` clears it. */
  error: string | null;
  /** Where the counts come from: the workflow's query, or its search attributes when no worker answers. */
  from: 'query' | 'search-attributes' | 'none';
}

const QUERY_TIMEOUT_MS = 3000;

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new InvalidArgumentError('must be a positive integer');
  return value;
}

function partitionNumber(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError('must be a partition number');
  return value;
}

async function workflowSide(
  client: Client,
  workflowId: string,
): Promise<Omit<PartitionStatus, 'partition' | 'committedOffset' | 'endOffset' | 'lag'>> {
  const none = {
    workflowId,
    workflowStatus: null,
    workflowLastOffset: null,
    buffered: null,
    loaded: null,
    rejected: null,
    lastFlushAt: null,
    topicId: null,
    error: null,
    from: 'none' as const,
  };
  const handle = client.workflow.getHandle(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return none;
    throw err;
  }
  const status = description.status.name;
  try {
    const state: StreamState = await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
      handle.query(stateQuery),
    );
    return {
      ...none,
      workflowStatus: status,
      workflowLastOffset: state.lastOffset < 0 ? null : state.lastOffset,
      buffered: state.buffered + state.loading,
      loaded: state.loaded,
      rejected: state.rejected,
      lastFlushAt: state.lastFlush?.at ?? null,
      topicId: state.topicId ?? null,
      error: state.stopped ? `STOPPED ${state.stopped.at}: ${state.stopped.reason}` : null,
      from: 'query',
    };
  } catch {
    // No worker to answer (or a closed run): the counts of the last flush are still in the search attributes.
    const attributes = description.typedSearchAttributes;
    return {
      ...none,
      workflowStatus: status,
      loaded: attributes.get(KioskRowsLoaded) ?? null,
      rejected: attributes.get(KioskRowsRejected) ?? null,
      from: 'search-attributes',
    };
  }
}

export async function collectStreamStatus(config: Config): Promise<PartitionStatus[]> {
  const { topic, groupId } = config.kafka;
  const offsets = await readPartitionOffsets(config.kafka, topic, groupId);
  let client: Client;
  try {
    client = await createTemporalClient(config.temporal);
  } catch (err) {
    throw new Error(`cannot reach Temporal at ${config.temporal.address}: ${(err as Error).message}`);
  }
  try {
    return await Promise.all(
      offsets.map(async (o) => ({
        partition: o.partition,
        committedOffset: o.committed,
        endOffset: o.end,
        lag: o.end - (o.committed ?? o.start),
        ...(await workflowSide(client, streamWorkflowId(topic, o.partition))),
      })),
    );
  } finally {
    await client.connection.close();
  }
}

const COLUMNS: [header: string, cell: (s: PartitionStatus) => string][] = [
  ['partition', (s) => String(s.partition)],
  ['workflow', (s) => s.workflowId],
  ['status', (s) => s.workflowStatus ?? '-'],
  ['committed', (s) => (s.committedOffset === null ? '-' : String(s.committedOffset))],
  ['end', (s) => String(s.endOffset)],
  ['lag', (s) => String(s.lag)],
  ['wf offset', (s) => (s.workflowLastOffset === null ? '-' : String(s.workflowLastOffset))],
  ['buffered', (s) => (s.buffered === null ? '-' : String(s.buffered))],
  ['loaded', (s) => (s.loaded === null ? '-' : String(s.loaded))],
  ['rejected', (s) => (s.rejected === null ? '-' : String(s.rejected))],
  ['last flush', (s) => s.lastFlushAt ?? '-'],
  ['error', (s) => (s.error === null ? '-' : 'STOPPED (below)')],
];

export function formatStatusTable(rows: readonly PartitionStatus[]): string {
  const cells = [COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, cell]) => cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function registerStreamCommands(program: Command): void {
  const stream = program.command('stream').description('the Kafka stream: bridge and streaming workflows');
  stream
    .command('status')
    .description(
      'per partition: workflow id, committed Kafka offset, log end, lag (records Temporal has not accepted), ' +
        "the workflow's last offset, buffered, loaded and rejected counts",
    )
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      const rows = await collectStreamStatus(config);
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      console.log(`topic ${config.kafka.topic}, consumer group ${config.kafka.groupId}`);
      console.log(formatStatusTable(rows));
      for (const r of rows.filter((row) => row.error !== null)) {
        console.log(`partition ${r.partition}: ${r.error}`);
        console.log(`  once understood: \`kiosk stream resume ${r.partition}\``);
      }
      if (rows.some((r) => r.from === 'search-attributes')) {
        console.log(
          "(no worker answered the query: loaded/rejected are from the last flush's search attributes)",
        );
      }
    });

  stream
    .command('resume')
    .argument('<partition>', 'the stopped partition', partitionNumber)
    .description(
      'resume a partition its workflow stopped because its offsets went backwards (see `stream status`): the ' +
        'chain goes on after its last offset, so the records at or below it are not loaded',
    )
    .action(async (partition: number) => {
      const config = loadConfig();
      const client = await createTemporalClient(config.temporal);
      try {
        const handle = client.workflow.getHandle(streamWorkflowId(config.kafka.topic, partition));
        const state = await handle.query(stateQuery);
        if (state.stopped === undefined) {
          console.log(`partition ${partition} is not stopped; nothing to do`);
          return;
        }
        await handle.signal(resumeSignal, { by: 'stream resume' });
        console.log(`partition ${partition} resumed; the bridge resumes it within a second`);
      } finally {
        await client.connection.close();
      }
    });

  stream
    .command('demo')
    .description(
      'run the bridge and the kiosk simulator for a short while (and a worker, unless --no-worker) and show ' +
        'the rows arriving in PostgreSQL',
    )
    .option('--seconds <s>', 'how long to publish', positiveInteger, 15)
    .option('--rate <n>', 'messages per second', positiveInteger, 200)
    .option('--seed <s>', 'random seed for the simulated traffic', positiveInteger, 2026)
    .option('--no-worker', 'do not start a worker here (one already serves the task queue)')
    .action(async (opts: { seconds: number; rate: number; seed: number; worker: boolean }) => {
      const result = await runStreamDemo(loadConfig(), loadBridgeSettings(), opts);
      if (result.interactions + result.rejects === 0) throw new Error('no rows arrived');
    });
}
