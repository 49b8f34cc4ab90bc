import { MS_PER_MINUTE, parseWallClock, readDigits, secondOfDay } from './civil-time';
import { londonOffsetForWallClock } from './london-time';

/** A parsed `at`: the instant, and the wall-clock time of day it was written in (its own offset). */
export interface ParsedAt {
  /** Instant in UTC ms, truncated to the millisecond (Date cannot hold the microseconds Python writes). */
  instantMs: number;
  /** True when digits below the millisecond were non-zero, so the true instant lies after instantMs. */
  belowMsNonZero: boolean;
  /** Whole seconds since midnight on the record's own clock. */
  secondOfDay: number;
  /** True when any fractional digit is non-zero, so the time lies after secondOfDay. */
  fractionNonZero: boolean;
}

const T = 84;
const Z = 90;
const PLUS = 43;
const MINUS = 45;
const COLON = 58;
const DOT = 46;
const SPACE = 32;

/**
 * Stream `at`: `YYYY-MM-DDTHH:MM:SS`, an optional `.` with one or more fraction digits, then `Z` or `+HH:MM` /
 * `-HH:MM` (the profile Python's isoformat writes). Upper-case T and Z only; no comma decimals, no basic
 * format, no seconds in the offset. Returns null when the text is not of that form or names no real time.
 */
export function parseStreamAt(text: string): ParsedAt | null {
  const wallClockMs = parseWallClock(text, T);
  if (Number.isNaN(wallClockMs)) return null;
  let position = 19;
  let millis = 0;
  let belowMsNonZero = false;
  let fractionNonZero = false;
  if (text.charCodeAt(position) === DOT) {
    position++;
    const fractionStart = position;
    for (;;) {
      const digit = text.charCodeAt(position) - 48;
      if (!(digit >= 0 && digit <= 9)) break;
      const place = position - fractionStart;
      if (place < 3) millis = millis * 10 + digit;
      else if (digit !== 0) belowMsNonZero = true;
      if (digit !== 0) fractionNonZero = true;
      position++;
    }
    const fractionLength = position - fractionStart;
    if (fractionLength === 0) return null;
    if (fractionLength === 1) millis *= 100;
    else if (fractionLength === 2) millis *= 10;
  }
  let offsetMs: number;
  const sign = text.charCodeAt(position);
  if (sign === Z) {
    if (text.length !== position + 1) return null;
    offsetMs = 0;
  } else if (sign === PLUS || sign === MINUS) {
    if (text.length !== position + 6 || text.charCodeAt(position + 3) !== COLON) return null;
    const hours = readDigits(text, position + 1, 2);
    const minutes = readDigits(text, position + 4, 2);
    if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return null;
    offsetMs = (hours * 60 + minutes) * MS_PER_MINUTE * (sign === MINUS ? -1 : 1);
  } else {
    return null;
  }
  return {
    instantMs: wallClockMs + millis - offsetMs,
    belowMsNonZero,
    secondOfDay: secondOfDay(wallClockMs),
    fractionNonZero,
  };
}

/** CSV `at`: exactly `YYYY-MM-DD HH:MM:SS` on the Europe/London clock, or null. */
export function parseCsvAt(text: string): ParsedAt | null {
  if (text.length !== 19) return null;
  const wallClockMs = parseWallClock(text, SPACE);
  if (Number.isNaN(wallClockMs)) return null;
  return {
    instantMs: wallClockMs - londonOffsetForWallClock(wallClockMs),
    belowMsNonZero: false,
    secondOfDay: secondOfDay(wallClockMs),
    fractionNonZero: false,
  };
}
