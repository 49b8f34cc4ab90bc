// Shapes exchanged between the batch workflow and its activities: small, serialisable references and counts.
import type { StoredObject } from './object-store';

export interface BatchObject extends StoredObject {
  /** The source the object was listed from (s3://bucket/prefix or file:///dir). */
  source: string;
  /** This exact version (etag) was loaded by an earlier run. */
  unchangedSinceLoad: boolean;
}

export interface LoadCounts {
  read: number;
  loaded: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
}

export interface ObjectLoadResult extends LoadCounts {
  uri: string;
  skipped: boolean;
  ratingRows: number;
  assistanceRows: number;
  emergencyRows: number;
}

export type RunLedger = LoadCounts;
