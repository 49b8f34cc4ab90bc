// The one validation module shared by the batch (CSV) and stream (Kafka) paths. Pure: the clock and the known
// sites come in through RuleContext, so the same input always gets the same verdict. The rules and the
// decisions taken where the spec is silent are listed in domain/README.md.
export type { CsvRecord, Interaction, RuleContext, Verdict } from './interaction';
export { validateCsvRecord } from './csv-record';
export { validateStreamValue } from './stream-record';
export { londonWallClockToInstant } from './london-time';
export { REASON_CODES, REASON_DESCRIPTIONS, isReasonCode, type ReasonCode } from './reasons';
