// One long-running workflow per Kafka partition (SPEC 5): the bridge signals batches of raw messages, this
// workflow drops redeliveries, buffers, and hands flush-sized batches to the load activity, which validates and
// stores them. It validates nothing itself: the rules need the clock and the exhibition table, which are I/O.
import {
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { StreamActivities } from './load';
import type { StreamRereadActivities } from './reread';
import type { StreamTopicActivities } from './topic';
import {
  STREAM_LOAD_RETRY,
  STREAM_REREAD,
  STREAM_TOPIC,
  streamLocalLoad,
} from '../contracts/activity-policies';
import {
  messagesSignal,
  resolveSettings,
  resumeSignal,
  stateQuery,
  type StreamWorkflowInput,
} from '../contracts/stream';
import { rereadsUnstored } from './workflow-patches';
import { PartitionRun } from './workflow-run';

/** `blockData`: the bytes of input.pendingBlocks, in order. */
export async function streamPartition(input: StreamWorkflowInput, ...blockData: Uint8Array[]): Promise<void> {
  const settings = resolveSettings(input.settings);
  const { loadStreamMessages, loadStreamBlocks } = proxyActivities<StreamActivities>({
    startToCloseTimeout: settings.loadTimeoutMs,
    retry: STREAM_LOAD_RETRY,
  });
  // The same load, run by this worker beside the workflow (stream/workflow-patches.ts: loadsBlocksLocally).
  const local = proxyLocalActivities<StreamActivities>(streamLocalLoad(settings.loadTimeoutMs));
  const { readUnstoredMessages } = proxyActivities<StreamRereadActivities>(STREAM_REREAD);
  const { resolveStreamIncarnation, closeStreamRun, readPartitionLogEnd } =
    proxyActivities<StreamTopicActivities>(STREAM_TOPIC);
  const run = new PartitionRun(input, blockData, settings, {
    loadStreamMessages,
    loadStreamBlocks,
    loadStreamBlocksLocally: local.loadStreamBlocks,
    readUnstoredMessages,
    resolveStreamIncarnation,
    closeStreamRun,
    readPartitionLogEnd,
  });
  setHandler(messagesSignal, (batch, data) => run.receive(batch, data));
  setHandler(resumeSignal, ({ by }) => run.resume(by));
  setHandler(stateQuery, () => run.report());

  run.describe();
  if (input.carried === undefined && rereadsUnstored()) await run.rereadUnstored();
  for (;;) {
    const next = run.newIncarnations.next;
    if (next !== undefined) {
      await run.takeOverNewTopic(next);
      continue;
    }
    if (run.stop.suspectLogEnd !== undefined) await run.checkStop();
    if (run.buffer.size === 0) {
      // Idle until messages, a due continue-as-new, a recreated topic or a log end to check.
      await condition(() => run.buffer.size > 0 || run.continueAsNewNow() || run.hasUrgentWork());
      // Round again: what just arrived waits for the flush policy (size or age) like anything else, so that light
      // traffic makes one load per maxAgeMs rather than one per signal.
      if (run.hasUrgentWork() || !run.continueAsNewNow()) continue;
    } else if (!run.flushDue()) {
      await run.untilFlushDue();
    }
    if (run.buffer.size > 0) await run.flush();
    if (run.continueAsNewNow()) {
      await run.untilQuiet();
      await condition(allHandlersFinished);
      // Under sustained input a signal nearly always lands during the last flush, so waiting for an empty
      // buffer could put continue-as-new off until the history limit. Up to MAX_CARRIED_BYTES travels in the
      // next run's input instead; more is flushed first, and the bridge pauses the partition meanwhile (the
      // state query says continueAsNewDue) so that the buffer does shrink. No await between this check and
      // continue-as-new: a signal arriving now makes the server refuse the command, and this code runs again
      // with that signal in the buffer.
      if (run.newIncarnations.next === undefined && run.continueAsNewNow() && run.bufferFitsInput()) {
        const continueAsNew = makeContinueAsNewFunc<typeof streamPartition>({
          typedSearchAttributes: workflowInfo().typedSearchAttributes,
        });
        await continueAsNew(...run.handOver());
      }
    }
  }
}
