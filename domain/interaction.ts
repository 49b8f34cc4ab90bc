import type { ReasonCode } from './reasons';

export interface Interaction {
  /** Exhibition site number. */
  site: number;
  kind: 'rating' | 'request';
  /** Rating 0..4, or request type 0 (assistance) / 1 (emergency). */
  value: number;
  /** The instant of the press. Millisecond precision: digits below the millisecond are truncated. */
  eventAt: Date;
}

export type Verdict = { valid: true; interaction: Interaction } | { valid: false; reasons: ReasonCode[] };

export interface RuleContext {
  knownSites: ReadonlySet<number>;
  /** The moment of processing, passed in so that validation stays pure and replayable. */
  now: Date;
}

/** Text fields of one CSV row as parsed; a missing column is ''. */
export interface CsvRecord {
  at: string;
  site: string;
  val: string;
  type: string;
}
