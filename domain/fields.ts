// Readers for site, val and type. Each returns the number it accepts, or NaN for a value it does not; callers
// test for missing values first, so NaN always means "present but bad".

const DIGITS = /^[0-9]+$/;
// pandas writes integer columns that contain blanks as floats ("3.0", "-1.0"), so a zero fraction is allowed.
const CSV_INTEGER = /^-?[0-9]+(?:\.0+)?$/;

/** Absent, null or the empty string. Whitespace is a value, and a bad one. */
export function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function digitString(text: string): number {
  if (!DIGITS.test(text)) return NaN;
  const value = Number(text);
  // Beyond 2^53 the number would name a different site than the text does.
  return Number.isSafeInteger(value) ? value : NaN;
}

/**
 * A JSON number that is an integer. JSON.parse gives 4 for both `4` and `4.0`, so both are accepted; `-0`
 * becomes 0. Overflowing literals such as 1e309 parse to Infinity and are rejected with every fraction.
 */
export function jsonInteger(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value + 0 : NaN;
}

/** Stream site: a digit string, or a non-negative JSON integer. */
export function streamSite(value: unknown): number {
  if (typeof value === 'string') return digitString(value);
  const site = jsonInteger(value);
  return site >= 0 ? site : NaN;
}

/** CSV site: digits only. */
export function csvSite(text: string): number {
  return digitString(text);
}

/** CSV val or type: optional minus, digits, optional all-zero fraction ("-1", "3", "1.0"). */
export function csvInteger(text: string): number {
  if (!CSV_INTEGER.test(text)) return NaN;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value + 0 : NaN;
}
