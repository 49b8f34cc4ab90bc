// The replay workflow on its own, activities mocked, on a Temporal dev server of its own: it walks the pages by
// id across continue-as-new with one ledger run, and closes the ledger as failed when a page cannot be done.
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import assert from 'node:assert/strict';
import type { ReplayPageInput, ReplayPageResult } from '../../../replay/activities';
import { rejectReplay, type ReplaySummary } from '../../../replay/workflow';
import { uniqueSuffix } from '../../support/isolated-env';
import { mockedWorkflowSuite, type ReplayActivities } from '../../support/mocked-activities';

describe('replay workflow (activities mocked)', function () {
  this.timeout(60_000);
  const { env, withWorker } = mockedWorkflowSuite<ReplayActivities>('replay-mocked');

  async function run(
    pages: (input: ReplayPageInput) => ReplayPageResult,
    input: Parameters<typeof rejectReplay>[0],
  ) {
    const calls = { pages: [] as ReplayPageInput[], started: [] as string[], finished: [] as string[] };
    const outcome = await withWorker(
      {
        startReplay: (i: { runId: string }) => {
          calls.started.push(i.runId);
          return Promise.resolve({ afterId: 0, untilId: 10 });
        },
        replayRejectPage: (i: ReplayPageInput) => {
          calls.pages.push(i);
          return Promise.resolve(pages(i));
        },
        // No batch rejects selected: the batch step has nothing to reprocess.
        batchObjectsToReplay: () => Promise.resolve({ uris: [], loadedBefore: 0 }),
        finishRun: (i: { runId: string; status: string }) => {
          calls.finished.push(`${i.runId}:${i.status}`);
          return Promise.resolve({ read: 4, loaded: 4, rejected: 0, rejectedByReason: {} });
        },
      },
      (taskQueue) =>
        env()
          .client.workflow.execute(rejectReplay, {
            taskQueue,
            workflowId: `replay-test-${uniqueSuffix()}`,
            args: [input],
          })
          .then(
            (s: ReplaySummary) => s,
            (e: unknown) => e,
          ),
    );
    return { outcome, calls };
  }

  it('pages by id up to the newest reject, across continue-as-new, into one ledger run', async () => {
    // Ids 1..10 in pages of 3 (the last page short); each page admits one.
    const { outcome, calls } = await run(
      (i) => {
        const last = Math.min(i.afterId + i.pageSize, i.untilId);
        const examined = last - i.afterId;
        return { lastId: last, examined, admitted: 1, done: last >= i.untilId };
      },
      { filter: { reason: 'UNKNOWN_SITE' }, pageSize: 3, pagesPerRun: 2 },
    );
    const s = outcome as ReplaySummary;
    assert.deepEqual(
      calls.pages.map((p) => p.afterId),
      [0, 3, 6, 9],
    );
    assert.equal(calls.started.length, 1, 'the ledger run is opened once');
    assert.ok(calls.pages.every((p) => p.runId === calls.started[0] && p.untilId === 10));
    assert.ok(calls.pages.every((p) => p.filter.reason === 'UNKNOWN_SITE'));
    assert.deepEqual(calls.finished, [`${calls.started[0]}:completed`]);
    assert.deepEqual(
      [s.ledgerRunId, s.pages, s.examined, s.admitted, s.loaded, s.done],
      [calls.started[0], 4, 10, 4, 4, true],
    );
  });

  it('closes the ledger as failed when a page fails for good', async () => {
    const { outcome, calls } = await run(
      (i) => {
        if (i.afterId > 0) throw ApplicationFailure.nonRetryable('database refused', 'Refused');
        return { lastId: 5, examined: 5, admitted: 0, done: false };
      },
      { filter: {}, pageSize: 5 },
    );
    assert.ok(outcome instanceof WorkflowFailedError, String(outcome));
    assert.deepEqual(calls.finished, [`${calls.started[0]}:failed`]);
  });
});
