// The real LMNH sample (6,243 values, read in place from ../shared/data/lmnh) published through the simulator's
// replay, consumed by the bridge, buffered by the streaming workflows and loaded by their activity.
import assert from 'node:assert/strict';
import { startBridge, type RunningBridge } from '../../../bridge/bridge';
import { connectPublisher } from '../../../kafka/publisher';
import { readReplayValues, replayValues } from '../../../simulator/kiosk-publishing';
import {
  KioskPipeline,
  KioskRowsLoaded,
  KioskRowsRejected,
  KioskSource,
} from '../../../contracts/search-attributes';
import { streamWorkflowId } from '../../../contracts/stream';
import { startEntryPoint } from '../../support/child-process';
import {
  assertLedger,
  assertStoredExactly,
  assertWorkflowsBalanced,
  bridgeSettings,
  countStored,
  expectedOutcome,
  loadsInHistory,
  readTopic,
  SAMPLE_FILE,
  setUpStream,
  tearDownStream,
  waitUntil,
  type Expected,
  type StreamEnv,
  type TopicRecord,
} from '../../support/stream';
import { startTestWorker, type TestWorker } from '../../support/test-worker';

const PARTITIONS = 4;

describe('stream: the real LMNH sample through Kafka, the bridge and the workflows', function () {
  this.timeout(180_000);
  let env: StreamEnv;
  let worker: TestWorker | undefined;
  let bridge: RunningBridge | undefined;
  let records: TopicRecord[];
  let expected: Expected;
  const bridgeLog: string[] = [];

  before(async () => {
    env = await setUpStream('stream-real', PARTITIONS);
    worker = await startTestWorker(env.cfg);
  });
  after(async () => {
    await bridge?.stop();
    await worker?.stop();
    await tearDownStream(env);
  });

  it('stores each valid message once and each invalid one as a reject with its reasons', async () => {
    const values = readReplayValues(SAMPLE_FILE);
    assert.equal(values.length, 6243);
    const publisher = await connectPublisher(env.cfg.kafka, env.cfg.kafka.topic);
    // A fifth of the sample waits in Kafka before the bridge starts, the rest comes once that is stored: the new
    // chains get messages one by one first, then record blocks once they say they take them.
    const first = 1250;
    const started = Date.now();
    try {
      await replayValues(publisher, values.slice(0, first));
      bridge = await startBridge(env.cfg, bridgeSettings(), (line) => bridgeLog.push(line));
      await waitUntil(
        `the first ${first} rows`,
        async () => (await countStored(env.knex, env.cfg.kafka.topic)) >= first,
        120_000,
      );
      await replayValues(publisher, values.slice(first));
    } finally {
      await publisher.close();
    }
    await waitUntil(
      'all 6,243 rows',
      async () => (await countStored(env.knex, env.cfg.kafka.topic)) >= 6243,
      120_000,
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `      published and drained 6,243 messages in ${seconds.toFixed(1)} s: ${Math.round(6243 / seconds)} msg/s`,
    );

    records = await readTopic(env.cfg, values.length);
    assert.deepEqual(
      records.map((r) => r.value?.toString('utf8')).sort(),
      values.map((v) => v.toString('utf8')).sort(),
      'Kafka holds exactly the sample',
    );
    expected = expectedOutcome(records);
    assert.equal(expected.invalid.size, 1066, 'the sample has 1,066 invalid messages');
    await assertStoredExactly(env.knex, env.cfg.kafka.topic, expected);
  });

  it('sent each new chain messages one by one first, then record blocks', async () => {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const handle = env.client.workflow.getHandle(streamWorkflowId(env.cfg.kafka.topic, partition));
      const { events } = await handle.fetchHistory();
      // Blocks load as local activities (stream/workflow-patches.ts), messages as activity tasks.
      const loads = loadsInHistory(events ?? []);
      assert.equal(loads[0], 'loadStreamMessages', `partition ${partition}: ${loads.join(', ')}`);
      assert.ok(loads.includes('local:loadStreamBlocks'), `partition ${partition}: ${loads.join(', ')}`);
    }
  });

  it('balances received = loaded + rejected in each workflow and in the run ledger', async () => {
    const states = await assertWorkflowsBalanced(env, records);
    assert.equal(states.length, PARTITIONS);
    assert.equal(
      states.reduce((s, st) => s + st.loaded, 0),
      5177,
    );
    assert.equal(
      states.reduce((s, st) => s + st.rejected, 0),
      1066,
    );
    // One ledger row per partition's workflow chain.
    assert.equal(await assertLedger(env.knex, env.cfg.kafka.topic, expected), PARTITIONS);
  });

  it('makes the workflows findable by id and search attributes (the Web UI runs the same queries)', async () => {
    const { topic } = env.cfg.kafka;
    const id = streamWorkflowId(topic, 2);
    const query = `KioskPipeline = 'stream' AND KioskSource = 'kafka://${topic}/2' AND WorkflowId = '${id}'`;
    let found: string[] = [];
    await waitUntil(
      'visibility to list the workflow with its final counts',
      async () => {
        found = [];
        for await (const wf of env.client.workflow.list({ query: `${query} AND KioskRowsRead > 0` })) {
          found.push(wf.workflowId);
        }
        return found.length === 1;
      },
      20_000,
    );
    assert.deepEqual(found, [id]);

    const state = (await assertWorkflowsBalanced(env, records))[2]!;
    await waitUntil(
      'search attributes to show the final counts',
      async () => {
        const d = await env.client.workflow.getHandle(id).describe();
        return d.typedSearchAttributes.get(KioskRowsLoaded) === state.loaded;
      },
      20_000,
    );
    const description = await env.client.workflow.getHandle(id).describe();
    assert.equal(description.typedSearchAttributes.get(KioskPipeline), 'stream');
    assert.equal(description.typedSearchAttributes.get(KioskSource), `kafka://${topic}/2`);
    assert.equal(description.typedSearchAttributes.get(KioskRowsRejected), state.rejected);
    assert.match((await description.staticSummary()) ?? '', new RegExp(`partition 2`));
  });

  it('`client stream status --json` shows every partition caught up', async () => {
    const status = startEntryPoint('client.ts', env.cfg, ['stream', 'status', '--json']);
    assert.equal(await status.exited, 0, status.output());
    const rows = JSON.parse(status.output()) as {
      partition: number;
      workflowId: string;
      committedOffset: number;
      endOffset: number;
      lag: number;
      workflowLastOffset: number;
      buffered: number;
      loaded: number;
      rejected: number;
    }[];
    assert.equal(rows.length, PARTITIONS);
    for (const row of rows) {
      const published = records.filter((r) => r.partition === row.partition);
      assert.equal(row.workflowId, streamWorkflowId(env.cfg.kafka.topic, row.partition));
      assert.equal(row.endOffset, published.length);
      assert.equal(row.committedOffset, row.endOffset, `partition ${row.partition} committed`);
      assert.equal(row.lag, 0);
      assert.equal(row.workflowLastOffset, row.endOffset - 1);
      assert.equal(row.buffered, 0);
      assert.equal(row.loaded + row.rejected, published.length);
    }
  });
});
