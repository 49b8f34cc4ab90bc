// Scale out: two bridges and two workers as real processes share a 4-partition topic under traffic; one bridge
// and one worker are SIGKILLed mid-stream and started again, so the group rebalances twice and the workflows
// move between workers. Afterwards every message is stored exactly once and counted once.
import assert from 'node:assert/strict';
import { connectPublisher, type Publisher } from '../../../kafka/publisher';
import { simulateTraffic } from '../../../simulator/kiosk-publishing';
import { REAL_NOISE } from '../../../simulator/kiosk-traffic';
import { sigkill, startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import {
  assertLedger,
  assertStoredExactly,
  CRASH_BRIDGE_ENV,
  countStored,
  expectedOutcome,
  readTopic,
  setUpStream,
  tearDownStream,
  sleep,
  waitUntil,
  workflowBundleFile,
  type StreamEnv,
} from '../../support/stream';

const PARTITIONS = 4;
const RATE = 500;
const SECONDS = 12;
const TOTAL = RATE * SECONDS;

describe('stream: two bridges and two workers, one of each killed and restarted', function () {
  this.timeout(300_000);
  let env: StreamEnv;
  let publisher: Publisher | undefined;
  let bundle: string;
  const processes: RunningProcess[] = [];

  const start = (script: 'bridge/main.ts' | 'worker.ts', ready: RegExp) => {
    const p = startEntryPoint(
      script,
      env.cfg,
      [],
      script === 'worker.ts' ? { WORKFLOW_BUNDLE_PATH: bundle } : CRASH_BRIDGE_ENV,
    );
    processes.push(p);
    return waitForOutput(p, ready).then(() => p);
  };

  before(async () => {
    env = await setUpStream('stream-scale-out', PARTITIONS);
    bundle = await workflowBundleFile();
    publisher = await connectPublisher(env.cfg.kafka, env.cfg.kafka.topic);
  });
  after(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) await sigkill(p);
    await publisher?.close();
    await tearDownStream(env);
  });

  it('rebalances the partitions and stores every message once', async () => {
    const [workerA] = await Promise.all([
      start('worker.ts', /worker: polling/),
      start('worker.ts', /worker: polling/),
    ]);
    const [bridgeA, bridgeB] = await Promise.all([
      start('bridge/main.ts', /bridge: consuming/),
      start('bridge/main.ts', /bridge: consuming/),
    ]);
    const producing = simulateTraffic(publisher!, {
      rate: RATE,
      durationS: SECONDS,
      noise: REAL_NOISE,
      seed: 31,
    });

    await sleep(3000);
    await Promise.all([sigkill(bridgeA), sigkill(workerA)]);
    await sleep(2000);
    await Promise.all([start('bridge/main.ts', /bridge: consuming/), start('worker.ts', /worker: polling/)]);
    await producing;

    const { topic } = env.cfg.kafka;
    await waitUntil(
      'every message stored',
      async () => (await countStored(env.knex, topic)) >= TOTAL,
      150_000,
      500,
    );
    const records = await readTopic(env.cfg, TOTAL);
    assert.equal(records.length, TOTAL);
    const expected = expectedOutcome(records);
    await assertStoredExactly(env.knex, topic, expected);
    await assertLedger(env.knex, topic, expected);
    assert.match(
      bridgeA.output(),
      /partitions \[\d/,
      'the killed bridge owned partitions when it was killed',
    );
    // The surviving bridge took part in both rebalances: it logged more than one assignment.
    const joins = bridgeB.output().match(/joined group/g) ?? [];
    assert.ok(joins.length >= 2, `the surviving bridge rebalanced (${joins.length} joins)`);
  });
});
