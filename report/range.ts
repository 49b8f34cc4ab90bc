// The report's date filter: inclusive calendar dates on the Europe/London clock, either end optional.
// Validated here, once, so the SQL only ever sees well-formed ISO dates.

export interface DateRange {
  /** First London date included, YYYY-MM-DD; undefined means from the beginning. */
  from?: string;
  /** Last London date included, YYYY-MM-DD; undefined means up to now and beyond. */
  to?: string;
}

export class DateRangeError extends Error {
  override name = 'DateRangeError';
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date in YYYY-MM-DD form (rejects 2023-02-30, which Date would roll over to March). */
export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (m === null) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
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
