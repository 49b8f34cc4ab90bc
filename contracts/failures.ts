// The failures activities raise for workflows and retry policies to act on, by type. Workflow histories record
// these names, so a value here never changes: a new meaning gets a new name.
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';

export const FailureType = {
  /** A missing bucket, folder or named object: final at once, with a one-line reason. */
  SourceMissing: 'SourceMissing',
  /** An object's staged tables are gone or emptied (a crash, a failed run's cleanup): redo its chain. */
  StagingLost: 'StagingLost',
  /** A load would take a press whose holder was loaded before raw lines were kept: reprocess that first. */
  RawUnknown: 'RawUnknown',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

// None of these is retried as it is: the activity cannot succeed until something else changes.
const final = (type: FailureType, message: string) =>
  ApplicationFailure.create({ type, message, nonRetryable: true });

export const sourceMissing = (message: string) => final(FailureType.SourceMissing, message);
export const stagingLost = (message: string) => final(FailureType.StagingLost, message);
export const rawUnknown = (message: string) => final(FailureType.RawUnknown, message);

/** Whether a workflow's activity call failed with a failure of `type`. */
export function activityFailedWith(err: unknown, type: FailureType): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === type;
}
