// `rejects replay`: re-judges stored stream rejects with today's catalogue and rules and moves the ones now
// valid into the interaction tables, one transaction per page (delete the reject, insert the interaction under
// the reject's own source key, add to the replay run's ledger). Safe to retry: a page committed by an earlier
// attempt has no rejects left to move, and the source key is unique, so nothing is admitted twice.
import { Context } from '@temporalio/activity';
import { validateStreamValue } from '../domain/validation';
import type { ActivityDeps } from '../infra/activity-deps';
import { whileBeating } from '../infra/heartbeat';
import {
  batchObjectsOfRejects,
  countLoadedRows,
  idWindow,
  rejectPage,
  type RejectFilter,
  type RejectRow,
} from './reject-store';
import { addToRunSet, openRun, runCounts, setRunCounts } from '../ledger/pipeline-run';
import { exhibitionIdsBySite } from '../catalogue/exhibitions';

// Verdicts of storage, not of the rules: the value was cut short (OVERSIZE), or the database refused it
// (AT_OUT_OF_RANGE, UNSTORABLE). Re-judging cannot make such a value storable, so it is never moved.
const NOT_REPLAYABLE: ReadonlySet<string> = new Set(['OVERSIZE', 'AT_OUT_OF_RANGE', 'UNSTORABLE']);

export interface ReplayPageInput {
  runId: string;
  filter: RejectFilter;
  afterId: number;
  untilId: number;
  pageSize: number;
}

export interface ReplayPageResult {
  /** The last id examined; the next page starts after it. */
  lastId: number;
  examined: number;
  admitted: number;
  /** Nothing is left up to untilId. */
  done: boolean;
}

type Move = { id: number; k: 'r' | 'q'; e: number; v: number; at: Date };

/**
 * The verdict today, with one exception: FUTURE_AT is judged against the moment the reject was stored (the
 * original receive time), not against now. A press stamped ahead of its kiosk's true time stays wrong however
 * long we wait; judged against now, every such reject would pass once its clock time had gone by.
 */
export function judgeAgain(r: RejectRow, exhibitions: Map<number, number>): Move | undefined {
  if (r.rawLength !== null || r.reasons.some((x) => NOT_REPLAYABLE.has(x))) return undefined;
  const verdict = validateStreamValue(r.raw, { knownSites: new Set(exhibitions.keys()), now: r.rejectedAt });
  if (!verdict.valid) return undefined;
  const { site, kind, value, eventAt } = verdict.interaction;
  return { id: r.id, k: kind === 'rating' ? 'r' : 'q', e: exhibitions.get(site)!, v: value, at: eventAt };
}

// A page's moved rejects become loaded rows: read once (as rejects) and now loaded too, so both counts grow.
const MOVED_ROWS_ADMITTED = addToRunSet({
  read: '(select count(*) from moved)',
  loaded: '(select count(*) from moved)',
  rejected: '0',
  rejectedByReason: "'{}'::jsonb",
});

