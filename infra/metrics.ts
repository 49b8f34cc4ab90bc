// The pipeline's own Prometheus metrics (prom-client), in one registry per process. Label values are bounded:
// a source, an outcome, a reason code, an activity type, a topic and partition; never a run or object id.
import { Counter, Histogram, Registry } from 'prom-client';
import { REASON_CODES } from '../domain/reasons';

export type RowSource = 'batch' | 'stream';

export const registry = new Registry();

/** One count per stored row: loaded, or rejected under its first reason (reasons come in canonical order). */
export const rowsTotal = new Counter({
  name: 'kiosk_rows_total',
  help: 'Rows stored, by source and outcome; a rejected row counts once, under its first reason code',
  labelNames: ['source', 'outcome', 'reason'] as const,
  registers: [registry],
});

/** Every reason of every reject: equals the run ledger's rejected_by_reason. */
export const rejectReasonsTotal = new Counter({
  name: 'kiosk_reject_reasons_total',
  help: 'Reason codes carried by rejected rows (a row with two reasons counts under both)',
  labelNames: ['source', 'reason'] as const,
  registers: [registry],
});

export const loadSeconds = new Histogram({
  name: 'kiosk_load_seconds',
  help: 'Duration of a load activity (one batch object, or one stream batch), successful or not',
  labelNames: ['source'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
  registers: [registry],
});

export const activityRetriesTotal = new Counter({
  name: 'kiosk_activity_retries_total',
  help: 'Activity attempts after the first, by activity type',
  labelNames: ['activity'] as const,
  registers: [registry],
});

export const SOURCES: readonly RowSource[] = ['batch', 'stream'];

/** Series that alerts take rate() or increase() of exist from the start at 0, so a first event is seen. */
export function initialiseSeries(activityTypes: readonly string[]): void {
  for (const source of SOURCES) {
    rowsTotal.inc({ source, outcome: 'loaded' }, 0);
    loadSeconds.zero({ source });
    for (const reason of REASON_CODES) {
      rowsTotal.inc({ source, outcome: 'rejected', reason }, 0);
      rejectReasonsTotal.inc({ source, reason }, 0);
    }
  }
  for (const activity of activityTypes) activityRetriesTotal.inc({ activity }, 0);
}

/**
 * Counts rows a load has committed: call after the commit. Rejects come grouped by their reason codes (in
 * canonical order), with how many rows carry exactly that set.
 */
export function recordStoredRows(
  source: RowSource,
  loaded: number,
  rejects: Iterable<readonly [reasons: readonly string[], rows: number]>,
): void {
  if (loaded > 0) rowsTotal.inc({ source, outcome: 'loaded' }, loaded);
  for (const [reasons, rows] of rejects) {
    rowsTotal.inc({ source, outcome: 'rejected', reason: reasons[0] ?? 'UNKNOWN' }, rows);
    for (const reason of reasons) rejectReasonsTotal.inc({ source, reason }, rows);
  }
}
