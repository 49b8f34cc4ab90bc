// The bridge's memory follows what it decodes, not what it fetches: a backlog written by Kafka's own Java
// producer under zstd and lz4 over 16 partitions is drained by the bridge and the worker (real processes),
// every press stored once, while the bridge runs under a small heap cap and its resident memory is sampled.
// The whole backlog is a fraction of one fetch as stored, so a bridge that sized its fetches by stored bytes
// would decode all of it at once and pass the cap (bench/README.md, "Memory under a compressed backlog").
import assert from 'node:assert/strict';
import { RssSampler } from '../../../bench/common';
import { KioskTraffic, REAL_NOISE } from '../../../simulator/kiosk-traffic';
import { sigkill, startEntryPoint, waitForOutput, type RunningProcess } from '../../support/child-process';
import { produceWithJava } from '../../support/java-producer';
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

const PARTITIONS = 16;
const PER_CODEC = 150_000;
const CODECS = ['zstd', 'lz4'] as const;
const TOTAL = PER_CODEC * CODECS.length;
// What one fetch may decode: a tenth of the backlog, against all of it at the configured fetch sizes.
const DECODED_BUDGET = 2 * 1024 * 1024;
// The bridge as it was (fetches sized by stored bytes) runs out of this heap on this backlog; bounded, it peaks
// near 200 MiB of RSS.
const HEAP_CAP_MB = 128;
const RSS_LIMIT_MIB = 300;

describe('stream: bridge memory under a compressed backlog from the Java producer', function () {
  this.timeout(600_000);
  let env: StreamEnv;
  let bridge: RunningProcess | undefined;
  let worker: RunningProcess | undefined;

  before(async () => {
    env = await setUpStream('stream-memory', PARTITIONS);
  });
  after(async () => {
    for (const p of [bridge, worker]) if (p && p.child.exitCode === null) await sigkill(p);
    await tearDownStream(env);
  });

  it(`drains ${TOTAL.toLocaleString('en-GB')} zstd and lz4 presses over ${PARTITIONS} partitions within its heap`, async () => {
    const traffic = new KioskTraffic(25, REAL_NOISE);
    const start = Date.parse('2026-06-02T09:00:00Z');
    for (const [round, codec] of CODECS.entries()) {
      const values = Array.from(
        { length: PER_CODEC },
        (_, i) => traffic.next(start + round * PER_CODEC + i).value,
      );
      await produceWithJava(env.cfg, values, codec, {}, 300_000);
    }

    worker = startEntryPoint('worker.ts', env.cfg, [], { WORKFLOW_BUNDLE_PATH: await workflowBundleFile() });
    await waitForOutput(worker, /worker: polling/, 120_000);
    bridge = startEntryPoint('bridge/main.ts', env.cfg, [], {
      NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB}`,
      STREAM_FETCH_MAX_DECODED_BYTES: String(DECODED_BUDGET),
    });
    const rss = new RssSampler(bridge.child.pid!);
    await waitForOutput(bridge, /bridge: consuming/, 60_000);
    const running = bridge;
    await waitUntil(
      `${TOTAL} presses stored`,
      async () => {
        if (running.child.exitCode !== null || running.child.signalCode !== null) {
          throw new Error(`the bridge exited:\n${running.output().slice(-3000)}`);
        }
        return (await countStored(env.knex, env.cfg.kafka.topic)) >= TOTAL;
      },
      420_000,
    );
    const memory = rss.stop();

    const expected = expectedOutcome(await readTopic(env.cfg, TOTAL, 120_000));
    assert.equal(expected.valid.size + expected.invalid.size, TOTAL);
    await assertStoredExactly(env.knex, env.cfg.kafka.topic, expected);
    await assertLedger(env.knex, env.cfg.kafka.topic, expected);
    assert.ok(
      memory.peakRssMiB < RSS_LIMIT_MIB,
      `bridge peak RSS ${memory.peakRssMiB} MiB, over ${RSS_LIMIT_MIB} MiB`,
    );
    // The bridge measured the codecs' expansion and sized its fetches down by it (logged every 10 s).
    await waitForOutput(running, /fetch sizing: .*decoded\/stored (?:[2-9]|\d\d)\.\d\)/, 30_000);
  });
});