export function createReplayActivities(deps: ActivityDeps) {
  const { knex } = deps;
  return {
    /**
     * Opens the replay's ledger row and fixes the ids it will walk: from the first reject of its dates up to
     * the newest one now (rejects stored later are not its business).
     */
    async startReplay(input: {
      runId: string;
      workflowId: string;
      source: string;
      filter: RejectFilter;
    }): Promise<{ afterId: number; untilId: number }> {
      await openRun(knex, {
        runId: input.runId,
        kind: 'replay',
        workflowId: input.workflowId,
        source: input.source,
      });
      return idWindow(knex, input.filter);
    },

    /**
     * The objects that hold the selected batch rejects of the replay's window, and how many rows of theirs the
     * interaction tables hold now (what their reprocess admits is the difference afterwards). With `runId`,
     * also what the replay's pages moved, from its ledger: each page added its moves there in its own
     * transaction, so a page whose reply was lost (a killed worker) and that found nothing left when retried
     * still counts.
     */
    async batchObjectsToReplay(input: {
      runId?: string;
      filter: RejectFilter;
      afterId: number;
      untilId: number;
    }): Promise<{ uris: string[]; loadedBefore: number; streamMoved?: number }> {
      const objects = await batchObjectsOfRejects(knex, input.filter, input);
      const uris = objects.map((o) => o.uri);
      const streamMoved = input.runId === undefined ? undefined : (await runCounts(knex, input.runId)).loaded;
      return { uris, loadedBefore: uris.length === 0 ? 0 : await countLoadedRows(knex, uris), streamMoved };
    },

    /**
     * After the objects were reprocessed: how many more of their rows the interaction tables hold. The
     * replay's ledger is set to the stream rejects its pages moved (`streamMoved`, read from the ledger before
     * the reprocess; `streamAdmitted`, the workflow's own total, for a replay started by an earlier release)
     * plus these, as absolute counts, so a retry of this step counts nothing twice.
     */
    async recordBatchReplay(input: {
      runId: string;
      uris: string[];
      loadedBefore: number;
      streamAdmitted: number;
      streamMoved?: number;
    }): Promise<{ admitted: number }> {
      const admitted = Math.max(0, (await countLoadedRows(knex, input.uris)) - input.loadedBefore);
      const total = (input.streamMoved ?? input.streamAdmitted) + admitted;
      await setRunCounts(knex, input.runId, { read: total, loaded: total });
      return { admitted };
    },

    async replayRejectPage(input: ReplayPageInput): Promise<ReplayPageResult> {
      // Only stream rejects for now: see README.md ("Rejects") for why batch rejects are not replayed yet.
      const filter: RejectFilter = { ...input.filter, source: 'stream' };
      return whileBeating(Context.current(), { afterId: input.afterId }, () =>
        knex.transaction(async (trx) => {
          // The ledger row first, as the stream's loads take it: the same lock order as every other writer of
          // the interaction tables (batch/partitions.ts), so month creation cannot deadlock with a page.
          await trx.raw('select 1 from pipeline_run where run_id = ? for no key update', [input.runId]);
          const rows = await rejectPage(trx, filter, {
            afterId: input.afterId,
            untilId: input.untilId,
            limit: input.pageSize,
            forUpdate: true,
          });
          const exhibitions = await exhibitionIdsBySite(trx);
          const moves = rows.map((r) => judgeAgain(r, exhibitions)).filter((m) => m !== undefined);
          if (moves.length > 0) {
            // The locked rows cannot vanish before commit, so every move deletes exactly one reject.
            await trx.raw(
              `with t as (
               select * from json_to_recordset(?::json)
                 as t(id bigint, k text, e smallint, v smallint, at timestamptz)
             ),
             moved as (
               delete from rejected_interaction r using t where r.rejected_interaction_id = t.id
               returning r.source_topic, r.source_partition, r.source_offset, t.k, t.e, t.v, t.at
             ),
             ratings as (
               insert into rating_interaction
                 (exhibition_id, rating_value, event_at, source_topic, source_partition, source_offset, run_id)
               select e, v, at, source_topic, source_partition, source_offset, ? from moved where k = 'r'
             ),
             requests as (
               insert into request_interaction
                 (exhibition_id, request_value, event_at, source_topic, source_partition, source_offset, run_id)
               select e, v, at, source_topic, source_partition, source_offset, ? from moved where k = 'q'
             )
             update pipeline_run set ${MOVED_ROWS_ADMITTED}
             where run_id = ?`,
              [JSON.stringify(moves), input.runId, input.runId, input.runId],
            );
          }
          return {
            lastId: rows.length > 0 ? rows[rows.length - 1]!.id : input.untilId,
            examined: rows.length,
            admitted: moves.length,
            // Not "fewer rows than a page": a locked row that another replay moved meanwhile is skipped, so a
            // short page does not prove the end.
            done: rows.length === 0 || rows[rows.length - 1]!.id >= input.untilId,
          };
        }),
      );
    },
  };
}

export type ReplayActivities = ReturnType<typeof createReplayActivities>;
