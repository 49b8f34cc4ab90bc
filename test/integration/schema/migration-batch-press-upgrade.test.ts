// A database the release before 20261130000200 loaded, upgraded: that release judged DUPLICATE as "the
// object loaded first wins" and registered only accepted presses, so with b.csv loaded before a.csv the
// presses both hold belong to b. Migration 20261207000100 registers a's DUPLICATE lines and judges their keys
// again; b's presses have no raw bytes yet, so it refuses and names b.csv to reprocess. After that reprocess
// (b.csv has since lost one of the shared presses) it runs, a new c.csv then loses to a, and every table
// equals one clean run of the current objects. Its way down and up again keep the rows.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../../infra/config';
import { createKnex } from '../../../infra/db';
import { migrateLatest } from '../../../infra/migrate';
import { createBucketWith, deleteBucket, runBatch, stateBySite } from '../../support/batch';
import { sigkill, waitForOutput } from '../../support/child-process';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  SHARED_DATA,
  uniqueSuffix,
} from '../../support/isolated-env';
import { extractRelease, startReleaseWorker, type ExtractedRelease } from '../../support/release';
import { startTestWorker } from '../../support/test-worker';

// The last release before 20261130000200 (per-object tables, "earlier-loaded object wins").
const RELEASE = 'd3a9432';
const MIGRATION = '20261207000100_batch_press_every_line';

const A = 'lmnh_hist_data_a.csv';
const B = 'lmnh_hist_data_b.csv';
const CC = 'lmnh_hist_data_c.csv';
// K and L are in a and b; a has a line twice and an unknown site; c shares K.
const K = '2023-03-06 10:00:00,1,4,';
const L = '2023-03-06 10:01:00,2,3,';
const FILES: Record<string, string> = {
  [A]: [
    K,
    L,
    '2023-03-06 10:02:00,3,2,',
    '2023-03-06 10:02:00,3,2,',
    '2023-03-06 10:03:00,1,-1,0.0',
    '2023-03-06 10:06:00,99,4,',
  ].join('\n'),
  [B]: [L, K, '2023-03-06 10:04:00,2,1,'].join('\n'),
  [CC]: [K, '2023-03-06 10:05:00,3,0,'].join('\n'),
};
// b.csv and a.csv as they are when reprocessed: K is gone.
const B_WITHOUT_K = [L, '2023-03-06 10:04:00,2,1,'].join('\n');
const A_WITHOUT_K = FILES[A]!.split('\n')
  .filter((line) => line !== K)
  .join('\n');

/** Migrations read from another release's folder, recorded under the same names as the current ones. */
function releaseMigrations(dir: string): Knex.MigrationSource<string> {
  return {
    getMigrations: () =>
      Promise.resolve(
        fs
          .readdirSync(dir)
          .filter((f) => f.endsWith('.ts'))
          .map((f) => f.slice(0, -3))
          .sort(),
      ),
    getMigrationName: (name) => name,
    getMigration: (name) =>
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      Promise.resolve(require(path.join(dir, `${name}.ts`)) as Knex.Migration),
  };
}

interface Upgrade {
  cfg: Config;
  knex: Knex;
  source: string;
  uri: (name: string) => string;
  upload: (name: string, text: string) => Promise<unknown>;
  /** The old release loads these objects, in this order, each in a run of its own. */
  loadWithOldRelease: (order: string[]) => Promise<void>;
  /** Every table equals one clean run of the bucket's objects; presses without raw bytes are named. */
  assertCleanRun: (rawless: string[]) => Promise<void>;
  remove: () => Promise<void>;
}

