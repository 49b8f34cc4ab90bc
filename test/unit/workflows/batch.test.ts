// The batch workflow's own paths with its activities mocked (on a Temporal dev server of its own, a task
// queue per test): paging carries the ledger's run id through continue-as-new, and a failure or a cancel at any
// step drops staging and records the ending.
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import type {
  BatchObject,
  HistoryPage,
  ListPageInput,
  ObjectLoadResult,
  RunStatus,
} from '../../../contracts/batch';
import { batchWorkflow, type BatchInput } from '../../../batch/workflow';
import { uniqueSuffix } from '../../support/isolated-env';
import { mockedWorkflowSuite, type BatchActivities } from '../../support/mocked-activities';

const object = (i: number): BatchObject => ({
  uri: `s3://b/obj-${i}.csv`,
  name: `obj-${i}.csv`,
  etag: `e${i}`,
  size: 10,
  lastModified: '2026-01-01T00:00:00.000Z',
  source: 's3://b/',
});

/** Mocked activities over `total` objects, recording what the workflow asked of them. */
function mocks(total: number, failListingAfter = Infinity, blockLoads = false, failExtractOf = '') {
  const calls = { startRun: [] as string[], loaded: [] as string[], finished: [] as [string, RunStatus][] };
  const dropped: string[] = [];
  const result = (uri: string): ObjectLoadResult => ({
    uri,
    skipped: false,
    read: 2,
    loaded: 2,
    rejected: 0,
    rejectedByReason: {},
    ratingRows: 2,
    assistanceRows: 0,
    emergencyRows: 0,
  });
  // Each step of each object's chain, in the order the worker ran them.
  const steps: string[] = [];
  const extract = (i: { object: BatchObject }) => {
    steps.push(`extract:${i.object.name}`);
    if (i.object.name === failExtractOf) return Promise.reject(ApplicationFailure.nonRetryable('S3 broke'));
    return Promise.resolve({ stem: i.object.name, lines: 3 });
  };
  const step =
    <R>(name: string, result: R) =>
    (i: { stem: string }) => {
      steps.push(`${name}:${i.stem}`);
      return Promise.resolve(result);
    };
  const load = async (input: { runId: string; object: BatchObject }) => {
    // Hangs until cancelled (it heartbeats, which is how a cancel reaches it): the cancel must end the run.
    if (blockLoads) {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 200);
      try {
        await ctx.cancelled;
      } finally {
        clearInterval(beat);
      }
    }
    calls.loaded.push(`${input.runId}:${input.object.name}`);
    steps.push(`load:${input.object.name}`);
    return result(input.object.uri);
  };
  let listings = 0;
  const activities = {
    startRun: (i: { runId: string }) => {
      calls.startRun.push(i.runId);
      return Promise.resolve();
    },
    loadExhibitionMetadata: () => Promise.resolve({ loaded: [], failed: [] }),
    checkNamedObjects: () => Promise.resolve(),
    listHistoryPage: (i: ListPageInput): Promise<HistoryPage> => {
      if (++listings > failListingAfter)
        return Promise.reject(ApplicationFailure.nonRetryable('listing broke'));
      const from = i.after === undefined ? 0 : Number(/obj-(\d+)/.exec(i.after)![1]) + 1;
      const objects = Array.from({ length: Math.max(0, Math.min(i.limit, total - from)) }, (_, k) =>
        object(from + k),
      );
      const next = from + objects.length < total ? objects.at(-1)!.uri : undefined;
      return Promise.resolve({ objects, listed: objects.length, skipped: 0, next });
    },
    extractObject: extract,
    validateObject: step('validate', { header: true, valid: 2, rejected: 0 }),
    transformObject: step('transform', { presses: 2 }),
    loadObject: load,
    dropRunStaging: (i: { runId: string }) => {
      dropped.push(i.runId);
      return Promise.resolve(0);
    },
    finishRun: (i: { runId: string; status: RunStatus }) => {
      calls.finished.push([i.runId, i.status]);
      const n = calls.loaded.length * 2;
      return Promise.resolve({ read: n, loaded: n, rejected: 0, rejectedByReason: {} });
    },
  };
  return { activities, calls, dropped, steps };
}

