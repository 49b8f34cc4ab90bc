// The batch workflow: loads exhibition metadata, then every history object in scope, extracting and staging
// up to `maxParallel` objects at once while loading them one by one in key order (so which of two duplicate
// rows wins is decided by key order, the same in every run). Bulk data moves by reference: staging tables.
import {
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  setCurrentDetails,
  log,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Activities } from '../activities';
import type { ObjectLoadResult } from '../activities/batch-types';
import { loadObjects } from './batch-objects';
import { batchRetry } from './batch-retry';
import {
  KioskDateFrom,
  KioskDateTo,
  KioskPipeline,
  KioskRowsLoaded,
  KioskRowsRead,
  KioskRowsRejected,
  KioskSource,
} from './search-attributes';

export interface BatchInput {
  /** s3://bucket/prefix or file:///dir */
  source: string;
  /** Only these objects (names relative to the source, or full URIs). */
  keys?: string[];
  /** Only objects that landed in this window: ISO dates (inclusive days) or timestamps (to exclusive). */
  from?: string;
  to?: string;
  /** Load objects again even when this exact version was loaded before, replacing their rows. */
  reprocess?: boolean;
  /** Objects extracted at once. */
  maxParallel?: number;
  /** Started by a Schedule: the window is the interval ending at the scheduled time. */
  scheduleIntervalHours?: number;
}

export interface BatchSummary {
  runId: string;
  workflowId: string;
  source: string;
  from?: string;
  to?: string;
  objects: number;
  skippedObjects: string[];
  failedMetadata: { uri: string; problems: string[] }[];
  read: number;
  loaded: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  ratingRows: number;
  assistanceRows: number;
  emergencyRows: number;
}

export interface BatchProgress {
  phase: 'metadata' | 'listing' | 'loading' | 'done';
  objectsTotal: number;
  objectsLoaded: number;
  objectsSkipped: number;
  read: number;
  loaded: number;
  rejected: number;
}

export const batchProgressQuery = defineQuery<BatchProgress>('batchProgress');

const TemporalScheduledStartTime = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

const quick = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: batchRetry });

function scheduledWindow(input: BatchInput): { from?: string; to?: string } {
  if (input.from !== undefined || input.to !== undefined || input.scheduleIntervalHours === undefined) {
    return { from: input.from, to: input.to };
  }
  const scheduled =
    workflowInfo().typedSearchAttributes.get(TemporalScheduledStartTime) ??
    new Date(workflowInfo().startTime);
  const to = new Date(scheduled.getTime());
  const from = new Date(to.getTime() - input.scheduleIntervalHours * 3_600_000);
  return { from: from.toISOString(), to: to.toISOString() };
}

function toDate(value: string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
}

export async function batchWorkflow(input: BatchInput): Promise<BatchSummary> {
  const { runId, workflowId } = workflowInfo();
  const { from, to } = scheduledWindow(input);
  const maxParallel = Math.max(1, input.maxParallel ?? 2);
  const progress: BatchProgress = {
    phase: 'metadata',
    objectsTotal: 0,
    objectsLoaded: 0,
    objectsSkipped: 0,
    read: 0,
    loaded: 0,
    rejected: 0,
  };
  setHandler(batchProgressQuery, () => progress);
  upsertSearchAttributes([
    { key: KioskPipeline, value: 'batch' },
    { key: KioskSource, value: input.source },
    ...(from !== undefined ? [{ key: KioskDateFrom, value: toDate(from)! }] : []),
    ...(to !== undefined ? [{ key: KioskDateTo, value: toDate(to)! }] : []),
  ]);

  await quick.startRun({ runId, workflowId, source: input.source });
  const metadata = await quick.loadExhibitionMetadata({ source: input.source });
  progress.phase = 'listing';
  const listed = await quick.listHistoryObjects({ source: input.source, keys: input.keys, from, to });
  const todo = listed.filter((o) => input.reprocess === true || !o.unchangedSinceLoad);
  const skippedObjects = listed.filter((o) => !todo.includes(o)).map((o) => o.uri);
  progress.phase = 'loading';
  progress.objectsTotal = todo.length;
  progress.objectsSkipped = skippedObjects.length;

  const results: ObjectLoadResult[] = [];
  try {
    await loadObjects(runId, todo, maxParallel, (result) => {
      results.push(result);
      progress.objectsLoaded++;
      progress.read += result.read;
      progress.loaded += result.loaded;
      progress.rejected += result.rejected;
      setCurrentDetails(
        `**${progress.objectsLoaded} of ${todo.length}** objects loaded · read ${progress.read} · ` +
          `loaded ${progress.loaded} · rejected ${progress.rejected}`,
      );
    });
  } catch (err) {
    // loadObjects let its in-flight extracts settle, so every staging table can be dropped here.
    await quick.dropRunStaging({ runId });
    await quick.finishRun({ runId, status: 'failed' });
    throw err;
  }

  const ledger = await quick.finishRun({ runId, status: 'completed' });
  if (ledger.read !== ledger.loaded + ledger.rejected) {
    throw ApplicationFailure.nonRetryable(`ledger does not balance: ${JSON.stringify(ledger)}`);
  }
  progress.phase = 'done';
  upsertSearchAttributes([
    { key: KioskRowsRead, value: ledger.read },
    { key: KioskRowsLoaded, value: ledger.loaded },
    { key: KioskRowsRejected, value: ledger.rejected },
  ]);
  const sum = (f: (r: ObjectLoadResult) => number) => results.reduce((n, r) => n + f(r), 0);
  const summary: BatchSummary = {
    runId,
    workflowId,
    source: input.source,
    from,
    to,
    objects: listed.length,
    skippedObjects,
    failedMetadata: metadata.failed,
    ...ledger,
    ratingRows: sum((r) => r.ratingRows),
    assistanceRows: sum((r) => r.assistanceRows),
    emergencyRows: sum((r) => r.emergencyRows),
  };
  setCurrentDetails(
    `**done**: ${summary.objects} objects (${skippedObjects.length} unchanged, skipped) · read ${summary.read} · ` +
      `loaded ${summary.loaded} · rejected ${summary.rejected}`,
  );
  log.info('batch complete', { read: summary.read, loaded: summary.loaded, rejected: summary.rejected });
  return summary;
}
