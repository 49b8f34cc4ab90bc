// The fault matrix, stream side: presses flow at 1,000 msg/s through a real bridge and worker while one
// service of the stack is SIGKILLed and restarted with the operators' own commands. Afterwards every message
// is stored exactly once with the verdict the rules give it, the ledger balances, and neither the bridge nor
// the worker exited on its own.
import { countMismatches } from '../../support/report-from-rows';
import assert from 'node:assert/strict';
import { connectPublisher } from '../../../kafka/publisher';
import { simulateTraffic } from '../../../simulator/kiosk-publishing';
import { REAL_NOISE } from '../../../simulator/kiosk-traffic';
import { sigkill, startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { outage, restartStack, type StackService } from '../../support/stack-control';
import {
  assertLedger,
  assertStoredExactly,
  countStored,
  expectedOutcome,
  readTopic,
  setUpStream,
  tearDownStream,
  waitUntil,
  workflowBundleFile,
  type StreamEnv,
} from '../../support/stream';

const PARTITIONS = 4;
const RATE = 1_000;
const SECONDS = 12;
const TOTAL = RATE * SECONDS;

// Short session timeouts so a consumer that lost its broker rejoins within seconds.
const BRIDGE_ENV = { KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_HEARTBEAT_INTERVAL_MS: '500' };

const CASES: { name: string; service: StackService; downMs: number }[] = [
  { name: 'PostgreSQL killed during the flushes', service: 'postgres', downMs: 2_000 },
  { name: 'the Kafka broker killed while the bridge consumes', service: 'kafka', downMs: 2_000 },
  { name: 'the Temporal server killed under load', service: 'temporal', downMs: 2_000 },
];

describe('faults: a service of the stack killed under stream load', function () {
  this.timeout(300_000);
  let bundle: string;

  before(async () => {
    bundle = await workflowBundleFile();
  });
  after(async () => {
    await restartStack(); // whatever a failed case left down
  });

  for (const c of CASES) {
    it(`stores every message once after ${c.name}`, async () => {
      const env: StreamEnv = await setUpStream(`fault-stream-${c.service}`, PARTITIONS);
      const publisher = await connectPublisher(env.cfg.kafka, env.cfg.kafka.topic);
      let worker: RunningProcess | undefined;
      let bridge: RunningProcess | undefined;
      try {
        worker = startEntryPoint('worker.ts', env.cfg, [], { WORKFLOW_BUNDLE_PATH: bundle });
        await waitForOutput(worker, /worker: polling/);
        bridge = startEntryPoint('bridge/main.ts', env.cfg, [], BRIDGE_ENV);
        await waitForOutput(bridge, /bridge: consuming/);

        const { topic } = env.cfg.kafka;
        const firstRows = () =>
          waitUntil(
            'the first stored rows',
            async () => (await countStored(env.knex, topic)) > 500,
            60_000,
            50,
          );
        const half = { rate: RATE, durationS: SECONDS / 2, noise: REAL_NOISE };
        if (c.service === 'kafka') {
          // Producers cannot write while the broker is down: half before the outage, half after it.
          await simulateTraffic(publisher, { ...half, seed: 3 });
          await firstRows();
          await outage(c.service, c.downMs);
          await simulateTraffic(publisher, { ...half, seed: 4 });
        } else {
          const producing = simulateTraffic(publisher, { ...half, durationS: SECONDS, seed: 3 });
          await firstRows();
          await outage(c.service, c.downMs);
          await producing;
        }

        await waitUntil(
          'every message stored after the outage',
          async () => (await countStored(env.knex, topic).catch(() => 0)) >= TOTAL,
          180_000,
          500,
        );
        assert.equal(worker.child.exitCode, null, `the worker exited:\n${worker.output()}`);
        assert.equal(bridge.child.exitCode, null, `the bridge exited:\n${bridge.output()}`);
        const records = await readTopic(env.cfg, TOTAL);
        assert.equal(records.length, TOTAL);
        const expected = expectedOutcome(records);
        await assertStoredExactly(env.knex, topic, expected);
        await assertLedger(env.knex, topic, expected);
        // The report's counts move in the writers' transactions: an outage leaves them equal to the rows.
        assert.deepEqual(await countMismatches(env.knex), [], 'interaction_count differs from the rows');
      } finally {
        for (const p of [bridge, worker]) if (p && p.child.exitCode === null) await sigkill(p);
        await publisher.close().catch(() => undefined);
        await tearDownStream(env);
      }
    });
  }
});
