import { isMissing, jsonInteger, streamSite } from './fields';
import type { RuleContext, Verdict } from './interaction';
import { isKnownVal, judge } from './judge';
import { REASON_BIT } from './reason-mask';
import { parseStreamAt, type ParsedAt } from './timestamps';

const STREAM_KEYS: ReadonlySet<string> = new Set(['at', 'site', 'val', 'type']);

// fatal: broken UTF-8 is MALFORMED rather than silently turned into U+FFFD. ignoreBOM keeps a leading byte
// order mark in the text, where JSON.parse rejects it: the producer (Python json.dumps) never writes one.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type JsonObject = Record<string, unknown>;

function decodeObject(raw: Uint8Array): JsonObject | null {
  try {
    // Kafka tombstones arrive as a null value despite the type; treat anything that is not bytes as malformed.
    if (!ArrayBuffer.isView(raw)) return null;
    const parsed: unknown = JSON.parse(decoder.decode(raw));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as JsonObject)
      : null;
  } catch {
    // Bad UTF-8, bad JSON, and nesting deep enough to exhaust the parser's stack all end here.
    return null;
  }
}

function field(record: JsonObject, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Judges one Kafka message value. JSON duplicate keys resolve as JSON.parse (and Python's json) do: the last
 * one wins.
 */
export function validateStreamValue(raw: Uint8Array, ctx: RuleContext): Verdict {
  const record = decodeObject(raw);
  if (record === null) return { valid: false, reasons: ['MALFORMED'] };

  let mask = 0;
  for (const key of Object.keys(record)) {
    if (!STREAM_KEYS.has(key)) {
      mask |= REASON_BIT.UNKNOWN_KEY;
      break;
    }
  }

  const rawAt = field(record, 'at');
  let at: ParsedAt | null = null;
  if (isMissing(rawAt)) mask |= REASON_BIT.MISSING_AT;
  else if (typeof rawAt !== 'string' || (at = parseStreamAt(rawAt)) === null) mask |= REASON_BIT.BAD_AT;

  const rawSite = field(record, 'site');
  let site = NaN;
  if (isMissing(rawSite)) mask |= REASON_BIT.MISSING_SITE;
  else if (Number.isNaN((site = streamSite(rawSite)))) mask |= REASON_BIT.BAD_SITE;

  const rawVal = field(record, 'val');
  let val = NaN;
  if (isMissing(rawVal)) mask |= REASON_BIT.MISSING_VAL;
  else if (!isKnownVal((val = jsonInteger(rawVal)))) {
    mask |= REASON_BIT.BAD_VAL;
    val = NaN;
  }

  const rawType = field(record, 'type');
  const typeMissing = isMissing(rawType);
  return judge({ mask, at, site, val, typeMissing, type: typeMissing ? NaN : jsonInteger(rawType) }, ctx);
}