describe('batch workflow with mocked activities', function () {
  this.timeout(120_000);
  const { env, withWorker } = mockedWorkflowSuite<BatchActivities>('batch-mocked');

  const start = (taskQueue: string, input: BatchInput) =>
    env().client.workflow.start(batchWorkflow, {
      taskQueue,
      workflowId: `batch-mocked-${uniqueSuffix()}`,
      args: [input],
    });

  it('pages through continue-as-new under one ledger run id, loading every object once in order', async () => {
    const m = mocks(23);
    const summary = await withWorker(m.activities, async (tq) => {
      const handle = await start(tq, { source: 's3://b/', pageSize: 3, pagesPerRun: 2 });
      const s = await handle.result();
      assert.equal(s.runId, handle.firstExecutionRunId);
      return s;
    });
    // 8 pages (the last short), two per execution: 4 executions.
    assert.deepEqual([summary.objects, summary.read, summary.runs], [23, 46, 4]);
    assert.deepEqual(m.calls.startRun, [summary.runId]);
    assert.deepEqual(
      m.calls.loaded,
      Array.from({ length: 23 }, (_, i) => `${summary.runId}:obj-${i}.csv`),
    );
    assert.deepEqual(m.calls.finished, [[summary.runId, 'completed']]);
    assert.deepEqual(m.dropped, []);
  });

  it('stages the first object alone, then the next one while each loads, loading one by one in key order', async () => {
    const m = mocks(5);
    await withWorker(m.activities, async (tq) => (await start(tq, { source: 's3://b/' })).result());
    const name = (i: number) => `obj-${i}.csv`;
    assert.deepEqual(
      m.steps.slice(0, 3),
      ['extract', 'validate', 'transform'].map((s) => `${s}:${name(0)}`),
    );
    assert.deepEqual(
      m.steps.filter((s) => s.startsWith('load:')),
      [0, 1, 2, 3, 4].map((i) => `load:${name(i)}`),
    );
    for (let i = 1; i < 5; i++) {
      const at = (s: string) => m.steps.indexOf(`${s}:${name(i)}`);
      assert.ok(
        at('extract') < at('validate') && at('validate') < at('transform') && at('transform') < at('load'),
      );
      // Never more than two objects in their chains at once: the one loading and the next.
      if (i >= 2) assert.ok(at('extract') > m.steps.indexOf(`load:${name(i - 2)}`), m.steps.join(' '));
    }
  });

  it('a failure in a later execution is recorded against the first run id, staging dropped', async () => {
    const m = mocks(20, 3);
    const runId = await withWorker(m.activities, async (tq) => {
      const handle = await start(tq, { source: 's3://b/', pageSize: 3, pagesPerRun: 2 });
      await assert.rejects(handle.result(), WorkflowFailedError);
      return handle.firstExecutionRunId;
    });
    assert.deepEqual(m.calls.finished, [[runId, 'failed']]);
    assert.deepEqual(m.dropped, [runId]);
    assert.equal(m.calls.loaded.length, 9); // three pages (the third in the second execution), then a failure
  });

  it('a first object whose chain fails fails the run at once, with no other object staged', async () => {
    const m = mocks(5, Infinity, false, 'obj-0.csv');
    const runId = await withWorker(m.activities, async (tq) => {
      const handle = await start(tq, { source: 's3://b/' });
      await assert.rejects(handle.result(), WorkflowFailedError);
      return handle.firstExecutionRunId;
    });
    assert.deepEqual(m.steps, ['extract:obj-0.csv']);
    assert.deepEqual(m.calls.finished, [[runId, 'failed']]);
    assert.deepEqual(m.dropped, [runId]);
  });

  it('a cancel while a load hangs is recorded as cancelled, staging dropped', async () => {
    const m = mocks(5, Infinity, true);
    const runId = await withWorker(m.activities, async (tq) => {
      const handle = await start(tq, { source: 's3://b/' });
      await new Promise((r) => setTimeout(r, 1500));
      await handle.cancel();
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
        return true;
      });
      return handle.firstExecutionRunId;
    });
    assert.deepEqual(m.calls.finished, [[runId, 'cancelled']]);
    assert.deepEqual(m.dropped, [runId]);
  });
});
