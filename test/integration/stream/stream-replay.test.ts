// The streaming workflow runs for months, so every deploy meets histories written by older code: recorded
// histories must keep replaying (test/support/replay.ts). Record a new one with RECORD_HISTORY=1 when the
// workflow changes shape, and keep the old ones: running chains still carry them until they continue as new.
import assert from 'node:assert/strict';
import { readReplayValues } from '../../../simulator/kiosk-publishing';
import { encodeRecordBlock } from '../../../contracts/record-block';
import {
  messagesSignal,
  stateQuery,
  STREAM_WORKFLOW_TYPE,
  streamWorkflowId,
  type StreamMessage,
  type StreamSettings,
  type StreamWorkflowInput,
} from '../../../contracts/stream';
import {
  itReplaysRecordedHistories,
  readRecorded,
  recordIfAsked,
  replay,
  type History,
} from '../../support/replay';
import {
  assertStoredExactly,
  expectedOutcome,
  loadsInHistory,
  markerDetail,
  SAMPLE_FILE,
  setUpStream,
  tearDownStream,
  type StreamEnv,
} from '../../support/stream';
import { startTestWorker } from '../../support/test-worker';

// Small flushes and an early continue-as-new, so one short history holds every command the workflow issues:
// loads by size and by age, search attribute updates, and the hand-over to the next run. The 1,000 messages
// need at least 4 loads of 300, so the first run passes 20 events (about two loads) whatever the timing.
const SETTINGS: StreamSettings = {
  flush: { maxMessages: 300, maxBytes: 1024 * 1024, maxAgeMs: 200 },
  continueAsNewAfterEvents: 20,
  loadTimeoutMs: 60_000,
};
const SIGNALS = 4;
const PER_SIGNAL = 250;

/** Whether a history's run took the local-load patch, and its block loads as tasks and as local activities. */
function blockLoads(history: History): { tasks: number; local: number; patched: boolean } {
  const events = history.events ?? [];
  const loads = loadsInHistory(events);
  const patched = events.some(
    (e) =>
      e.markerRecordedEventAttributes?.markerName === 'core_patch' &&
      markerDetail(e, 'patch-data').includes('load-blocks-as-local-activity'),
  );
  return {
    tasks: loads.filter((l) => l === 'loadStreamBlocks').length,
    local: loads.filter((l) => l === 'local:loadStreamBlocks').length,
    patched,
  };
}

describe('stream workflow replay (determinism across code changes)', function () {
  let env: StreamEnv | undefined;
  let fresh: { workflowId: string; history: History } | undefined;
  let records: { partition: number; offset: number; value: Buffer }[] = [];

  before(async () => {
    env = await setUpStream('stream-replay', 1);
    const { cfg, client } = env;
    const values = readReplayValues(SAMPLE_FILE).slice(0, SIGNALS * PER_SIGNAL);
    records = values.map((value, offset) => ({ partition: 0, offset, value }));
    const messages: StreamMessage[] = values.map((v, offset) => ({
      offset,
      value: v.toString('base64'),
      timestamp: Date.UTC(2023, 2, 6, 12),
    }));
    const tw = await startTestWorker(cfg);
    try {
      const workflowId = streamWorkflowId(cfg.kafka.topic, 0);
      const input: StreamWorkflowInput = { topic: cfg.kafka.topic, partition: 0, settings: SETTINGS };
      let firstRunId: string | undefined;
      for (let i = 0; i < SIGNALS; i++) {
        const part = messages.slice(i * PER_SIGNAL, (i + 1) * PER_SIGNAL);
        // Record blocks and messages one by one (an older bridge), in turn.
        const block =
          i % 2 === 1
            ? undefined
            : await encodeRecordBlock(part.map((m) => ({ ...m, value: Buffer.from(m.value!, 'base64') })));
        const handle = await client.workflow.signalWithStart(STREAM_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: cfg.temporal.taskQueue,
          args: [input],
          signal: messagesSignal,
          signalArgs: block ? [{ block: block.info }, block.data] : [{ messages: part }],
        });
        firstRunId ??= handle.signaledRunId;
      }
      // Every message stored (loaded or rejected), whichever run of the chain did it.
      const latest = client.workflow.getHandle(workflowId);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const state = await latest.query(stateQuery);
        if (state.loaded + state.rejected === messages.length) break;
        if (Date.now() > deadline) throw new Error(`stream stuck: ${JSON.stringify(state)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const first = client.workflow.getHandle(workflowId, firstRunId);
      const description = await first.describe();
      assert.equal(
        description.status.name,
        'CONTINUED_AS_NEW',
        'the recorded run should end in continue-as-new',
      );
      const history = await first.fetchHistory();
      fresh = { workflowId, history };
      // test/fixtures/histories/stream-blocks-continue-as-new.history.pb stays: it is from before local loads.
      recordIfAsked('stream-local-loads-continue-as-new.history.pb', history);
    } finally {
      await tw.stop();
    }
  });
  after(() => tearDownStream(env));

  it('replays a run just recorded by the current code, through its continue-as-new', async () => {
    assert.ok(fresh);
    await replay(fresh.history, fresh.workflowId);
  });

  it('a run of this code loads record blocks as local activities, and stores every message exactly', async () => {
    assert.ok(env && fresh);
    const loads = blockLoads(fresh.history);
    assert.ok(loads.patched, 'the run should take the local-load patch');
    assert.equal(loads.tasks, 0, 'no block load should go through an activity task');
    assert.ok(loads.local > 0, 'the run should load its record blocks as local activities');
    await assertStoredExactly(env.knex, env.cfg.kafka.topic, expectedOutcome(records));
  });

  it('a history from before block loads ran locally replays, with its loads as activity tasks', async () => {
    const before = readRecorded('stream-blocks-continue-as-new.history.pb');
    const loads = blockLoads(before);
    assert.deepEqual([loads.patched, loads.local], [false, 0]);
    assert.ok(loads.tasks > 0, 'the recorded run loaded record blocks as activity tasks');
    await replay(before, 'stream-blocks-before-local-loads');
  });

  itReplaysRecordedHistories('stream-');
});
