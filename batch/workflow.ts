// The batch workflow: loads exhibition metadata, then the history objects in scope page by page (listing one
// page, loading it through the per-object chain of workflow-objects.ts), continuing as new between pages
// before its history grows large. The ledger row, keyed by the first run's id, stays one row for the logical run and
// records every ending: completed, failed (at any step) or cancelled; staging is dropped on the way out.
import {
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  setCurrentDetails,
  log,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { BatchActivities } from './activities';
import type { ObjectLoadResult, RunStatus } from '../contracts/batch';
import { boundStart } from '../domain/date-window';
import { loadObjects } from './workflow-objects';
import { BATCH_STEP } from '../contracts/activity-policies';
import {
  KioskDateFrom,
  KioskDateTo,
  KioskPipeline,
  KioskRowsLoaded,
  KioskRowsRead,
  KioskRowsRejected,
  KioskSource,
} from '../contracts/search-attributes';

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
  /**
   * Started by a Schedule: loads every object that landed at or before the action time
   * (TemporalScheduledStartTime) and is not loaded yet in its current version. No lower bound, so a paused
   * schedule, a skipped or failed run, or a clock change loses nothing.
   */
  scheduled?: boolean;
  /** Schedules created before `scheduled` existed pass this; it now means `scheduled` (the window is gone). */
  scheduleIntervalHours?: number;
  /** Objects per page (default 100). */
  pageSize?: number;
  /** Pages per run before continuing as new even if the server does not suggest it yet (default 2). */
  pagesPerRun?: number;
  /** Set only by the workflow itself when it continues as new. */
  continued?: BatchContinuation;
}

/** What a run carries into its continuation. */
export interface BatchContinuation {
  /** The first run's id: the ledger row, the staging names and source_object.run_id use it throughout. */
  ledgerRunId: string;
  /** Where the next page starts. */
  cursor: string;
  /** The scheduled run's action time, fixed by the first run. */
  landedBy?: string;
  totals: RunningTotals;
  failedMetadata: { uri: string; problems: string[] }[];
}

interface RunningTotals {
  objects: number;
  skipped: number;
  loadedObjects: number;
  read: number;
  loaded: number;
  rejected: number;
  ratingRows: number;
  assistanceRows: number;
  emergencyRows: number;
  runs: number;
}

