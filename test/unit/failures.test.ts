// Failure types are recorded in workflow histories and matched by workflows and retry policies: their names
// are pinned here, and each builder makes a final failure of its own type.
import assert from 'node:assert/strict';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import {
  activityFailedWith,
  FailureType,
  rawUnknown,
  sourceMissing,
  stagingLost,
} from '../../contracts/failures';
import { BATCH_RETRY } from '../../contracts/activity-policies';

const asActivityFailure = (cause: Error) =>
  new ActivityFailure(
    'activity failed',
    'loadObject',
    '1',
    RetryState.NON_RETRYABLE_FAILURE,
    undefined,
    cause,
  );

describe('failure types (contracts/failures.ts)', () => {
  it('keeps the names that recorded histories hold', () => {
    assert.deepEqual(FailureType, {
      SourceMissing: 'SourceMissing',
      StagingLost: 'StagingLost',
      RawUnknown: 'RawUnknown',
    });
  });

  for (const [build, type] of [
    [sourceMissing, 'SourceMissing'],
    [stagingLost, 'StagingLost'],
    [rawUnknown, 'RawUnknown'],
  ] as const) {
    it(`builds a final ${type} failure with its message`, () => {
      const failure = build('bucket gone');
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.type, type);
      assert.equal(failure.message, 'bucket gone');
      assert.equal(failure.nonRetryable, true);
    });
  }

  it('tells a workflow which failure an activity call ended with', () => {
    const lost = asActivityFailure(stagingLost('t_raw is missing'));
    assert.equal(activityFailedWith(lost, FailureType.StagingLost), true);
    assert.equal(activityFailedWith(lost, FailureType.SourceMissing), false);
    assert.equal(activityFailedWith(stagingLost('not through an activity'), FailureType.StagingLost), false);
    assert.equal(
      activityFailedWith(asActivityFailure(new Error('StagingLost')), FailureType.StagingLost),
      false,
    );
  });

  it('stops the batch retrying a missing source', () => {
    assert.deepEqual(BATCH_RETRY.nonRetryableErrorTypes, [FailureType.SourceMissing]);
  });
});
