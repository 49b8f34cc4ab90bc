// Crashes: the bridge and the worker run as real processes and are SIGKILLed at random moments while thousands
// of messages flow, then restarted. Afterwards every message is stored exactly once and counted once. Also the
// orderly stop: SIGTERM makes the bridge commit only what Temporal accepted and exit 0.
import assert from 'node:assert/strict';
import { connectPublisher, type Publisher } from '../../../kafka/publisher';
import { readPartitionOffsets } from '../../../kafka/offsets';
import { simulateTraffic } from '../../../simulator/kiosk-publishing';
import { REAL_NOISE } from '../../../simulator/kiosk-traffic';
import { seededRandom } from '../../../simulator/seeded-random';
import { sigkill, startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import {
  assertLedger,
  assertStoredExactly,
  assertWorkflowsBalanced,
  CRASH_BRIDGE_ENV,
  countStored,
  expectedOutcome,
  queryState,
  readTopic,
  setUpStream,
  tearDownStream,
  sleep,
  waitUntil,
  workflowBundleFile,
  type StreamEnv,
} from '../../support/stream';

const PARTITIONS = 3;
const RATE = 400;
const SECONDS = 10;
const TOTAL = RATE * SECONDS;

describe('stream: SIGKILL of the bridge and the worker at random moments', function () {
  this.timeout(240_000);
  const seed = Number(process.env.STREAM_CHAOS_SEED ?? Date.now() % 1_000_000);
  let env: StreamEnv;
  let publisher: Publisher | undefined;
  let bundle: string;
  let bridge: RunningProcess | undefined;
  let worker: RunningProcess | undefined;
  const kills = { bridge: 0, worker: 0 };

  const startBridgeProcess = () => {
    bridge = startEntryPoint('bridge/main.ts', env.cfg, [], CRASH_BRIDGE_ENV);
    return bridge;
  };
  const startWorkerProcess = () => {
    worker = startEntryPoint('worker.ts', env.cfg, [], { WORKFLOW_BUNDLE_PATH: bundle });
    return worker;
  };

  before(async () => {
    env = await setUpStream('stream-crash', PARTITIONS);
    bundle = await workflowBundleFile();
    publisher = await connectPublisher(env.cfg.kafka, env.cfg.kafka.topic);
  });
  after(async () => {
    for (const p of [bridge, worker]) if (p && p.child.exitCode === null) await sigkill(p);
    await publisher?.close();
    await tearDownStream(env);
  });

  it(`loses and duplicates nothing (seed ${seed}; rerun with STREAM_CHAOS_SEED)`, async () => {
    const random = seededRandom(seed);
    await waitForOutput(startWorkerProcess(), /worker: polling/);
    await waitForOutput(startBridgeProcess(), /bridge: consuming/);

    const producing = simulateTraffic(publisher!, {
      rate: RATE,
      durationS: SECONDS,
      noise: REAL_NOISE,
      seed,
    });
    let produced = false;
    void producing.then(() => (produced = true));

    // Both kinds of victim at least once, then random ones, until production ends.
    const victims: ('bridge' | 'worker' | 'both')[] = ['bridge', 'worker', 'both'];
    for (let round = 0; !produced || round < 3; round++) {
      await sleep(800 + random() * 2000);
      const victim = victims[round] ?? (['bridge', 'worker', 'both'] as const)[Math.floor(random() * 3)]!;
      if (victim !== 'worker') {
        await sigkill(bridge!);
        kills.bridge++;
      }
      if (victim !== 'bridge') {
        await sigkill(worker!);
        kills.worker++;
      }
      await sleep(200 + random() * 1000);
      if (victim !== 'worker') startBridgeProcess();
      if (victim !== 'bridge') startWorkerProcess();
    }
    await producing;

    const { topic } = env.cfg.kafka;
    await waitUntil(
      'every message stored after the crashes',
      async () => (await countStored(env.knex, topic)) >= TOTAL,
      150_000,
      500,
    );
    const records = await readTopic(env.cfg, TOTAL);
    assert.equal(records.length, TOTAL);
    const expected = expectedOutcome(records);
    await assertStoredExactly(env.knex, topic, expected);
    await assertLedger(env.knex, topic, expected);
    await waitUntil(
      'the workflows to account for every message',
      async () => {
        try {
          await assertWorkflowsBalanced(env, records);
          return true;
        } catch {
          return false;
        }
      },
      30_000,
    );
    const states = await assertWorkflowsBalanced(env, records);
    const redelivered = states.reduce((sum, s) => sum + s.duplicatesDropped, 0);
    const alreadyStored = states.reduce((sum, s) => sum + s.alreadyStored, 0);
    console.log(
      `      ${kills.bridge} bridge kills, ${kills.worker} worker kills; the workflows dropped ${redelivered} ` +
        `redelivered messages, retried loads found ${alreadyStored} already stored; ${expected.invalid.size} rejects`,
    );
    assert.ok(kills.bridge >= 2 && kills.worker >= 2);
  });

  it('stops on SIGTERM having committed only what Temporal accepted, and resumes from there', async () => {
    const { topic } = env.cfg.kafka;
    const more = 2000;
    await simulateTraffic(publisher!, {
      rate: 4000,
      durationS: more / 4000,
      noise: REAL_NOISE,
      seed: seed + 1,
    });
    await waitUntil(
      'part of the new messages',
      async () => (await countStored(env.knex, topic)) > TOTAL,
      30_000,
      100,
    );
    bridge!.child.kill('SIGTERM');
    assert.equal(await bridge!.exited, 0, bridge!.output());
    assert.match(bridge!.output(), /bridge: stopped/);

    const offsets = await readPartitionOffsets(env.cfg.kafka, topic, env.cfg.kafka.groupId);
    for (const o of offsets) {
      const state = await queryState(env, o.partition);
      // Committed means accepted: the group's position never runs ahead of what the workflow took.
      assert.ok(
        (o.committed ?? 0) <= state.lastOffset + 1,
        `partition ${o.partition}: committed past accepted`,
      );
    }

    await waitForOutput(startBridgeProcess(), /bridge: consuming/);
    await waitUntil(
      'the rest after the restart',
      async () => (await countStored(env.knex, topic)) >= TOTAL + more,
      60_000,
    );
    const records = await readTopic(env.cfg, TOTAL + more);
    const expected = expectedOutcome(records);
    await assertStoredExactly(env.knex, topic, expected);
    await assertLedger(env.knex, topic, expected);

    worker!.child.kill('SIGTERM');
    bridge!.child.kill('SIGTERM');
    assert.equal(await bridge!.exited, 0, bridge!.output());
    assert.equal(await worker!.exited, 0, worker!.output());
  });
});
