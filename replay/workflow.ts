// `rejects replay`: pages through the selected rejects by id, each page re-judged and moved in one activity
// transaction, within the ids of its dates and up to the newest reject when the replay started. Continues as
// new before its history grows, carrying the cursor and the totals, so years of rejects fit.
import {
  continueAsNew,
  defineQuery,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReplayActivities } from './activities';
import type { BatchActivities } from '../batch/activities';
import type { RejectFilter } from './reject-store';
import { REPLAY_PAGE, REPLAY_PAGE_BEATING } from '../contracts/activity-policies';
import { batchWorkflow } from '../batch/workflow';
import { KioskPipeline, KioskRowsLoaded } from '../contracts/search-attributes';

/** The replay closes its ledger row with the batch's `finishRun`. */
export type ReplayWorkflowActivities = ReplayActivities & Pick<BatchActivities, 'finishRun'>;

export interface ReplayInput {
  filter: RejectFilter;
  /** Rejects per page (and per transaction); default 1,000. */
  pageSize?: number;
  /** Pages before continuing as new (history stays small); default 200. */
  pagesPerRun?: number;
  /** Set by continue-as-new only. */
  carried?: ReplayProgress;
}

export interface ReplayProgress {
  /** The ledger's run id: the first run's, kept across continue-as-new. */
  ledgerRunId: string;
  /** The window's lower bound (exclusive), as the replay started: the batch step selects from it. */
  fromId?: number;
  untilId: number;
  afterId: number;
  pages: number;
  examined: number;
  admitted: number;
  done: boolean;
}

export interface ReplaySummary extends ReplayProgress {
  workflowId: string;
  /** Batch rejects: the objects reprocessed to re-judge them, what they admitted, and objects that failed. */
  batch: { objects: number; admitted: number; failedObjects: string[] };
  /** From the ledger: what this replay moved, counted once even when a page was retried. */
  loaded: number;
}

export const replayProgressQuery = defineQuery<ReplayProgress>('replayProgress');

const PAGES_PER_RUN = 200;

// A replay closes its ledger row with the batch's finishRun.
const act = proxyActivities<ReplayWorkflowActivities>(REPLAY_PAGE);
const pageAct = proxyActivities<ReplayActivities>(REPLAY_PAGE_BEATING);

export function describeFilter(f: RejectFilter): string {
  const parts = [`reason ${f.reason ?? 'any'}`, `rejected ${f.from ?? '…'} .. ${f.to ?? '…'}`];
  return `replay of rejects: ${parts.join(', ')}`;
}

export async function rejectReplay(input: ReplayInput): Promise<ReplaySummary> {
  const { workflowId, runId } = workflowInfo();
  const pageSize = Math.max(1, input.pageSize ?? 1000);
  let progress: ReplayProgress;
  if (input.carried === undefined) {
    upsertSearchAttributes([{ key: KioskPipeline, value: 'replay' }]);
    const window = await act.startReplay({
      runId,
      workflowId,
      source: describeFilter(input.filter),
      filter: input.filter,
    });
    progress = {
      ledgerRunId: runId,
      fromId: window.afterId,
      ...window,
      pages: 0,
      examined: 0,
      admitted: 0,
      done: false,
    };
  } else {
    progress = { ...input.carried };
  }
  setHandler(replayProgressQuery, () => progress);

  let handOver = false;
  try {
    for (let pagesHere = 0; !progress.done; pagesHere++) {
      if (pagesHere >= (input.pagesPerRun ?? PAGES_PER_RUN) || workflowInfo().continueAsNewSuggested) {
        handOver = true;
        break;
      }
      const page = await pageAct.replayRejectPage({
        runId: progress.ledgerRunId,
        filter: input.filter,
        afterId: progress.afterId,
        untilId: progress.untilId,
        pageSize,
      });
      progress = {
        ...progress,
        afterId: page.lastId,
        pages: progress.pages + 1,
        examined: progress.examined + page.examined,
        admitted: progress.admitted + page.admitted,
        done: page.done,
      };
      setCurrentDetails(
        `examined ${progress.examined} · admitted ${progress.admitted} · up to id ${progress.afterId}`,
      );
    }
  } catch (err) {
    await act.finishRun({ runId: progress.ledgerRunId, status: 'failed' });
    throw err;
  }
  // Outside the try: continue-as-new ends this run by throwing, which is not a failure.
  if (handOver) return continueAsNew<typeof rejectReplay>({ ...input, carried: progress });

  let batch: ReplaySummary['batch'];
  try {
    batch = await replayBatchRejects(input.filter, progress);
  } catch (err) {
    await act.finishRun({ runId: progress.ledgerRunId, status: 'failed' });
    throw err;
  }
  const ledger = await act.finishRun({ runId: progress.ledgerRunId, status: 'completed' });
  upsertSearchAttributes([{ key: KioskRowsLoaded, value: ledger.loaded }]);
  return { ...progress, workflowId, loaded: ledger.loaded, batch };
}

/** An object's source: the folder or bucket prefix it lies in, as `batch run --source` takes it. */
function sourceOf(uri: string): string {
  return uri.slice(0, uri.lastIndexOf('/') + 1);
}

/**
 * Batch rejects are re-judged by reprocessing the objects that hold them (a child batch run per source):
 * a reprocess judges every line again with today's catalogue and rules and judges DUPLICATE again across
 * objects, so the tables end as one clean run of the objects would leave them. An object that can no longer
 * be read fails its child run; its rejects stay, and the summary names it.
 */
async function replayBatchRejects(
  filter: ReplayInput['filter'],
  progress: ReplayProgress,
): Promise<ReplaySummary['batch']> {
  if (filter.source === 'stream') return { objects: 0, admitted: 0, failedObjects: [] };
  const { uris, loadedBefore, streamMoved } = await act.batchObjectsToReplay({
    runId: progress.ledgerRunId,
    filter,
    afterId: progress.fromId ?? 0,
    untilId: progress.untilId,
  });
  if (uris.length === 0) return { objects: 0, admitted: 0, failedObjects: [] };
  const bySource = new Map<string, string[]>();
  for (const uri of uris) bySource.set(sourceOf(uri), [...(bySource.get(sourceOf(uri)) ?? []), uri]);
  const failedObjects: string[] = [];
  let n = 0;
  for (const [source, keys] of bySource) {
    try {
      await executeChild(batchWorkflow, {
        workflowId: `${workflowInfo().workflowId}-reprocess-${++n}`,
        args: [{ source, keys, reprocess: true }],
      });
    } catch {
      failedObjects.push(...keys);
    }
  }
  setCurrentDetails(`reprocessed ${uris.length - failedObjects.length} objects holding batch rejects`);
  const { admitted } = await act.recordBatchReplay({
    runId: progress.ledgerRunId,
    uris,
    loadedBefore,
    streamAdmitted: progress.admitted,
    streamMoved,
  });
  return { objects: uris.length, admitted, failedObjects };
}
