// The dashboard's Operations view: how fresh each source is, how far each Kafka partition is behind what is
// stored, the reject rate by reason per day, and the latest runs. Every query probes an index or reads the
// run ledger, so the view costs the same after years of presses. Kafka is optional: without it the stored
// offsets still show, with the reason the log end is unknown.
import type { Knex } from 'knex';
import { barChart, renderSvg } from './charts';
import type { DateRange } from './range';
import { lastStoredOffsets } from '../infra/stream-offsets';

export interface Freshness {
  source: 'batch' | 'stream';
  /** Event time of the newest stored press, ISO; null when the source stored nothing yet. */
  newestAt: string | null;
  ageSeconds: number | null;
}

export interface PartitionLag {
  partition: number;
  /** Highest offset stored as an interaction or a reject. */
  storedOffset: number | null;
  /** Offset the next record will get, from Kafka; null when Kafka did not answer. */
  logEndOffset: number | null;
  /** Records in Kafka not stored yet: logEnd - (stored + 1). */
  lag: number | null;
}

export interface ReasonDay {
  day: string;
  read: number;
  rejected: number;
  byReason: Record<string, number>;
}

export interface RunRow {
  runId: string;
  kind: string;
  workflowId: string;
  source: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  read: number;
  loaded: number;
  rejected: number;
}

export interface Operations {
  generatedAt: string;
  topic: string;
  freshness: Freshness[];
  partitions: PartitionLag[];
  /** Why the log end offsets are missing, when they are. */
  kafkaProblem: string | null;
  rejectDays: ReasonDay[];
  runs: RunRow[];
  charts: { rejectRate: string };
}

/** The log end offset per partition, or a reason it is unknown. */
export type LogEnds = () => Promise<Map<number, number>>;

export const LATEST_RUNS = 15;
/** Days shown when no range is chosen. */
export const DEFAULT_DAYS = 14;

// The newest event time of a source: the event_at index walked backwards to the first row of that source.
function newestSql(column: string): string {
  const newest = (t: string) =>
    `(select event_at from ${t} where ${column} is not null order by event_at desc limit 1)`;
  return `greatest(${newest('rating_interaction')}, ${newest('request_interaction')})`;
}

async function freshness(knex: Knex, now: Date): Promise<Freshness[]> {
  const r = await knex.raw<{ rows: { batch: Date | null; stream: Date | null }[] }>(
    `select ${newestSql('source_object')} as batch, ${newestSql('source_topic')} as stream`,
  );
  const row = r.rows[0]!;
  return (['batch', 'stream'] as const).map((source) => {
    const at = row[source];
    return {
      source,
      newestAt: at === null ? null : at.toISOString(),
      ageSeconds: at === null ? null : Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000)),
    };
  });
}

/** Partitions the ledger has seen for the topic (stream runs record kafka://topic/partition). */
async function ledgerPartitions(knex: Knex, topic: string): Promise<number[]> {
  const prefix = `kafka://${topic}/`;
  const r = await knex.raw<{ rows: { p: number }[] }>(
    `select distinct substr(source, ?)::int as p from pipeline_run
     where kind = 'stream' and starts_with(source, ?) and substr(source, ?) ~ '^[0-9]+$' order by 1`,
    [prefix.length + 1, prefix, prefix.length + 1],
  );
  return r.rows.map((x) => x.p);
}

/** Reject rate per London day of each run's start, from the ledger (batch and stream runs; replays admit). */
async function rejectDays(knex: Knex, range: DateRange, now: Date): Promise<ReasonDay[]> {
  const to = range.to ?? null;
  const from = range.from ?? null;
  const r = await knex.raw<{
    rows: { day: string; read: number; rejected: number; reasons: Record<string, number> }[];
  }>(
    `with bounds as (
       select coalesce(?::date, coalesce(?::date, (? at time zone 'Europe/London')::date) - ?::int) as lo,
              coalesce(?::date, 'infinity'::date) as hi
     ),
     runs as (
       select (started_at at time zone 'Europe/London')::date as day, read_count, rejected_count, rejected_by_reason
       from pipeline_run, bounds b
       where kind in ('batch', 'stream')
         and started_at >= b.lo::timestamp at time zone 'Europe/London'
         and started_at < (b.hi + 1)::timestamp at time zone 'Europe/London'
     )
     select to_char(day, 'YYYY-MM-DD') as day, sum(read_count)::bigint as read, sum(rejected_count)::bigint as rejected,
       coalesce((select jsonb_object_agg(key, total) from (
         select key, sum(value::bigint) as total from runs r2, jsonb_each_text(r2.rejected_by_reason)
         where r2.day = runs.day group by key) x), '{}'::jsonb) as reasons
     from runs group by day order by day`,
    [from, to, now.toISOString(), DEFAULT_DAYS - 1, to],
  );
  return r.rows.map((x) => ({
    day: x.day,
    read: Number(x.read),
    rejected: Number(x.rejected),
    byReason: x.reasons,
  }));
}

