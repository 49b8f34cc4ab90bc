// The order here is the order reasons are reported in, so verdicts compare equal regardless of which rule ran
// first. Append new codes at the end: stored rejects and the seeded reference table rely on the names.
export const REASON_CODES = [
  'MALFORMED',
  'UNKNOWN_KEY',
  'MISSING_AT',
  'MISSING_SITE',
  'MISSING_VAL',
  'BAD_AT',
  'OUTSIDE_HOURS',
  'FUTURE_AT',
  'BAD_SITE',
  'UNKNOWN_SITE',
  'BAD_VAL',
  'MISSING_TYPE',
  'BAD_TYPE',
  'UNEXPECTED_TYPE',
  'DUPLICATE',
  'AT_OUT_OF_RANGE',
  'OVERSIZE',
  'UNSTORABLE',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export const REASON_DESCRIPTIONS: Record<ReasonCode, string> = {
  MALFORMED: 'Stream value is not UTF-8 JSON holding a JSON object',
  UNKNOWN_KEY: 'Stream object has a key other than at, site, val and type',
  MISSING_AT: 'at is absent, null or empty',
  MISSING_SITE: 'site is absent, null or empty',
  MISSING_VAL: 'val is absent, null or empty',
  BAD_AT:
    'at is not a real date and time in the expected form (stream: ISO-8601 with offset; CSV: YYYY-MM-DD HH:MM:SS)',
  OUTSIDE_HOURS: 'at is outside opening hours 08:45:00 to 18:15:00 on its own wall clock',
  FUTURE_AT: 'at is more than 5 minutes after the moment of processing',
  BAD_SITE: 'site is not a non-negative integer',
  UNKNOWN_SITE: 'site is not a known exhibition',
  BAD_VAL: 'val is not an integer from -1 to 4',
  MISSING_TYPE: 'val is -1 (a request) but type is absent, null or empty',
  BAD_TYPE: 'val is -1 (a request) but type is not 0 (assistance) or 1 (emergency)',
  UNEXPECTED_TYPE: 'val is a rating (0 to 4) but type is given',
  DUPLICATE: 'Same exhibition, second, val and type as an interaction already accepted from another row',
  AT_OUT_OF_RANGE: 'at is a real instant but outside the years the pipeline stores',
  OVERSIZE: 'The value is larger than the pipeline carries; its first bytes and full length are kept',
  UNSTORABLE: 'The database refused the value as data (SQLSTATE class 22 or 23)',
};

const CODE_SET: ReadonlySet<string> = new Set(REASON_CODES);

export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && CODE_SET.has(value);
}
