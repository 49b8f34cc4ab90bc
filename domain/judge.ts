import type { RuleContext, Verdict } from './interaction';
import { REASON_BIT, reasonsFromMask } from './reason-mask';
import type { ParsedAt } from './timestamps';

// The rules that look past a single field (the clock, the known sites, val against type), shared by the CSV and
// stream readers so that both sources judge the same way.

const OPENS_AT_SECOND = 8 * 3600 + 45 * 60;
const CLOSES_AT_SECOND = 18 * 3600 + 15 * 60;
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;
// Instants the pipeline stores: years 1 to 9999 in UTC. A Date outside them serialises as "0000-…" or
// "+010000-…", which PostgreSQL refuses (it has no year 0) and which would retry a load forever.
const FIRST_STORABLE_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z
const END_STORABLE_MS = 253_402_300_800_000; // 10000-01-01T00:00:00Z

export const REQUEST_VAL = -1;

/** Whether a read val is one the scheme knows: -1 (a request) or a rating 0..4. */
export function isKnownVal(val: number): boolean {
  return val >= REQUEST_VAL && val <= 4;
}

/** What a source reader found: the reasons so far, and each field's value (NaN when missing or bad). */
export interface ReadFields {
  mask: number;
  at: ParsedAt | null;
  site: number;
  /** NaN unless -1..4. */
  val: number;
  typeMissing: boolean;
  /** NaN when missing or not an integer. */
  type: number;
}

export function judge(fields: ReadFields, ctx: RuleContext): Verdict {
  let { mask } = fields;
  const { at, site, val, type } = fields;
  if (at !== null) {
    const second = at.secondOfDay;
    if (
      second < OPENS_AT_SECOND ||
      second > CLOSES_AT_SECOND ||
      (second === CLOSES_AT_SECOND && at.fractionNonZero)
    ) {
      mask |= REASON_BIT.OUTSIDE_HOURS;
    }
    const ahead = at.instantMs - ctx.now.getTime();
    if (ahead > FUTURE_TOLERANCE_MS || (ahead === FUTURE_TOLERANCE_MS && at.belowMsNonZero)) {
      mask |= REASON_BIT.FUTURE_AT;
    }
    if (at.instantMs < FIRST_STORABLE_MS || at.instantMs >= END_STORABLE_MS)
      mask |= REASON_BIT.AT_OUT_OF_RANGE;
  }
  if (!Number.isNaN(site) && !ctx.knownSites.has(site)) mask |= REASON_BIT.UNKNOWN_SITE;
  if (val === REQUEST_VAL) {
    if (fields.typeMissing) mask |= REASON_BIT.MISSING_TYPE;
    else if (type !== 0 && type !== 1) mask |= REASON_BIT.BAD_TYPE;
  } else if (!Number.isNaN(val) && !fields.typeMissing) {
    mask |= REASON_BIT.UNEXPECTED_TYPE;
  }
  if (mask !== 0 || at === null) return { valid: false, reasons: reasonsFromMask(mask) };
  return {
    valid: true,
    interaction: {
      site,
      kind: val === REQUEST_VAL ? 'request' : 'rating',
      value: val === REQUEST_VAL ? type : val,
      eventAt: new Date(at.instantMs),
    },
  };
}
