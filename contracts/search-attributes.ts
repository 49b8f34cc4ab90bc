// Custom search attributes: they make runs findable in the Temporal Web UI by source, dates and counts.
// The dev server allows three Int attributes per namespace, hence counts only as Ints.
// The stack registers them (scripts/stack/provision.ts); production registers them once per namespace.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const KioskPipeline = defineSearchAttributeKey('KioskPipeline', SearchAttributeType.KEYWORD);
export const KioskSource = defineSearchAttributeKey('KioskSource', SearchAttributeType.KEYWORD);
export const KioskDateFrom = defineSearchAttributeKey('KioskDateFrom', SearchAttributeType.DATETIME);
export const KioskDateTo = defineSearchAttributeKey('KioskDateTo', SearchAttributeType.DATETIME);
export const KioskRowsRead = defineSearchAttributeKey('KioskRowsRead', SearchAttributeType.INT);
export const KioskRowsLoaded = defineSearchAttributeKey('KioskRowsLoaded', SearchAttributeType.INT);
export const KioskRowsRejected = defineSearchAttributeKey('KioskRowsRejected', SearchAttributeType.INT);

export const ALL_SEARCH_ATTRIBUTES = [
  KioskPipeline,
  KioskSource,
  KioskDateFrom,
  KioskDateTo,
  KioskRowsRead,
  KioskRowsLoaded,
  KioskRowsRejected,
] as const;
