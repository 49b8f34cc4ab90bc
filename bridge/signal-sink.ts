// The Temporal side of the bridge: signal-with-start to the partition's workflow, and its state for
// backpressure. A signalWithStart that returned means the server has durably recorded the signal.
import { QueryRejectedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { KioskPipeline, KioskSource } from '../contracts/search-attributes';
import type { WorkflowLag } from './backpressure';
import {
  messagesSignal,
  stateQuery,
  STREAM_WORKFLOW_TYPE,
  streamSource,
  streamWorkflowId,
  type RecordBlockInfo,
  type StreamMessage,
  type StreamSettings,
  type StreamState,
  type StreamWorkflowInput,
} from '../contracts/stream';

export class WorkflowSink {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly settings: StreamSettings,
  ) {}

  /**
   * `records`: a record block, or messages one by one for workflow code older than blocks. `incarnation`: the
   * topic id the records were read under and the log end of their fetch.
   */
  async deliver(
    topic: string,
    partition: number,
    records: { info: RecordBlockInfo; data: Uint8Array } | StreamMessage[],
    incarnation: { topicId: string; logEnd: number },
  ): Promise<void> {
    const input: StreamWorkflowInput = { topic, partition, settings: this.settings };
    await this.client.workflow.signalWithStart(STREAM_WORKFLOW_TYPE, {
      workflowId: streamWorkflowId(topic, partition),
      taskQueue: this.taskQueue,
      args: [input],
      signal: messagesSignal,
      signalArgs: Array.isArray(records)
        ? [{ messages: records, ...incarnation }]
        : [{ block: records.info, ...incarnation }, records.data],
      typedSearchAttributes: [
        { key: KioskPipeline, value: 'stream' },
        { key: KioskSource, value: streamSource(topic, partition) },
      ],
      staticSummary: `Kafka ${topic} partition ${partition} into PostgreSQL`,
      staticDetails:
        'Fed by the Kafka bridge (signal-with-start). Query `state` for offsets and counts; ' +
        '`kiosk stream status` shows them next to the Kafka offsets.',
    });
  }

  /**
   * Tells a partition's running workflow, if any, the topic's new id with no messages: it closes the chain of
   * the deleted topic at once instead of at the partition's next message.
   */
  async announceTopicId(topic: string, partition: number, topicId: string): Promise<void> {
    try {
      await this.client.workflow
        .getHandle(streamWorkflowId(topic, partition))
        .signal(messagesSignal, { messages: [], topicId });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }

  /**
   * How far behind the workflow is, or `closed` when its latest run is closed or it does not exist (the client
   * rejects queries to closed workflows at once); throws when it cannot answer within the deadline.
   */
  async lag(topic: string, partition: number, timeoutMs: number): Promise<WorkflowLag | 'closed'> {
    const handle = this.client.workflow.getHandle(streamWorkflowId(topic, partition));
    let state: StreamState;
    try {
      state = await this.client.withDeadline(Date.now() + timeoutMs, () => handle.query(stateQuery));
    } catch (err) {
      if (err instanceof QueryRejectedError || err instanceof WorkflowNotFoundError) return 'closed';
      throw err;
    }
    return {
      pending: state.buffered + state.loading + (state.onHold ?? 0),
      draining: state.continueAsNewDue,
      stopped: state.stopped?.reason,
      takesBlocks: state.takesBlocks === true,
    };
  }
}