async function upgradeSetUp(release: ExtractedRelease, label: string): Promise<Upgrade> {
  const cfg = isolatedConfig(label);
  const clean = { ...isolatedConfig(`${label}-clean`), s3: cfg.s3 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${label}-`));
  for (const f of fs.readdirSync(SHARED_DATA).filter((n) => n.startsWith('lmnh_exhibition_'))) {
    fs.copyFileSync(path.join(SHARED_DATA, f), path.join(dir, f));
  }
  await createBucketWith(cfg, dir);
  await createDatabase(cfg.databaseUrl, false);
  await createDatabase(clean.databaseUrl);
  const knex = createKnex(cfg.databaseUrl, 2);
  await knex.migrate.latest({ migrationSource: releaseMigrations(path.join(release.dir, 'migrations')) });
  const source = `s3://${cfg.s3.bucket}/`;
  const upload = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), `at,site,val,type\n${text}\n`);
    return createBucketWith(cfg, dir, [name]);
  };
  return {
    cfg,
    knex,
    source,
    uri: (name) => `${source}${name}`,
    upload,
    loadWithOldRelease: async (order) => {
      const old = startReleaseWorker(release, cfg);
      try {
        await waitForOutput(old, /polling task queue/, 120_000);
        const env = await TestWorkflowEnvironment.createFromExistingServer({
          address: cfg.temporal.address,
          namespace: cfg.temporal.namespace,
        });
        try {
          for (const name of order) {
            await upload(name, FILES[name]!);
            await env.client.workflow.execute('batchWorkflow', {
              taskQueue: cfg.temporal.taskQueue,
              workflowId: `batch-old-${uniqueSuffix()}`,
              args: [{ source, keys: [name] }],
            });
          }
        } finally {
          await env.teardown();
        }
      } finally {
        await sigkill(old);
      }
    },
    assertCleanRun: async (rawless) => {
      const cleanWorker = await startTestWorker(clean);
      try {
        await runBatch(cleanWorker.env.client, clean, { source });
      } finally {
        await cleanWorker.stop();
      }
      const cleanKnex = createKnex(clean.databaseUrl, 2);
      try {
        const upgraded = await stateBySite(knex);
        // Presses the old release accepted keep no raw bytes (it never stored them) until their object is
        // reprocessed: the registry has them otherwise, and a load refuses to make them rejects.
        type Press = { source_object: string; source_line: number; raw: string | null };
        const name = (p: Press) => `${p.source_object.split('/').pop()}:${p.source_line}`;
        assert.deepEqual(
          (upgraded.presses as unknown as Press[]).filter((p) => p.raw === null).map(name),
          rawless,
        );
        const cleanState = await stateBySite(cleanKnex);
        const expected = {
          ...cleanState,
          presses: (cleanState.presses as unknown as Press[]).map((p) =>
            rawless.includes(name(p)) ? { ...p, raw: null } : p,
          ),
        };
        assert.deepEqual(upgraded, expected);
        // Down to before it (the migrations since too) and up again on these rows: nothing changes.
        const undone: string[] = [];
        while ((await knex('knex_migrations').pluck('name')).includes(MIGRATION)) {
          const [, names] = (await knex.migrate.down()) as [number, string[]];
          undone.unshift(...names);
          assert.deepEqual(await stateBySite(knex), expected);
        }
        assert.deepEqual(await migrateLatest(knex), undone);
        assert.deepEqual(await stateBySite(knex), expected);
      } finally {
        await cleanKnex.destroy();
      }
    },
    remove: async () => {
      await knex.destroy();
      await dropDatabase(cfg.databaseUrl);
      await dropDatabase(clean.databaseUrl);
      await deleteBucket(cfg).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const accepted = (rows: unknown[]) =>
  (rows as { source_object: string; source_line: number }[]).map(
    (r) => `${r.source_object.split('/').pop()}:${r.source_line}`,
  );

describe(`migration ${MIGRATION}: a database loaded before 20261130000200`, function () {
  this.timeout(420_000);
  let release: ExtractedRelease;
  let upgrade: Upgrade | undefined;

  before(() => {
    release = extractRelease(RELEASE);
  });
  afterEach(async () => {
    await upgrade?.remove();
    upgrade = undefined;
  });
  after(() => release?.remove());

  it('b.csv loaded before a.csv: refuses until b.csv is reprocessed, then leaves the tables of a clean run', async () => {
    const u = (upgrade = await upgradeSetUp(release, 'press-upgrade-ba'));
    const { cfg, knex, source, uri } = u;
    await u.loadWithOldRelease([B, A]);
    const heldByB = await knex.raw<{ rows: { n: number }[] }>(
      `select count(*)::int as n from rejected_interaction where source_object = ? and reasons = '{DUPLICATE}'`,
      [uri(A)],
    );
    assert.equal(heldByB.rows[0]!.n, 3, "a's K, L and its second line are DUPLICATE rejects");

    // The upgrade stops at this migration, naming b.csv, and changes nothing.
    await assert.rejects(migrateLatest(knex), (err: Error) => {
      assert.match(err.message, /batch reprocess --wait --key s3:\/\/\S+\/lmnh_hist_data_b\.csv$/);
      assert.doesNotMatch(err.message, /lmnh_hist_data_a\.csv/);
      return true;
    });
    const applied = await knex('knex_migrations').pluck('name');
    assert.ok(applied.includes('20261130000801_interaction_counts') && !applied.includes(MIGRATION));
    const registeredOfA = await knex('batch_press')
      .where({ source_object: uri(A) })
      .count<{ n: string }[]>({ n: '*' });
    assert.equal(Number(registeredOfA[0]!.n), 2, "only a's accepted presses are registered");

    // The reprocess it names (b.csv has lost K meanwhile), the upgrade again, then a new object.
    const tw = await startTestWorker(cfg);
    try {
      await u.upload(B, B_WITHOUT_K);
      await runBatch(tw.env.client, cfg, { source, keys: [B], reprocess: true });
      assert.ok((await migrateLatest(knex)).includes(MIGRATION));
      await u.upload(CC, FILES[CC]!);
      await runBatch(tw.env.client, cfg, { source, keys: [CC] });
    } finally {
      await tw.stop();
    }
    // a holds K and L; b's L and c's K are DUPLICATE rejects.
    assert.deepEqual(accepted((await stateBySite(knex)).ratings).slice(0, 3), [`${A}:2`, `${A}:3`, `${A}:4`]);
    await u.assertCleanRun([`${A}:4`, `${A}:6`]);
  });

  it("a.csv loaded before b.csv: registers b's lines, so a reprocess of a.csv without K gives K to b", async () => {
    const u = (upgrade = await upgradeSetUp(release, 'press-upgrade-ab'));
    const { cfg, knex, source, uri } = u;
    await u.loadWithOldRelease([A, B]);
    // Nothing to judge differently: the upgrade only registers b's K and L and a's second line.
    assert.deepEqual(
      (await migrateLatest(knex)).filter((m) => m === MIGRATION),
      [MIGRATION],
    );
    const registeredOfB = (await stateBySite(knex)).presses.filter(
      (p) => (p as unknown as { source_object: string }).source_object === uri(B),
    );
    assert.equal(registeredOfB.length, 3);

    const tw = await startTestWorker(cfg);
    try {
      await u.upload(A, A_WITHOUT_K);
      await runBatch(tw.env.client, cfg, { source, keys: [A], reprocess: true });
      await u.upload(CC, FILES[CC]!);
      await runBatch(tw.env.client, cfg, { source, keys: [CC] });
    } finally {
      await tw.stop();
    }
    // K went to b's line 3, the lowest left; c's K lost to it.
    assert.ok(accepted((await stateBySite(knex)).ratings).includes(`${B}:3`));
    await u.assertCleanRun([`${B}:4`]);
  });
});
