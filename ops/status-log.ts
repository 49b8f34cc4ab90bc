// A status line every minute in the JSON logs, carrying the figures the alert rules read from Prometheus, so
// CloudWatch metric filters can raise the same alarms in AWS without a Prometheus (terraform/alarms.tf).
import type { Knex } from 'knex';
import type { JsonLogger } from '../infra/log';
import { activityRetriesTotal, rowsTotal } from '../infra/metrics';
import { batchLastFinished, freshnessSeconds, refreshPressGauges } from './press-gauges';

export const STATUS_EVERY_MS = 60_000;
/** 09:15 to 18:15 London: open (08:45) for 30 minutes already, and not yet closed. */
const STALE_CHECK_FROM = 9 * 60 + 15;
const STALE_CHECK_TO = 18 * 60 + 15;
const STALE_AFTER_SECONDS = 30 * 60;

const londonClock = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour: 'numeric',
  minute: 'numeric',
  hourCycle: 'h23',
});

/** Minutes since midnight on the Europe/London wall clock (the time-zone database decides the offset). */
export function londonMinuteOfDay(at: Date): number {
  const parts = londonClock.formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}

/** The stream's age when it counts as an outage (opening hours), else 0: one number for one alarm. */
export function staleWhileOpenSeconds(freshness: number | undefined, at: Date): number {
  const minute = londonMinuteOfDay(at);
  if (freshness === undefined || minute < STALE_CHECK_FROM || minute > STALE_CHECK_TO) return 0;
  return freshness > STALE_AFTER_SECONDS ? freshness : 0;
}

type Values<L extends string> = { labels: Partial<Record<L, string | number>>; value: number }[];

function total<L extends string>(values: Values<L>, match: Partial<Record<L, string>>): number {
  return values
    .filter((v) => Object.entries(match).every(([k, want]) => v.labels[k as L] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** The worker's minute: rows stored and load retries since the last line, freshness, last batch outcomes. */
export function startWorkerStatusLog(knex: Knex, logger: JsonLogger, everyMs = STATUS_EVERY_MS): () => void {
  let previous: Record<string, number> = {};
  const tick = async () => {
    const rows = (await rowsTotal.get()).values;
    const retries = (await activityRetriesTotal.get()).values.filter((v) =>
      String(v.labels.activity).startsWith('load'),
    );
    const counts: Record<string, number> = {
      streamLoaded: total(rows, { source: 'stream', outcome: 'loaded' }),
      streamRejected: total(rows, { source: 'stream', outcome: 'rejected' }),
      batchLoaded: total(rows, { source: 'batch', outcome: 'loaded' }),
      batchRejected: total(rows, { source: 'batch', outcome: 'rejected' }),
      loadRetries: total(retries, {}),
    };
    const fields: Record<string, number> = {};
    for (const [k, v] of Object.entries(counts)) fields[k] = v - (previous[k] ?? 0);
    previous = counts;
    const now = new Date();
    try {
      await refreshPressGauges(knex, now.getTime());
      const fresh = (await freshnessSeconds.get()).values;
      const stream = fresh.find((v) => v.labels.source === 'stream')?.value;
      const batch = fresh.find((v) => v.labels.source === 'batch')?.value;
      if (stream !== undefined) fields.streamFreshnessSeconds = Math.round(stream);
      if (batch !== undefined) fields.batchFreshnessSeconds = Math.round(batch);
      fields.streamStaleWhileOpenSeconds = Math.round(staleWhileOpenSeconds(stream, now));
      const finished = (await batchLastFinished.get()).values;
      const completed = finished.find((v) => v.labels.status === 'completed')?.value;
      const failed = finished.find((v) => v.labels.status === 'failed')?.value;
      fields.batchLastRunFailed = failed !== undefined && failed > (completed ?? 0) ? 1 : 0;
      if (completed !== undefined)
        fields.batchHoursSinceCompleted = Math.round((now.getTime() / 1000 - completed) / 36) / 100;
    } catch (err) {
      logger.warn('status: the database could not be read', { error: err });
    }
    logger.info('pipeline status', { event: 'pipeline_status', ...fields });
  };
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
