// The date window of a batch run (`--from`/`--to`, a backfill's range): each bound is a day YYYY-MM-DD, the
// whole UTC day, or an ISO timestamp, an instant (the window then ends just before it). Read here by the CLI,
// the batch workflow and its activities alike; pure, so workflow code may use it.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** What a bound must look like, for refusal messages. */
export const WINDOW_BOUND_FORMAT = 'a date YYYY-MM-DD or an ISO timestamp';

/** A real calendar date in YYYY-MM-DD form (rejects 2023-02-30, which Date would roll over to March). */
export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (m === null) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** A bound as an operator typed it: a day as it is, a timestamp in UTC ISO form; undefined when neither. */
export function parseWindowBound(value: string): string | undefined {
  if (isIsoDate(value)) return value;
  if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)))
    return new Date(value).toISOString();
  return undefined;
}

const isDay = (bound: string) => ISO_DATE.test(bound);

/** The first instant a bound covers: a day's midnight (UTC), or the timestamp. */
export function boundStart(bound: string): Date {
  return new Date(isDay(bound) ? `${bound}T00:00:00Z` : bound);
}

/** The end of a window that ends at `bound`, exclusive: the next day's midnight (UTC), or the timestamp. */
export function boundEnd(bound: string): Date {
  return isDay(bound) ? new Date(boundStart(bound).getTime() + DAY_MS) : new Date(bound);
}

/** For APIs whose end is inclusive (a schedule's backfill): a day's last second, or the timestamp. */
export function boundLastSecond(bound: string): Date {
  return isDay(bound) ? new Date(boundEnd(bound).getTime() - 1000) : new Date(bound);
}

/** Whether a window from `from` to `to` runs backwards (its start after the other's). */
export function windowIsBackwards(from: string, to: string): boolean {
  return boundStart(from).getTime() > boundStart(to).getTime();
}

/** Whether the instant `at` (ms) falls in the window; a missing bound leaves that side open. */
export function inWindow(at: number, from?: string, to?: string): boolean {
  if (from !== undefined && at < boundStart(from).getTime()) return false;
  return to === undefined || at < boundEnd(to).getTime();
}
