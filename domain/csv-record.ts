import { csvInteger, csvSite } from './fields';
import type { CsvRecord, RuleContext, Verdict } from './interaction';
import { isKnownVal, judge } from './judge';
import { REASON_BIT } from './reason-mask';
import { parseCsvAt, type ParsedAt } from './timestamps';

// Stands in for a field that is neither text nor absent: a CSV parser misconfigured to cast values, say. It is
// non-empty and matches no accepted form, so the field is judged bad instead of crashing the batch.
const NOT_TEXT = '\uFFFD';

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return typeof value === 'number' || typeof value === 'bigint' ? String(value) : NOT_TEXT;
}

/**
 * Judges one CSV row. Fields are taken as the parser gave them, untrimmed: only '' counts as missing, and
 * anything else that is not of the accepted form is bad.
 */
export function validateCsvRecord(rec: CsvRecord, ctx: RuleContext): Verdict {
  const atText = text(rec.at);
  const siteText = text(rec.site);
  const valText = text(rec.val);
  const typeText = text(rec.type);
  let mask = 0;

  let at: ParsedAt | null = null;
  if (atText === '') mask |= REASON_BIT.MISSING_AT;
  else if ((at = parseCsvAt(atText)) === null) mask |= REASON_BIT.BAD_AT;

  let site = NaN;
  if (siteText === '') mask |= REASON_BIT.MISSING_SITE;
  else if (Number.isNaN((site = csvSite(siteText)))) mask |= REASON_BIT.BAD_SITE;

  let val = NaN;
  if (valText === '') mask |= REASON_BIT.MISSING_VAL;
  else if (!isKnownVal((val = csvInteger(valText)))) {
    mask |= REASON_BIT.BAD_VAL;
    val = NaN;
  }

  const typeMissing = typeText === '';
  return judge({ mask, at, site, val, typeMissing, type: typeMissing ? NaN : csvInteger(typeText) }, ctx);
}
