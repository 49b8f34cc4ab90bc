// Calendar arithmetic on plain numbers: Date.UTC maps years 0..99 to 19xx and Date parsing is lenient
// (it rolls 2023-02-30 over to March), so neither can decide whether a timestamp is real.

export const MS_PER_SECOND = 1000;
export const MS_PER_MINUTE = 60 * MS_PER_SECOND;
export const MS_PER_HOUR = 60 * MS_PER_MINUTE;
export const MS_PER_DAY = 24 * MS_PER_HOUR;
export const SECONDS_PER_DAY = 86_400;

/** The value of `length` ASCII digits starting at `start`, or -1 if any of them is not a digit. */
export function readDigits(text: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const digit = text.charCodeAt(i) - 48;
    // Written as a negated range test so that NaN (reading past the end) is rejected too.
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/** Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * Reads `YYYY-MM-DD?HH:MM:SS` at the start of `text`, where `?` is the character code `separator`, and returns
 * that wall-clock time as milliseconds since 1970-01-01T00:00:00 on the same clock, or NaN when the text is not
 * of that form or names no real date and time. Characters after position 19 are the caller's business.
 * Years start at 0001 (Python's datetime, which writes the data, has no year 0) and seconds stop at 59
 * (neither Python nor Date can hold a leap second).
 */
export function parseWallClock(text: string, separator: number): number {
  if (
    text.length < 19 ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== separator ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return NaN;
  }
  const year = readDigits(text, 0, 4);
  const month = readDigits(text, 5, 2);
  const day = readDigits(text, 8, 2);
  const hour = readDigits(text, 11, 2);
  const minute = readDigits(text, 14, 2);
  const second = readDigits(text, 17, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return NaN;
  return (
    daysFromCivil(year, month, day) * MS_PER_DAY +
    hour * MS_PER_HOUR +
    minute * MS_PER_MINUTE +
    second * MS_PER_SECOND
  );
}

/** Seconds since midnight of a wall-clock value from parseWallClock. */
export function secondOfDay(wallClockMs: number): number {
  const msOfDay = wallClockMs - Math.floor(wallClockMs / MS_PER_DAY) * MS_PER_DAY;
  return msOfDay / MS_PER_SECOND;
}
