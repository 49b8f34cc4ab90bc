// A query that reaches a worker while a stream workflow's task waits on a dead worker's sticky queue: the new
// worker applies the events already in history (a signal and the flush timer) and flushes before the task
// starts; the task then brings signals sent meanwhile. A replay applies the whole task at once and takes those
// too, so the run replays only because the flush takes back what the load's recorded result did not store
// (stream/workflow-run.ts, flush). The order is forced with the sticky queue's 10 s schedule-to-start timeout:
// the query, sent first, reaches the normal queue about five seconds before the task does.
import { temporal } from '@temporalio/proto';
import assert from 'node:assert/strict';
import { encodeRecordBlock } from '../../../contracts/record-block';
import {
  messagesSignal,
  stateQuery,
  STREAM_WORKFLOW_TYPE,
  streamWorkflowId,
  type StreamMessage,
  type StreamWorkflowInput,
} from '../../../contracts/stream';
import { readReplayValues } from '../../../simulator/kiosk-publishing';
import { sigkill, startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { replay } from '../../support/replay';
import {
  countStored,
  SAMPLE_FILE,
  setUpStream,
  tearDownStream,
  waitUntil,
  workflowBundleFile,
  type StreamEnv,
} from '../../support/stream';

const EventType = temporal.api.enums.v1.EventType;
const MAX_AGE_MS = 5000;

describe('stream: a query that runs a task ahead of the task itself', function () {
  this.timeout(180_000);
  let env: StreamEnv;
  const workers: RunningProcess[] = [];

  before(async () => {
    env = await setUpStream('stream-direct-query', 1);
  });
  after(async () => {
    for (const w of workers) if (w.child.exitCode === null) await sigkill(w);
    await tearDownStream(env);
  });

  it('flushes what the query saw, then the rest, and its history replays', async () => {
    const { cfg, client, knex } = env;
    const bundle = await workflowBundleFile();
    const startWorker = async () => {
      const w = startEntryPoint('worker.ts', cfg, [], { WORKFLOW_BUNDLE_PATH: bundle });
      workers.push(w);
      await waitForOutput(w, /polling task queue/);
      return w;
    };
    const values = readReplayValues(SAMPLE_FILE).slice(0, 12);
    const messages = (from: number, to: number): StreamMessage[] =>
      values
        .slice(from, to + 1)
        .map((v, i) => ({ offset: from + i, value: v.toString('base64'), timestamp: 0 }));
    const handle = client.workflow.getHandle(streamWorkflowId(cfg.kafka.topic, 0));
    const events = async () => (await handle.fetchHistory()).events ?? [];
    const until = (what: string, type: temporal.api.enums.v1.EventType) =>
      waitUntil(what, async () => (await events()).some((e) => e.eventType === type), 30_000);

    const first = await startWorker();
    const input: StreamWorkflowInput = {
      topic: cfg.kafka.topic,
      partition: 0,
      settings: { flush: { maxMessages: 1000, maxAgeMs: MAX_AGE_MS } },
    };
    await client.workflow.start(STREAM_WORKFLOW_TYPE, {
      workflowId: handle.workflowId,
      taskQueue: cfg.temporal.taskQueue,
      args: [input],
    });
    await handle.signal(messagesSignal, { messages: messages(0, 2) });
    await until('the flush timer to start', EventType.EVENT_TYPE_TIMER_STARTED);
    // No orderly stop: the run stays sticky to the dead worker, so its next task waits there for 10 s.
    await sigkill(first);
    // No task is pending: the server sends the query straight to a worker (the sticky one first).
    const asked = handle.query(stateQuery);
    await until('the flush timer to fire', EventType.EVENT_TYPE_TIMER_FIRED);
    await handle.signal(messagesSignal, { messages: messages(3, 5) });
    await startWorker();
    const seen = await asked;
    assert.deepEqual(
      [seen.received, seen.loading],
      [6, 6],
      "the query should find 0..5 being loaded: the worker ran the pending task's events for it",
    );
    const block = await encodeRecordBlock(
      messages(9, 11).map((m) => ({ ...m, value: Buffer.from(m.value!, 'base64') })),
    );
    await handle.signal(messagesSignal, { messages: messages(6, 8) });
    await handle.signal(messagesSignal, { block: block.info }, block.data);

    await waitUntil('all 12 stored', async () => (await countStored(knex, cfg.kafka.topic)) === 12, 60_000);
    await waitUntil(
      'the workflow to count all 12',
      async () => {
        const s = await handle.query(stateQuery);
        return s.loaded + s.rejected === 12 && s.buffered === 0;
      },
      30_000,
    );
    const history = await handle.fetchHistory();
    // The split itself: the task that scheduled the load of 0..5 had received 6..8 before it started.
    const all = history.events ?? [];
    const signals = all.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    const loads = all.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'loadStreamMessages',
    );
    const completed = all.find(
      (e) =>
        e.eventId?.toString() ===
        loads[0]?.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId?.toString(),
    );
    const taskStarted = Number(completed?.workflowTaskCompletedEventAttributes?.startedEventId);
    assert.equal(signals.length, 4);
    const secondSignal = Number(signals[2]!.eventId);
    assert.ok(
      secondSignal < taskStarted,
      `signal 6..8 (event ${secondSignal}) should precede the start of the task that loaded 0..5 (${taskStarted})`,
    );
    assert.equal(loads.length, 2, 'loads of 0..5 and 6..8, then one of the block');
    await replay(history, handle.workflowId);
  });
});