async function latestRuns(knex: Knex): Promise<RunRow[]> {
  const rows = await knex('pipeline_run')
    .select<Record<string, unknown>[]>('*')
    .orderBy('started_at', 'desc')
    .limit(LATEST_RUNS);
  return rows.map((r) => ({
    runId: r.run_id as string,
    kind: r.kind as string,
    workflowId: r.workflow_id as string,
    source: r.source as string,
    status: r.status as string,
    startedAt: (r.started_at as Date).toISOString(),
    finishedAt: r.finished_at === null ? null : (r.finished_at as Date).toISOString(),
    read: Number(r.read_count),
    loaded: Number(r.loaded_count),
    rejected: Number(r.rejected_count),
  }));
}

const REASON_PALETTE = [
  '#c0392b',
  '#e67e22',
  '#f1c40f',
  '#3b7dd8',
  '#8e44ad',
  '#16a085',
  '#7f8c8d',
  '#2c3e50',
  '#d35400',
];

function rejectRateChart(days: ReasonDay[]): string {
  const totals = new Map<string, number>();
  for (const d of days)
    for (const [k, n] of Object.entries(d.byReason)) totals.set(k, (totals.get(k) ?? 0) + n);
  const reasons = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  // A record with two reasons counts in both, so the stacked shares can pass the reject rate: each bar is
  // "what share of that day's presses broke this rule".
  const pct = (n: number, read: number) => (read === 0 ? 0 : Math.round((1000 * n) / read) / 10);
  return renderSvg(
    barChart({
      categories: days.map((d) => d.day),
      valueName: '% of presses read',
      stacked: true,
      percent: true,
      series: reasons.map((reason, i) => ({
        name: reason,
        values: days.map((d) => pct(d.byReason[reason] ?? 0, d.read)),
        colour: REASON_PALETTE[i % REASON_PALETTE.length],
      })),
    }),
    'Share of the presses read each day that broke each rule, from the run ledger.',
    { width: 720, height: 320 },
  );
}

export async function buildOperations(
  knex: Knex,
  topic: string,
  logEnds: LogEnds | undefined,
  range: DateRange,
  now = new Date(),
): Promise<Operations> {
  let ends: Map<number, number> | undefined;
  let kafkaProblem: string | null = null;
  if (logEnds === undefined) kafkaProblem = 'Kafka is not configured for this dashboard';
  else {
    try {
      ends = await logEnds();
    } catch (err) {
      kafkaProblem = `Kafka unreachable: ${(err as Error).message}`;
    }
  }
  const partitions = [...new Set([...(ends?.keys() ?? []), ...(await ledgerPartitions(knex, topic))])].sort(
    (a, b) => a - b,
  );
  const stored = await lastStoredOffsets(knex, topic, partitions);
  const days = await rejectDays(knex, range, now);
  return {
    generatedAt: now.toISOString(),
    topic,
    freshness: await freshness(knex, now),
    partitions: partitions.map((partition) => {
      const storedOffset = stored.get(partition) ?? null;
      const logEndOffset = ends?.get(partition) ?? null;
      return {
        partition,
        storedOffset,
        logEndOffset,
        lag: logEndOffset === null ? null : Math.max(0, logEndOffset - (storedOffset ?? -1) - 1),
      };
    }),
    kafkaProblem,
    rejectDays: days,
    runs: await latestRuns(knex),
    charts: { rejectRate: rejectRateChart(days) },
  };
}
