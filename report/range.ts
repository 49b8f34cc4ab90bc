// The report's date filter: inclusive calendar dates on the Europe/London clock, either end optional.
// Validated here, once, so the SQL only ever sees well-formed ISO dates.
import { isIsoDate } from '../domain/date-window';

export interface DateRange {
  /** First London date included, YYYY-MM-DD; undefined means from the beginning. */
  from?: string;
  /** Last London date included, YYYY-MM-DD; undefined means up to now and beyond. */
  to?: string;
}

export class DateRangeError extends Error {
  override name = 'DateRangeError';
}

/** Empty strings count as "not given", so a cleared form field and an absent flag mean the same. */
export function parseDateRange(from?: string | null, to?: string | null): DateRange {
  const range: DateRange = {};
  for (const [name, raw] of [
    ['from', from],
    ['to', to],
  ] as const) {
    const value = raw?.trim() ?? '';
    if (value === '') continue;
    if (!isIsoDate(value)) throw new DateRangeError(`--${name} must be a date YYYY-MM-DD, got '${value}'`);
    range[name] = value;
  }
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
    throw new DateRangeError(`--from ${range.from} is after --to ${range.to}`);
  }
  return range;
}

export function describeRange(range: DateRange): string {
  if (range.from === undefined && range.to === undefined) return 'all dates';
  if (range.from === range.to) return `${range.from}`;
  return `${range.from ?? 'the beginning'} to ${range.to ?? 'now'}`;
}

/** What a listener accepts, so a request cannot ask for centuries of day-by-day figures. */
export interface RangeLimits {
  /** Earliest and latest dates accepted, YYYY-MM-DD. */
  earliest: string;
  latest: string;
  /** Longest span in days, both ends included. */
  maxDays: number;
}

export const DASHBOARD_RANGE_LIMITS: RangeLimits = {
  earliest: '2000-01-01',
  latest: '2099-12-31',
  maxDays: 3660,
};

const dayNumber = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

/** Throws a DateRangeError when the range leaves the limits (the HTTP listeners answer 400). */
export function checkRangeLimits(range: DateRange, limits: RangeLimits): void {
  for (const value of [range.from, range.to]) {
    if (value !== undefined && (value < limits.earliest || value > limits.latest)) {
      throw new DateRangeError(
        `dates must lie between ${limits.earliest} and ${limits.latest}, got ${value}`,
      );
    }
  }
  if (range.from !== undefined && range.to !== undefined) {
    const days = dayNumber(range.to) - dayNumber(range.from) + 1;
    if (days > limits.maxDays) {
      throw new DateRangeError(`a range covers at most ${limits.maxDays} days, got ${days}`);
    }
  }
}
