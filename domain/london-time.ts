import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_SECOND, parseWallClock } from './civil-time';

// Europe/London wall clock to instant, with the offsets taken from the runtime's time-zone database (Intl)
// rather than a hard-coded DST rule, so historical dates (British Standard Time 1968-71, double summer time)
// and any future change of the rule come out right. Intl costs microseconds per call, far too slow for a
// million rows, so each local calendar day is resolved once and cached.

interface DayOffsets {
  /** UTC offset in force when the local day begins, in ms. */
  before: number;
  /** UTC offset in force when the local day ends, in ms. */
  after: number;
  /** Instant (UTC ms) at which `after` takes over from `before`; +Infinity when the day has no change. */
  changeAt: number;
}

// London's offsets stay within -00:01:15 (local mean time before 1847) and +02:00, so a local day lies inside
// this UTC window around the same-numbered UTC day. A window holds at most one change for London.
const WINDOW_MARGIN_MS = 3 * MS_PER_HOUR;
// Bounds memory when a stream sends timestamps spread over many years; real data spans a handful of days.
const MAX_CACHED_DAYS = 4096;

let formatter: Intl.DateTimeFormat | undefined;
const dayCache = new Map<number, DayOffsets>();
let lastDay = NaN;
let lastOffsets: DayOffsets = { before: 0, after: 0, changeAt: Infinity };

function utcOffsetAt(instantMs: number): number {
  formatter ??= new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'longOffset' });
  const name = formatter.formatToParts(instantMs).find((part) => part.type === 'timeZoneName')?.value ?? '';
  // longOffset gives "GMT" for zero on some ICU versions and "GMT+00:00" on others; seconds appear for LMT.
  const match = /^GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(name);
  if (match === null) return 0;
  if (match[1] === undefined) return 0;
  const magnitude =
    Number(match[2]) * MS_PER_HOUR + Number(match[3]) * MS_PER_MINUTE + Number(match[4] ?? 0) * MS_PER_SECOND;
  return match[1] === '-' ? -magnitude : magnitude;
}

function resolveDay(day: number): DayOffsets {
  const start = day * MS_PER_DAY - WINDOW_MARGIN_MS;
  const end = (day + 1) * MS_PER_DAY + WINDOW_MARGIN_MS;
  const before = utcOffsetAt(start);
  const after = utcOffsetAt(end);
  if (before === after) return { before, after, changeAt: Infinity };
  // Changes happen on whole seconds; bisect down to one.
  let low = start;
  let high = end;
  while (high - low > MS_PER_SECOND) {
    const middle = low + Math.floor((high - low) / (2 * MS_PER_SECOND)) * MS_PER_SECOND;
    if (utcOffsetAt(middle) === before) low = middle;
    else high = middle;
  }
  return { before, after, changeAt: high };
}

function offsetsForDay(day: number): DayOffsets {
  if (day === lastDay) return lastOffsets;
  let offsets = dayCache.get(day);
  if (offsets === undefined) {
    offsets = resolveDay(day);
    if (dayCache.size >= MAX_CACHED_DAYS) dayCache.clear();
    dayCache.set(day, offsets);
  }
  lastDay = day;
  lastOffsets = offsets;
  return offsets;
}

/**
 * UTC offset (ms) of London for a wall-clock time given as ms since 1970-01-01T00:00:00 on the London clock.
 * Times that occur twice (the hour before the autumn change) take the earlier instant, the summer-time one;
 * times that never occur (the hour skipped in spring) take the offset in force before the gap, so they land
 * one hour later on the clock (01:30 becomes 02:30 BST). That is Python's fold=0 and JavaScript Temporal's
 * "compatible" choice. Both hours lie outside opening hours, so the choice never decides a valid record.
 */
export function londonOffsetForWallClock(wallClockMs: number): number {
  const { before, after, changeAt } = offsetsForDay(Math.floor(wallClockMs / MS_PER_DAY));
  // Keep the earlier offset unless the time is valid only under the later one.
  if (wallClockMs - before < changeAt || wallClockMs - after < changeAt) return before;
  return after;
}

/** 'YYYY-MM-DD HH:MM:SS' on the Europe/London clock to the instant, or null if the text is not a real time of that form. */
export function londonWallClockToInstant(wallClock: string): Date | null {
  if (typeof wallClock !== 'string' || wallClock.length !== 19) return null;
  const wallClockMs = parseWallClock(wallClock, 32);
  if (Number.isNaN(wallClockMs)) return null;
  return new Date(wallClockMs - londonOffsetForWallClock(wallClockMs));
}
