// A topic deleted and created again with Kafka's own kafka-topics (a new topic id, offsets from 0): each
// partition's workflow closes its chain and a new chain stores the new messages, exactly once, under the new
// incarnation's source_topic; the bridge warns. Offsets that go backwards under an unchanged id stop the
// partition, loudly, until an operator resumes it.
import assert from 'node:assert/strict';
import { createActivities } from '../../../activities';
import { closeActivityDeps, createActivityDeps } from '../../../infra/activity-deps';
import { startBridge, type RunningBridge } from '../../../bridge/bridge';
import { connectPublisher, type Publisher } from '../../../kafka/publisher';
import { readTopicId } from '../../../kafka/topic-id';
import { createWorker } from '../../../worker';
import { lastStoredOffsets } from '../../../infra/stream-offsets';
import type { Config } from '../../../infra/config';
import { collectStreamStatus } from '../../../cli/stream';
import {
  messagesSignal,
  stateQuery,
  STREAM_WORKFLOW_TYPE,
  streamWorkflowId,
} from '../../../contracts/stream';
import { startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { kafkaTopics, produceWithJava } from '../../support/java-producer';
import { replay } from '../../support/replay';
import {
  assertStoredExactly,
  bridgeSettings,
  countStored,
  expectedOutcome,
  press,
  readTopic,
  setUpStream,
  startStream,
  stopStream,
  storedByOffset,
  tearDownStream,
  waitUntil,
  type RunningStream,
  type StreamEnv,
  type TopicRecord,
} from '../../support/stream';
import { withKafkaAdmin } from '../../support/kafka-topics';
import { startTestWorker, workflowBundle, type TestWorker } from '../../support/test-worker';

/** Deletes the topic with kafka-topics and creates it again with `partitions`; resolves with the new id. */
async function recreateTopic(cfg: Config, partitions: number, oldId: string): Promise<string> {
  const topic = cfg.kafka.topic;
  await kafkaTopics(cfg, ['--delete', '--topic', topic]);
  // Deletion completes in the background; creating too early fails with "marked for deletion".
  await waitUntil(
    'the old topic to be gone and a new one created',
    async () => {
      try {
        await kafkaTopics(cfg, [
          '--create',
          '--topic',
          topic,
          '--partitions',
          String(partitions),
          '--replication-factor',
          '1',
        ]);
        return true;
      } catch {
        return false;
      }
    },
    60_000,
    1000,
  );
  const described = await kafkaTopics(cfg, ['--describe', '--topic', topic]);
  const newId = /TopicId:\s*(\S+)/.exec(described)?.[1];
  assert.ok(newId !== undefined, `kafka-topics --describe printed no TopicId: ${described}`);
  const seen = await readTopicId(cfg.kafka, topic);
  assert.notEqual(seen, oldId, 'the recreated topic has a new id');
  return seen;
}

const values = (from: number, count: number, val: number): Buffer[] =>
  Array.from({ length: count }, (_, i) => press(from + i, val));

describe('stream: a topic deleted and created again while the bridge runs', function () {
  this.timeout(300_000);
  let stream: RunningStream | undefined;
  const lines: { line: string; fields?: Record<string, unknown>; level?: string }[] = [];

  before(async () => {
    stream = await startStream(
      'stream-recreate',
      2,
      { KAFKA_METADATA_MAX_AGE_MS: '2000' },
      (line, fields, level) => lines.push({ line, fields, level }),
    );
  });
  after(() => stopStream(stream));

  it('closes the old chains, and new chains store the new messages once, under the new topic id', async () => {
    const { env } = stream!;
    const { cfg, knex, client } = env;
    const { topic } = cfg.kafka;
    const oldId = await readTopicId(cfg.kafka, topic);

    // Spread over both partitions (kafkajs sends keyless records round robin).
    await stream!.publisher.publish(values(0, 300, 3));
    await waitUntil('the first 300 stored', async () => (await countStored(knex, topic)) === 300, 60_000);
    const oldRecords = await readTopic(cfg, 300);
    const oldPartitions = [...new Set(oldRecords.map((r) => r.partition))].sort();
    assert.deepEqual(oldPartitions, [0, 1]);

    const newId = await recreateTopic(cfg, 2, oldId);
    // Kafka's own producer, against the new topic: offsets from 0 again, every one below what the chains took.
    await produceWithJava(cfg, values(1000, 200, 1), 'none');
    const newSource = `${topic}@${newId}`;
    await waitUntil(
      'the 200 new messages stored',
      async () => (await countStored(knex, newSource)) === 200,
      90_000,
    );
    const newRecords = await readTopic(cfg, 200);
    assert.ok(
      newRecords.some((r) => r.offset <= Math.max(...oldRecords.map((o) => o.offset))),
      'the new offsets overlap the old ones',
    );

    // The old incarnation's rows are untouched under the topic's name; the new ones are exactly the new records.
    await assertStoredExactly(knex, topic, expectedOutcome(oldRecords));
    await assertStoredExactly(knex, newSource, expectedOutcome(newRecords));
    assert.deepEqual(
      await knex('stream_topic_incarnation')
        .where({ topic })
        .orderBy('first_seen_at')
        .select('topic_id', 'source_topic'),
      [
        { topic_id: oldId, source_topic: topic },
        { topic_id: newId, source_topic: newSource },
      ],
    );

    // The bridge's stored-offset gauge follows the new incarnation.
    const newLast = new Map<number, number>();
    for (const r of newRecords) newLast.set(r.partition, Math.max(newLast.get(r.partition) ?? -1, r.offset));
    assert.deepEqual(await lastStoredOffsets(knex, topic, [0, 1]), newLast);

    // Each old chain's ledger row is closed with the reason, also where no new message arrived (the bridge
    // tells every partition's workflow); the new chains' rows hold the new counts.
    const closed = () =>
      knex('pipeline_run').where('source', 'like', `kafka://${topic}/%`).andWhere({ status: 'superseded' });
    await waitUntil(
      'the old chains closed',
      async () => (await closed()).length === oldPartitions.length,
      30_000,
    );
    const runs = await knex('pipeline_run')
      .where('source', 'like', `kafka://${topic}/%`)
      .select<{ run_id: string; source: string; status: string; note: string | null; read_count: string }[]>(
        'run_id',
        'source',
        'status',
        'note',
        'read_count',
      );
    const superseded = runs.filter((r) => r.status === 'superseded');
    assert.deepEqual(
      superseded.map((r) => r.source).sort(),
      oldPartitions.map((p) => `kafka://${topic}/${p}`).sort(),
      `one closed chain per partition that had old messages: ${JSON.stringify(runs)}`,
    );
    for (const r of superseded) {
      assert.match(r.note ?? '', new RegExp(`topic id ${newId} \\(was ${oldId}\\)`));
    }
    assert.equal(
      superseded.reduce((s, r) => s + Number(r.read_count), 0),
      300,
    );
    const current = runs.filter((r) => r.status === 'running');
    assert.ok(current.every((r) => r.run_id.includes(`/${newId}/`)));
    assert.equal(
      current.reduce((s, r) => s + Number(r.read_count), 0),
      200,
    );

    // The operator is told, naming the topic and both ids.
    const warning = lines.find((l) => l.level === 'warn' && /deleted and created again/.test(l.line));
    assert.ok(warning, `no warning among ${JSON.stringify(lines.map((l) => l.line))}`);
    assert.match(warning.line, new RegExp(`${topic}.*${oldId} -> ${newId}`));

    // Each workflow reports the new incarnation; its run with the take-over replays deterministically.
    for (const p of oldPartitions) {
      const handle = client.workflow.getHandle(streamWorkflowId(topic, p));
      const state = await handle.query(stateQuery);
      assert.equal(state.topicId, newId);
      const loadedNew = newRecords.some((r) => r.partition === p);
      assert.equal(state.sourceTopic, loadedNew ? newSource : undefined);
      assert.equal(state.received, newRecords.filter((r) => r.partition === p).length);
      assert.equal(state.stopped, undefined);
      await replay(await handle.fetchHistory(), streamWorkflowId(topic, p));
    }
  });
});

describe('stream: offsets going backwards under the same topic id', function () {
  this.timeout(300_000);
  let env: StreamEnv | undefined;
  let worker: TestWorker | undefined;
  let bridge: RunningProcess | undefined;
  const bridgeEnv = {
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    STREAM_FLUSH_MAX_AGE_MS: '200',
  };

  before(async () => {
    env = await setUpStream('stream-backwards', 1);
    worker = await startTestWorker(env.cfg);
  });
  after(async () => {
    bridge?.child.kill('SIGKILL');
    await worker?.stop();
    await tearDownStream(env);
  });

  it('stops the partition with an error in stream status and the logs, until an operator resumes it', async () => {
    const { cfg, knex, client } = env!;
    const { topic } = cfg.kafka;
    // The chain is started by a bridge of the previous release, which sent no topic id: 60 messages taken.
    await produceWithJava(cfg, values(0, 60, 3), 'none');
    const first = await readTopic(cfg, 60);
    await client.workflow.signalWithStart(STREAM_WORKFLOW_TYPE, {
      workflowId: streamWorkflowId(topic, 0),
      taskQueue: cfg.temporal.taskQueue,
      args: [{ topic, partition: 0, settings: { flush: { maxAgeMs: 200 } } }],
      signal: messagesSignal,
      signalArgs: [
        {
          messages: first.map((r) => ({
            offset: r.offset,
            value: r.value!.toString('base64'),
            timestamp: 0,
          })),
        },
      ],
    });
    await waitUntil('60 stored', async () => (await countStored(knex, topic)) === 60, 30_000);

    // While no bridge runs, the topic is recreated and refilled with fewer records than the chain took. The
    // chain has no id to compare with: all it can see is a log that ends below its last offset.
    await recreateTopic(cfg, 1, await readTopicId(cfg.kafka, topic));
    await produceWithJava(cfg, values(100, 20, 4), 'none');

    bridge = startEntryPoint('bridge/main.ts', cfg, [], bridgeEnv);
    await waitUntil(
      'the partition to stop',
      async () => (await collectStreamStatus(cfg))[0]?.error != null,
      60_000,
      500,
    );
    const status = startEntryPoint('client.ts', cfg, ['stream', 'status']);
    assert.equal(await status.exited, 0, status.output());
    assert.match(
      status.output(),
      /partition 0: STOPPED .*offsets went backwards: the log of \S+ ends at 20, at or below this chain's last offset 59/,
    );
    assert.match(status.output(), /kiosk stream resume 0/);

    // More records arrive: the bridge pauses the partition with an error, and nothing is stored meanwhile.
    await produceWithJava(cfg, values(200, 50, 2), 'none');
    await waitForOutput(bridge, /"level":"error".*partition 0 stopped: offsets went backwards/, 60_000);
    assert.equal(await countStored(knex, topic), 60);
    const stopped = await client.workflow.getHandle(streamWorkflowId(topic, 0)).query(stateQuery);
    assert.ok((stopped.onHold ?? 0) > 0, 'the records delivered before the pause wait in the workflow');

    // The operator resumes: the chain goes on after offset 59, so of the new topic's records 60..69 are stored.
    const resume = startEntryPoint('client.ts', cfg, ['stream', 'resume', '0']);
    assert.equal(await resume.exited, 0, resume.output());
    assert.match(resume.output(), /partition 0 resumed/);
    await waitUntil('offsets 60..69 stored', async () => (await countStored(knex, topic)) === 70, 60_000);
    const stored = await storedByOffset(knex, topic, 0);
    assert.deepEqual(
      [...stored.keys()].sort((a, b) => a - b),
      Array.from({ length: 70 }, (_, i) => i),
    );
    // Offsets 60..69 hold the new topic's records at those offsets (values of 2 from the third produce).
    assert.equal(stored.get(65)?.value, 2);
    assert.equal(stored.get(10)?.value, 3, 'offsets up to 59 keep what the chain stored before');
    const state = await client.workflow.getHandle(streamWorkflowId(topic, 0)).query(stateQuery);
    assert.equal(state.stopped, undefined);
    assert.equal(state.lastOffset, 69);
  });
});

describe('stream: a recreated topic while the partition is stopped (signals as the bridge sends them)', function () {
  this.timeout(120_000);
  let env: StreamEnv | undefined;
  let worker: TestWorker | undefined;

  before(async () => {
    env = await setUpStream('stream-stopped-recreate', 1);
    worker = await startTestWorker(env.cfg);
  });
  after(async () => {
    await worker?.stop();
    await tearDownStream(env);
  });

  it('ends the stop with the old chain: held messages taken, old row closed, the new chain stores its own', async () => {
    const { cfg, knex, client } = env!;
    const { topic } = cfg.kafka;
    const workflowId = streamWorkflowId(topic, 0);
    const messages = (from: number, count: number, val: number) =>
      values(from, count, val).map((v, i) => ({
        offset: from + i,
        value: v.toString('base64'),
        timestamp: 0,
      }));
    const send = (batch: object) =>
      client.workflow.signalWithStart(STREAM_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: cfg.temporal.taskQueue,
        args: [{ topic, partition: 0, settings: { flush: { maxAgeMs: 100 } } }],
        signal: messagesSignal,
        signalArgs: [batch as never],
      });
    const handle = client.workflow.getHandle(workflowId);

    await send({ messages: messages(0, 10, 3), topicId: 'id-a', logEnd: 10 });
    await waitUntil('10 stored', async () => (await countStored(knex, topic)) === 10, 30_000);
    // A log end below offset 9 that Kafka confirms (the suite's topic is empty): the partition stops, and
    // what arrives meanwhile is held, not dropped.
    await send({ messages: messages(0, 3, 3), topicId: 'id-a', logEnd: 3 });
    await send({ messages: messages(10, 2, 2), topicId: 'id-a', logEnd: 3 });
    await waitUntil('the stop', async () => (await handle.query(stateQuery)).stopped !== undefined, 30_000);
    const stopped = await handle.query(stateQuery);
    assert.equal(stopped.onHold, 5);
    assert.equal(await countStored(knex, topic), 10);

    // The topic turns out recreated (a new id, as the bridge announces it, then its records from 0).
    await send({ messages: [], topicId: 'id-b' });
    await send({ messages: messages(0, 4, 1), topicId: 'id-b', logEnd: 4 });
    await waitUntil(
      '4 stored for the new id',
      async () => (await countStored(knex, `${topic}@id-b`)) === 4,
      30_000,
    );
    const stored = await storedByOffset(knex, topic, 0);
    assert.deepEqual(
      [...stored.keys()].sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, i) => i),
    );
    assert.equal(stored.get(11)?.value, 2, 'offsets beyond the stop were taken with the old chain');
    const after = await handle.query(stateQuery);
    assert.equal(after.stopped, undefined);
    assert.equal(after.onHold, 0);
    assert.equal(after.topicId, 'id-b');
    assert.equal(after.received, 4);
    const rows = await knex('pipeline_run')
      .where({ workflow_id: workflowId })
      .orderBy('started_at')
      .select<{ status: string; read_count: string }[]>('status', 'read_count');
    assert.deepEqual(
      rows.map((r) => [r.status, Number(r.read_count)]),
      [
        ['superseded', 12],
        ['running', 4],
      ],
    );
    await replay(await handle.fetchHistory(), workflowId);
  });
});

