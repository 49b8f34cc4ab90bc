// Gauges read from PostgreSQL when Prometheus scrapes the worker: how old the newest stored press of each
// source is, and when batch runs last finished by outcome (for the failed and missed-run alerts).
import type { Knex } from 'knex';
import { Gauge } from 'prom-client';
import { registry, SOURCES, type RowSource } from '../infra/metrics';

export const freshnessSeconds = new Gauge({
  name: 'kiosk_freshness_seconds',
  help: 'Seconds since the newest stored press (its event time), per source',
  labelNames: ['source'] as const,
  registers: [registry],
});

export const batchLastFinished = new Gauge({
  name: 'kiosk_batch_last_finished_timestamp_seconds',
  help: 'When the latest batch run of each outcome finished (run ledger), Unix seconds',
  labelNames: ['status'] as const,
  registers: [registry],
});

const SOURCE_COLUMN: Record<RowSource, string> = { batch: 'source_object', stream: 'source_topic' };
const QUERY_TIMEOUT_MS = 2000;

/**
 * Newest event time of one source: each interaction table walked backwards on its event_at index until the
 * first row of that source, so the cost follows how recent that row is, not how many years are stored.
 */
function newestPressSql(source: RowSource): string {
  const newest = (table: string) =>
    `(select event_at from ${table} where ${SOURCE_COLUMN[source]} is not null order by event_at desc limit 1)`;
  return `select extract(epoch from greatest(${newest('rating_interaction')}, ${newest('request_interaction')})) as at`;
}

/** Reads the gauges anew; when the database does not answer they are dropped rather than left stale. */
export async function refreshPressGauges(knex: Knex, now = Date.now()): Promise<void> {
  try {
    await readPressGauges(knex, now);
  } catch (err) {
    freshnessSeconds.reset();
    batchLastFinished.reset();
    throw err;
  }
}

async function readPressGauges(knex: Knex, now: number): Promise<void> {
  for (const source of SOURCES) {
    const r = await knex
      .raw<{ rows: { at: string | null }[] }>(newestPressSql(source))
      .timeout(QUERY_TIMEOUT_MS, {
        cancel: true,
      });
    const at = r.rows[0]?.at;
    // Nothing stored yet: no series, rather than an age that means nothing.
    if (at === null || at === undefined) freshnessSeconds.remove({ source });
    else freshnessSeconds.set({ source }, Math.max(0, now / 1000 - Number(at)));
  }
  const runs = await knex
    .raw<{ rows: { status: string; at: string }[] }>(
      `select status, extract(epoch from max(finished_at)) as at from pipeline_run
       where kind = 'batch' and finished_at is not null group by status`,
    )
    .timeout(QUERY_TIMEOUT_MS, { cancel: true });
  batchLastFinished.reset();
  for (const row of runs.rows) batchLastFinished.set({ status: row.status }, Number(row.at));
}
