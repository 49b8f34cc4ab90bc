// `rejects replay`: pages through the selected rejects by id, each page re-judged and moved in one activity
// transaction, within the ids of its dates and up to the newest reject when the replay started. Continues as
// new before its history grows, carrying the cursor and the totals, so years of rejects fit.
import {
  continueAsNew,
  defineQuery,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RejectFilter } from '../activities/reject-store';
import { REPLAY_PAGE } from './activity-policies';
import { KioskPipeline, KioskRowsLoaded } from './search-attributes';

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
  untilId: number;
  afterId: number;
  pages: number;
  examined: number;
  admitted: number;
  done: boolean;
}

export interface ReplaySummary extends ReplayProgress {
  workflowId: string;
  /** From the ledger: what this replay moved, counted once even when a page was retried. */
  loaded: number;
}

export const replayProgressQuery = defineQuery<ReplayProgress>('replayProgress');

const PAGES_PER_RUN = 200;

const act = proxyActivities<Activities>(REPLAY_PAGE);

export function describeFilter(f: RejectFilter): string {
  const parts = [`reason ${f.reason ?? 'any'}`, `rejected ${f.from ?? '…'} .. ${f.to ?? '…'}`];
  return `replay of stream rejects: ${parts.join(', ')}`;
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
    progress = { ledgerRunId: runId, ...window, pages: 0, examined: 0, admitted: 0, done: false };
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
      const page = await act.replayRejectPage({
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

  const ledger = await act.finishRun({ runId: progress.ledgerRunId, status: 'completed' });
  upsertSearchAttributes([{ key: KioskRowsLoaded, value: ledger.loaded }]);
  return { ...progress, workflowId, loaded: ledger.loaded };
}
