// Continue-as-new under sustained input: with the history threshold forced low, the partition's workflow
// continues as new many times while signals keep coming, and no message is lost or stored twice.
import type { WorkflowExecutionInfo } from '@temporalio/client';
import assert from 'node:assert/strict';
import { startBridge, type RunningBridge } from '../../../bridge/bridge';
import { connectPublisher, type Publisher } from '../../../kafka/publisher';
import { simulateTraffic } from '../../../simulator/kiosk-publishing';
import { REAL_NOISE } from '../../../simulator/kiosk-traffic';
import { streamWorkflowId } from '../../../contracts/stream';
import {
  assertLedger,
  assertStoredExactly,
  assertWorkflowsBalanced,
  bridgeSettings,
  countStored,
  expectedOutcome,
  readTopic,
  setUpStream,
  tearDownStream,
  waitUntil,
  type StreamEnv,
} from '../../support/stream';
import { startTestWorker, type TestWorker } from '../../support/test-worker';

const TOTAL = 3000;

describe('stream: continue-as-new under sustained input', function () {
  this.timeout(120_000);
  let env: StreamEnv;
  let worker: TestWorker | undefined;
  let bridge: RunningBridge | undefined;
  let publisher: Publisher | undefined;

  before(async () => {
    env = await setUpStream('stream-can', 1);
    worker = await startTestWorker(env.cfg);
    publisher = await connectPublisher(env.cfg.kafka, env.cfg.kafka.topic);
    bridge = await startBridge(
      env.cfg,
      bridgeSettings({
        STREAM_CONTINUE_AS_NEW_EVENTS: '40',
        STREAM_SIGNAL_MAX_MESSAGES: '50',
        STREAM_FLUSH_MAX_MESSAGES: '100',
        STREAM_FLUSH_MAX_AGE_MS: '100',
      }),
      () => undefined,
    );
  });
  after(async () => {
    await publisher?.close();
    await bridge?.stop();
    await worker?.stop();
    await tearDownStream(env);
  });

  it('carries its state from run to run without losing or duplicating a message', async () => {
    const { topic } = env.cfg.kafka;
    await simulateTraffic(publisher!, { rate: 600, durationS: TOTAL / 600, noise: REAL_NOISE, seed: 4242 });
    await waitUntil(
      'every message stored',
      async () => (await countStored(env.knex, topic)) >= TOTAL,
      90_000,
    );

    const records = await readTopic(env.cfg, TOTAL);
    const expected = expectedOutcome(records);
    await assertStoredExactly(env.knex, topic, expected);
    // The ledger row belongs to the chain, not to a run: one row for all of them.
    assert.equal(await assertLedger(env.knex, topic, expected), 1);
    const [state] = await assertWorkflowsBalanced(env, records);
    assert.ok(state!.chainRuns >= 5, `only ${state!.chainRuns} runs`);
    // Under sustained input some runs end with messages in hand: they must arrive in the next run.
    assert.ok(state!.carriedOver > 0, 'no run handed messages over');

    // Temporal's own record agrees: the earlier runs closed as continued-as-new.
    const id = streamWorkflowId(topic, 0);
    const runs: WorkflowExecutionInfo[] = [];
    await waitUntil(
      'visibility to list every run',
      async () => {
        runs.length = 0;
        for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(wf);
        return runs.length >= state!.chainRuns;
      },
      20_000,
    );
    console.log(
      `      ${state!.chainRuns} runs of at most ${Math.max(...runs.map((r) => r.historyLength))} events; ` +
        `${state!.carriedOver} messages carried from a run to the next`,
    );
    assert.equal(runs.length, state!.chainRuns);
    assert.equal(runs.filter((r) => r.status.name === 'CONTINUED_AS_NEW').length, state!.chainRuns - 1);
    assert.equal(runs.filter((r) => r.status.name === 'RUNNING').length, 1);
  });
});
