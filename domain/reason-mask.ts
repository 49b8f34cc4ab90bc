import { REASON_CODES, type ReasonCode } from './reasons';

// Validation runs a million times per batch: collecting reasons as bits avoids an array per record and makes
// "in REASON_CODES order, no duplicates" hold by construction.
export const REASON_BIT = Object.fromEntries(REASON_CODES.map((code, i) => [code, 1 << i])) as Record<
  ReasonCode,
  number
>;

export function reasonsFromMask(mask: number): ReasonCode[] {
  const reasons: ReasonCode[] = [];
  REASON_CODES.forEach((code, i) => {
    if ((mask & (1 << i)) !== 0) reasons.push(code);
  });
  return reasons;
}