describe('stream: a topic recreated twice while the old chains close slowly, under traffic', function () {
  this.timeout(300_000);
  let env: StreamEnv | undefined;
  let publisher: Publisher | undefined;
  let bridge: RunningBridge | undefined;
  let stopWorker: (() => Promise<void>) | undefined;
  // The chains' closes wait here until the test opens it; the bridge goes on delivering meanwhile.
  const closes: string[] = [];
  let open: () => void = () => undefined;
  const opened = new Promise<void>((r) => (open = r));

  before(async () => {
    env = await setUpStream('stream-takeover-slow', 2);
    const deps = createActivityDeps(env.cfg);
    const real = createActivities(deps);
    const { worker, close } = await createWorker(env.cfg, env.cfg.temporal.taskQueue, {
      workflowBundle: await workflowBundle(),
      activities: {
        ...real,
        closeStreamRun: async (input: Parameters<typeof real.closeStreamRun>[0]) => {
          closes.push(input.ledgerRunId);
          await opened;
          return real.closeStreamRun(input);
        },
      },
    });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
      await close();
      await closeActivityDeps(deps);
    };
    publisher = await connectPublisher(env.cfg.kafka, env.cfg.kafka.topic);
    // Probes of the workflows' lag only every minute: the bridge does not pause a partition whose workflow is
    // taking over (it would once a probe saw it), so the later incarnations' messages reach it during the close.
    bridge = await startBridge(
      env.cfg,
      bridgeSettings({ KAFKA_METADATA_MAX_AGE_MS: '2000', STREAM_PROBE_MS: '60000' }),
    );
  });
  after(async () => {
    open();
    await publisher?.close();
    await bridge?.stop();
    await stopWorker?.();
    await tearDownStream(env);
  });

  it('stores every message of each incarnation once, each old chain closed after all it took', async () => {
    const { cfg, knex, client } = env!;
    const { topic } = cfg.kafka;
    const state = (p: number) => client.workflow.getHandle(streamWorkflowId(topic, p)).query(stateQuery);
    /** The bridge has sent (and committed) every record the current topic holds. */
    const sentAll = async (): Promise<boolean> => {
      const ends = await withKafkaAdmin(cfg, (admin) => admin.fetchTopicOffsets(topic));
      const sent = new Map(bridge!.progress().map((p) => [p.partition, p.lastOffset]));
      return ends.every((e) => sent.get(e.partition) === Number(e.high) - 1);
    };

    const firstId = await readTopicId(cfg.kafka, topic);
    await publisher!.publish(values(0, 400, 3));
    await waitUntil('the first 400 stored', async () => (await countStored(knex, topic)) === 400, 60_000);
    const first = { id: firstId, source: topic, records: await readTopic(cfg, 400) };

    // Recreated: the bridge tells both workflows the new id; their chains' closes wait. Each later incarnation
    // is smaller on every partition than the one before (kafkajs sends keyless records round robin), so the
    // bridge starts each at its first offset.
    const middleId = await recreateTopic(cfg, 2, firstId);
    await publisher!.publish(values(0, 80, 1));
    await waitUntil('both old chains closing', () => Promise.resolve(closes.length >= 2), 60_000);
    await publisher!.publish(values(80, 80, 1));
    await waitUntil('the bridge sent all of the second topic', sentAll, 60_000);
    const middle = { id: middleId, source: `${topic}@${middleId}`, records: await readTopic(cfg, 160) };
    const held = ((await state(0)).heldForNewTopic ?? 0) + ((await state(1)).heldForNewTopic ?? 0);
    assert.equal(held, 160, 'the second topic waits in the workflows while the first chains close');

    // Recreated again before the first closes end: the third topic's messages reach the workflows too.
    const lastId = await recreateTopic(cfg, 2, middleId);
    await publisher!.publish(values(0, 100, 2));
    await waitUntil('the bridge sent all of the third topic', sentAll, 60_000);
    const stillHeld = ((await state(0)).heldForNewTopic ?? 0) + ((await state(1)).heldForNewTopic ?? 0);
    assert.equal(stillHeld, 160, 'the first chains are still closing');
    open();

    const last = { id: lastId, source: `${topic}@${lastId}`, records: [] as TopicRecord[] };
    await waitUntil(
      'the second topic stored',
      async () => (await countStored(knex, middle.source)) === 160,
      90_000,
    );
    await waitUntil(
      'the third topic stored',
      async () => (await countStored(knex, last.source)) === 100,
      90_000,
    );
    // Traffic goes on into the last chain.
    await publisher!.publish(values(100, 60, 2));
    await waitUntil(
      'the later messages stored',
      async () => (await countStored(knex, last.source)) === 160,
      90_000,
    );
    last.records = await readTopic(cfg, 160);

    for (const { source, records } of [first, middle, last]) {
      await assertStoredExactly(knex, source, expectedOutcome(records));
    }
    // Ledger rows: each old chain closed (superseded) with everything it read, the last incarnation's running.
    const runs = await knex('pipeline_run')
      .where('source', 'like', `kafka://${topic}/%`)
      .select<{ run_id: string; status: string; read_count: string }[]>('run_id', 'status', 'read_count');
    const read = (status: string, incarnation?: { id: string }) =>
      runs
        .filter((r) => r.status === status && (!incarnation || r.run_id.includes(`/${incarnation.id}/`)))
        .reduce((n, r) => n + Number(r.read_count), 0);
    assert.deepEqual(
      [read('superseded'), read('superseded', middle), read('running', last), runs.length],
      [400 + 160, 160, 160, 6],
      JSON.stringify(runs),
    );
    for (const p of [0, 1]) {
      const handle = client.workflow.getHandle(streamWorkflowId(topic, p));
      const s = await handle.query(stateQuery);
      assert.deepEqual([s.topicId, s.sourceTopic], [last.id, last.source]);
      await replay(await handle.fetchHistory(), streamWorkflowId(topic, p));
    }
  });
});
