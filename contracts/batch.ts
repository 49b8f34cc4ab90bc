// Shapes exchanged between the batch workflow and its activities: small, serialisable references and counts.
export interface StoredObject {
  /** The object's full URI, the batch's source key: s3://bucket/key or file:///dir/name. */
  uri: string;
  /** Name relative to the source prefix. */
  name: string;
  /** Changes whenever the content does: the S3 ETag, or size and mtime for a file. */
  etag: string;
  size: number;
  lastModified: string;
}

export interface BatchObject extends StoredObject {
  /** The source the object was listed from (s3://bucket/prefix or file:///dir). */
  source: string;
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

export interface ListPageInput {
  source: string;
  /** Only these objects (names relative to the source, or full URIs). */
  keys?: string[];
  /** Landed within [from, to]: ISO dates (inclusive days) or timestamps (to exclusive). */
  from?: string;
  to?: string;
  /** Landed at or before this instant (a scheduled run's action time). */
  landedBy?: string;
  /** Include objects already loaded in their current version. */
  reprocess?: boolean;
  /** The cursor: the URI of the last object the previous page examined. */
  after?: string;
  /** Objects to load per page. */
  limit: number;
}

export interface HistoryPage {
  /** In key order, to load. */
  objects: BatchObject[];
  /** Objects in scope that this page examined, and of those the ones skipped (already loaded). */
  listed: number;
  skipped: number;
  /** Where the next page starts; absent when the source has no more objects. */
  next?: string;
}

/** How a run ended, as the ledger (pipeline_run.status) records it. */
export type RunStatus = 'completed' | 'failed' | 'cancelled';
