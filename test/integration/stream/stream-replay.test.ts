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
import { itReplaysRecordedHistories, recordIfAsked, replay, type History } from '../../support/replay';
import { SAMPLE_FILE, setUpStream, tearDownStream, type StreamEnv } from '../../support/stream';
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

describe('stream workflow replay (determinism across code changes)', function () {
  let env: StreamEnv | undefined;
  let fresh: { workflowId: string; history: History } | undefined;

  before(async () => {
    env = await setUpStream('stream-replay', 1);
    const { cfg, client } = env;
    const values = readReplayValues(SAMPLE_FILE).slice(0, SIGNALS * PER_SIGNAL);
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
      recordIfAsked('stream-blocks-continue-as-new.history.pb', history);
    } finally {
      await tw.stop();
    }
  });
  after(() => tearDownStream(env));

  it('replays a run just recorded by the current code, through its continue-as-new', async () => {
    assert.ok(fresh);
    await replay(fresh.history, fresh.workflowId);
  });

  itReplaysRecordedHistories('stream-');
});