export interface BatchSummary {
  runId: string;
  workflowId: string;
  source: string;
  from?: string;
  to?: string;
  /** Objects in scope, and of those the ones skipped because this version was loaded before. */
  objects: number;
  skipped: number;
  /** The scheduled run's action time: it loaded what had landed by then. */
  landedBy?: string;
  /** Executions the run took (1 + continue-as-new count). */
  runs: number;
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

const quick = proxyActivities<BatchActivities>(BATCH_STEP);

const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_PAGES_PER_RUN = 2;

/** The instant a scheduled run loads up to: its action time (a trigger's is its start time). */
function scheduledActionTime(input: BatchInput): string | undefined {
  if (input.continued) return input.continued.landedBy;
  if (input.scheduled !== true && input.scheduleIntervalHours === undefined) return undefined;
  const at =
    workflowInfo().typedSearchAttributes.get(TemporalScheduledStartTime) ??
    new Date(workflowInfo().startTime);
  return at.toISOString();
}

const zeroTotals = (): RunningTotals => ({
  objects: 0,
  skipped: 0,
  loadedObjects: 0,
  read: 0,
  loaded: 0,
  rejected: 0,
  ratingRows: 0,
  assistanceRows: 0,
  emergencyRows: 0,
  runs: 0,
});

type Outcome = { done: true; summary: BatchSummary } | { done: false; next: BatchContinuation };

export async function batchWorkflow(input: BatchInput): Promise<BatchSummary> {
  const { runId, workflowId } = workflowInfo();
  const ledgerRunId = input.continued?.ledgerRunId ?? runId;
  const landedBy = scheduledActionTime(input);
  const totals = input.continued?.totals ?? zeroTotals();
  totals.runs++;
  const progress: BatchProgress = {
    phase: input.continued ? 'loading' : 'metadata',
    objectsTotal: totals.objects - totals.skipped,
    objectsLoaded: totals.loadedObjects,
    objectsSkipped: totals.skipped,
    read: totals.read,
    loaded: totals.loaded,
    rejected: totals.rejected,
  };
  setHandler(batchProgressQuery, () => progress);

  if (!input.continued) {
    const to = input.to ?? landedBy;
    upsertSearchAttributes([
      { key: KioskPipeline, value: 'batch' },
      { key: KioskSource, value: input.source },
      ...(input.from !== undefined ? [{ key: KioskDateFrom, value: boundStart(input.from) }] : []),
      ...(to !== undefined ? [{ key: KioskDateTo, value: boundStart(to) }] : []),
    ]);
    await quick.startRun({ runId: ledgerRunId, workflowId, source: input.source });
  }

  let outcome: Outcome;
  try {
    outcome = await runPages(input, ledgerRunId, landedBy, totals, progress);
  } catch (err) {
    const status: RunStatus = isCancellation(err) ? 'cancelled' : 'failed';
    // Runs even when the workflow is cancelled: loadObjects let its in-flight extracts settle first.
    await CancellationScope.nonCancellable(async () => {
      await quick.dropRunStaging({ runId: ledgerRunId });
      await quick.finishRun({ runId: ledgerRunId, status });
    });
    log.warn(`batch ${status}`, { ledgerRunId, error: String(err) });
    throw err;
  }
  if (!outcome.done) {
    log.info('batch continues as new', { ledgerRunId, cursor: outcome.next.cursor });
    await continueAsNew<typeof batchWorkflow>({ ...input, continued: outcome.next });
  }
  return (outcome as { summary: BatchSummary }).summary;
}

/** The body of one execution: metadata (first run only), then pages until the end or time to continue. */
async function runPages(
  input: BatchInput,
  ledgerRunId: string,
  landedBy: string | undefined,
  totals: RunningTotals,
  progress: BatchProgress,
): Promise<Outcome> {
  const { workflowId } = workflowInfo();
  const maxParallel = Math.max(1, input.maxParallel ?? 2);
  const pageSize = Math.max(1, input.pageSize ?? DEFAULT_PAGE_SIZE);
  const pagesPerRun = Math.max(1, input.pagesPerRun ?? DEFAULT_PAGES_PER_RUN);
  let failedMetadata = input.continued?.failedMetadata ?? [];
  if (!input.continued) {
    failedMetadata = (await quick.loadExhibitionMetadata({ source: input.source })).failed;
    if (input.keys && input.keys.length > 0)
      await quick.checkNamedObjects({ source: input.source, keys: input.keys });
  }

  let cursor = input.continued?.cursor;
  for (let pages = 1; ; pages++) {
    progress.phase = 'listing';
    const page = await quick.listHistoryPage({
      source: input.source,
      keys: input.keys,
      from: input.from,
      to: input.to,
      landedBy,
      reprocess: input.reprocess,
      after: cursor,
      limit: pageSize,
    });
    totals.objects += page.listed;
    totals.skipped += page.skipped;
    progress.phase = 'loading';
    progress.objectsTotal += page.objects.length;
    progress.objectsSkipped = totals.skipped;
    await loadObjects(ledgerRunId, page.objects, maxParallel, (result: ObjectLoadResult) => {
      totals.loadedObjects++;
      totals.read += result.read;
      totals.loaded += result.loaded;
      totals.rejected += result.rejected;
      totals.ratingRows += result.ratingRows;
      totals.assistanceRows += result.assistanceRows;
      totals.emergencyRows += result.emergencyRows;
      Object.assign(progress, {
        objectsLoaded: totals.loadedObjects,
        read: totals.read,
        loaded: totals.loaded,
        rejected: totals.rejected,
      });
      setCurrentDetails(
        `**${totals.loadedObjects}** objects loaded (${totals.skipped} unchanged, skipped) · ` +
          `read ${totals.read} · loaded ${totals.loaded} · rejected ${totals.rejected}`,
      );
    });
    if (page.next === undefined) break;
    cursor = page.next;
    // The page cap bounds one execution's history even before the server suggests continuing.
    if (workflowInfo().continueAsNewSuggested || pages >= pagesPerRun) {
      return { done: false, next: { ledgerRunId, cursor, landedBy, totals, failedMetadata } };
    }
  }

  const ledger = await quick.finishRun({ runId: ledgerRunId, status: 'completed' });
  if (ledger.read !== ledger.loaded + ledger.rejected) {
    throw ApplicationFailure.nonRetryable(`ledger does not balance: ${JSON.stringify(ledger)}`);
  }
  progress.phase = 'done';
  upsertSearchAttributes([
    { key: KioskRowsRead, value: ledger.read },
    { key: KioskRowsLoaded, value: ledger.loaded },
    { key: KioskRowsRejected, value: ledger.rejected },
  ]);
  const summary: BatchSummary = {
    runId: ledgerRunId,
    workflowId,
    source: input.source,
    from: input.from,
    to: input.to,
    landedBy,
    objects: totals.objects,
    skipped: totals.skipped,
    runs: totals.runs,
    failedMetadata,
    ...ledger,
    ratingRows: totals.ratingRows,
    assistanceRows: totals.assistanceRows,
    emergencyRows: totals.emergencyRows,
  };
  setCurrentDetails(
    `**done**: ${summary.objects} objects (${summary.skipped} unchanged, skipped) · read ${summary.read} · ` +
      `loaded ${summary.loaded} · rejected ${summary.rejected}`,
  );
  log.info('batch complete', { read: summary.read, loaded: summary.loaded, rejected: summary.rejected });
  return { done: true, summary };
}
