// The operator's commands as a one-off container task runs them: the client built as the Dockerfile builds it
// (dist/ beside package.json and node_modules, as in /app), run as a process with every setting in the
// environment; exit codes, stdout, stderr, S3 objects and database rows checked after each.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { spawn, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { batchWorkflow } from '../../../batch/workflow';
import type { Config } from '../../../infra/config';
import { createKnex } from '../../../infra/db';
import { createS3Client } from '../../../infra/s3';
import { workerDeploymentOptions } from '../../../infra/worker-deployment';
import { createWorker } from '../../../worker';
import { createBucketWith, deleteBucket } from '../../support/batch';
import { configToEnv } from '../../support/child-process';
import { seedRealExhibitions } from '../../support/exhibitions';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  REPO_ROOT,
  SHARED_DATA,
  uniqueSuffix,
} from '../../support/isolated-env';
import { setCurrentVersion } from '../../support/deployments';
import { smallObjects } from '../../support/small-objects';
import { startTestWorker, workflowBundle, type TestWorker } from '../../support/test-worker';
import { waitFor } from '../../support/wait';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

const VERSION = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** The image's layout: package.json, node_modules and the compiled dist/ side by side, and bin/ for `kiosk`. */
function buildImageLayout(): string {
  const app = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-app-'));
  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(app, 'dist')],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  fs.copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(app, 'package.json'));
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(app, 'node_modules'));
  fs.cpSync(path.join(REPO_ROOT, 'bin'), path.join(app, 'bin'), { recursive: true });
  return app;
}

describe('operator commands as one-off tasks (the built client)', function () {
  this.timeout(600_000);
  const cfg = isolatedConfig('opcli');
  let app: string;
  let knex: Knex;
  let tw: TestWorker;
  const dirs: string[] = [];

  /** Runs a command line of the built client; `stdin: 'pipe'` leaves its input open and silent, as a task's. */
  function run(
    args: string[],
    opts: { cfg?: Config; env?: Record<string, string>; entry?: string; stdin?: 'pipe' } = {},
  ): Promise<Ran> {
    const child = spawn(process.execPath, [opts.entry ?? path.join(app, 'dist', 'client.js'), ...args], {
      cwd: app,
      env: { ...process.env, ...configToEnv(opts.cfg ?? cfg), ...opts.env },
      stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }

  async function s3Object(bucket: string, key: string): Promise<string> {
    const s3 = createS3Client(cfg.s3);
    try {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await r.Body!.transformToString();
    } finally {
      s3.destroy();
    }
  }

  before(async () => {
    app = buildImageLayout();
    await createDatabase(cfg.databaseUrl);
    await createBucketWith(cfg, SHARED_DATA);
    knex = createKnex(cfg.databaseUrl, 2);
    tw = await startTestWorker(cfg);
  });
  after(async () => {
    await tw?.stop();
    await knex?.destroy();
    await dropDatabase(cfg.databaseUrl);
    await deleteBucket(cfg).catch(() => undefined);
    if (app) fs.rmSync(app, { recursive: true, force: true });
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  describe('name, version and help', () => {
    it('--version prints the release and the Worker Versioning build id, from dist and through bin/kiosk', async () => {
      const env = {
        NODE_ENV: 'production',
        TEMPORAL_WORKER_BUILD_ID: 'rel-42',
        TEMPORAL_DEPLOYMENT_NAME: 'kp',
      };
      const expected = `kiosk-pipeline ${VERSION}\nbuild id rel-42 (Worker Deployment kp)\n`;
      for (const entry of [path.join(app, 'dist', 'client.js'), path.join(app, 'bin', 'kiosk')]) {
        const r = await run(['--version'], { env, entry });
        assert.deepEqual([r.code, r.stdout, r.stderr], [0, expected, ''], entry);
      }
      // As the image runs it: a link in a folder on PATH, executed by its #! line.
      const onPath = path.join(app, 'usr-local-bin');
      fs.mkdirSync(onPath);
      fs.symlinkSync(path.join(app, 'bin', 'kiosk'), path.join(onPath, 'kiosk'));
      const linked = spawnSync('kiosk', ['--version'], {
        encoding: 'utf8',
        env: { ...process.env, ...env, PATH: `${onPath}:${path.dirname(process.execPath)}:/usr/bin:/bin` },
      });
      assert.deepEqual([linked.status, linked.stdout], [0, expected], linked.stderr);
      const unversioned = await run(['--version'], { env: { TEMPORAL_WORKER_BUILD_ID: '' } });
      assert.match(unversioned.stdout, /build id: none \(TEMPORAL_WORKER_BUILD_ID is not set/);
    });

    it('npx kiosk runs the same program from the checkout', () => {
      const r = spawnSync('npx', ['--no-install', 'kiosk', 'deploy', 'drained', '--help'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: kiosk deploy drained \[options\] <build-id>/);
      assert.match(r.stdout, /Exit codes:[\s\S]*3 {2}not yet/);
    });

    it('usage errors exit 2 with one line of reason and the --help to read, not the whole help', async () => {
      const cases: [string[], RegExp][] = [
        [
          ['batch', 'run', '--bogus'],
          /^error: unknown option '--bogus'\n\(run 'kiosk batch run --help' for usage\)\n$/,
        ],
        [
          ['rejects', 'show', 'abc'],
          /^error: .*'abc' is invalid .*positive integer\n\(run 'kiosk rejects show --help'/,
        ],
        [
          ['batch', 'reprocess'],
          /^error: reprocess needs --key.*\n\(run 'kiosk batch reprocess --help' for usage\)\n$/,
        ],
        [
          ['report', '--from', '2023-03-07', '--to', '2023-03-06'],
          /^error: --from 2023-03-07 is after --to 2023-03-06\n/,
        ],
        [
          ['rejects', 'export', '--out', '-'],
          /^error: cannot tell the format from '-'.*\n\(run 'kiosk rejects export --help'/,
        ],
        [['report', '--out', 's3://bucket-only'], /^error: --out s3:\/\/bucket-only: name an object/],
        [
          ['no-such-command'],
          /^error: unknown command 'no-such-command'\n\(run 'kiosk --help' for usage\)\n$/,
        ],
      ];
      for (const [args, stderr] of cases) {
        const r = await run(args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, stderr);
        assert.doesNotMatch(r.stderr, /Usage:|Options:/);
        assert.equal(r.stdout, '');
      }
      const config = await run(['db', 'status'], { env: { DATABASE_URL: 'mysql://db.example/kiosk' } });
      assert.equal(config.code, 2);
      assert.equal(
        config.stderr,
        "error: invalid configuration: DATABASE_URL must be a postgres:// URL\n(run 'kiosk --help' for where settings come from)\n",
      );
      const help = await run(['--help']);
      assert.equal(help.code, 0);
      assert.match(
        help.stdout,
        /Exit codes:\n {2}0 {2}done.*\n {2}1 {2}failed.*\n {2}2 {2}usage or configuration.*\n {2}3 {2}not yet/,
      );
    });
  });

  describe('the database', () => {
    const target = isolatedConfig('opcli-reset');
    const url = new URL(target.databaseUrl);
    const named = `database '${url.pathname.slice(1)}' on ${url.hostname}:${url.port}`;
    const production = { NODE_ENV: 'production' };
    let db: Knex;
    before(async () => {
      await createDatabase(target.databaseUrl);
      db = createKnex(target.databaseUrl, 1);
    });
    after(async () => {
      await db?.destroy();
      await dropDatabase(target.databaseUrl);
    });
    const exhibitions = async () => Number((await db('exhibition').count<{ n: string }[]>({ n: '*' }))[0]!.n);

    it('db status lists applied and pending migrations, and creates nothing in a database never migrated', async () => {
      const migrations = fs.readdirSync(path.join(REPO_ROOT, 'migrations')).filter((f) => f.endsWith('.ts'));
      const bare = isolatedConfig('opcli-bare');
      await createDatabase(bare.databaseUrl, false);
      try {
        const r = await run(['db', 'status', '--json'], { cfg: bare, env: production });
        assert.equal(r.code, 0, r.stderr);
        const s = JSON.parse(r.stdout) as { applied: unknown[]; pending: string[] };
        assert.deepEqual([s.applied, s.pending.length], [[], migrations.length]);
        const probe = createKnex(bare.databaseUrl, 1);
        try {
          const t = await probe.raw<{ rows: { t: string | null }[] }>(
            `select to_regclass('knex_migrations')::text as t`,
          );
          assert.equal(t.rows[0]!.t, null, 'db status must not create knex_migrations');
        } finally {
          await probe.destroy();
        }
      } finally {
        await dropDatabase(bare.databaseUrl);
      }
      const text = await run(['db', 'status'], { cfg: target, env: production });
      assert.equal(text.code, 0, text.stderr);
      assert.equal(
        text.stdout.split('\n').filter((l) => l.startsWith('applied  ')).length,
        migrations.length,
      );
      assert.match(text.stdout, new RegExp(`^${named}\n`));
      assert.match(text.stdout, /up to date: \d+ applied\n$/);
    });

    it('db reset and db rollback --all name the database and refuse without --yes, never prompting', async () => {
      await seedRealExhibitions(db);
      const before = await exhibitions();
      assert.ok(before > 0);
      for (const args of [
        ['db', 'reset'],
        ['db', 'rollback', '--all'],
      ]) {
        // Input left open and silent, as a task's: a prompt would wait forever.
        const r = await run(args, { cfg: target, env: production, stdin: 'pipe' });
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(
          r.stderr,
          new RegExp(`^error: kiosk ${args.slice(1).join(' ')}|deletes all the data of ${named}`),
        );
        assert.match(
          r.stderr,
          new RegExp(`deletes all the data of ${named} .*refused without --yes, nothing was changed\n`),
        );
        assert.doesNotMatch(r.stderr, /postgres(ql)?:\/\/|:kiosk@/);
        assert.equal(await exhibitions(), before, 'rows intact');
      }
    });

    it('db reset --yes empties the database and migrates it again; db rollback --all --yes undoes every migration', async () => {
      const reset = await run(['db', 'reset', '--yes'], { cfg: target, env: production });
      assert.equal(reset.code, 0, reset.stderr);
      assert.match(reset.stderr, new RegExp(`db reset on ${named}`));
      assert.match(reset.stdout, /^reset: applied /);
      assert.equal(await exhibitions(), 0);
      const rollback = await run(['db', 'rollback', '--all', '--yes'], { cfg: target, env: production });
      assert.equal(rollback.code, 0, rollback.stderr);
      const status = await run(['db', 'status', '--json'], { cfg: target, env: production });
      const s = JSON.parse(status.stdout) as { applied: unknown[]; pending: string[] };
      assert.deepEqual(s.applied, []);
      assert.ok(s.pending.length > 0);
      const t = await db.raw<{ rows: { t: string | null }[] }>(`select to_regclass('exhibition')::text as t`);
      assert.equal(t.rows[0]!.t, null);
    });
  });

  describe('outputs that outlive the task', () => {
    before(async () => {
      const r = await run(['batch', 'run', '--wait', '--json']);
      assert.equal(r.code, 0, r.stderr);
    });

    it('report --out - writes to stdout, --out s3://bucket/key to object storage', async () => {
      const stdout = await run(['report', '--format', 'json', '--out', '-']);
      assert.equal(stdout.code, 0, stdout.stderr);
      const key = `reports/${uniqueSuffix()}.json`;
      const s3 = await run(['report', '--format', 'json', '--out', `s3://${cfg.s3.bucket}/${key}`]);
      assert.equal(s3.code, 0, s3.stderr);
      assert.equal(s3.stdout, '');
      assert.match(
        s3.stderr,
        new RegExp(`report written to s3://${cfg.s3.bucket}/${key} \\(json, \\d+ bytes\\)`),
      );
      const withoutTime = (text: string) => ({ ...(JSON.parse(text) as object), generatedAt: undefined });
      const stored = withoutTime(await s3Object(cfg.s3.bucket, key));
      assert.deepEqual(stored, withoutTime(stdout.stdout));
      assert.match(JSON.stringify(stored), /Measureless to Man/);
    });

    it('rejects export writes the same bytes to stdout and to S3, with progress on stderr', async () => {
      const rejects = Number((await knex('rejected_interaction').count<{ n: string }[]>({ n: '*' }))[0]!.n);
      assert.ok(rejects > 0);
      const stdout = await run(['rejects', 'export', '--out', '-', '--format', 'jsonl']);
      assert.equal(stdout.code, 0, stdout.stderr);
      assert.equal(stdout.stdout.trimEnd().split('\n').length, rejects);
      assert.match(stdout.stderr, /^rejects export: 1 written\n/);
      assert.match(stdout.stderr, new RegExp(`${rejects} rejects written to standard output \\(jsonl\\)\n$`));
      for (const name of ['rejects.jsonl', 'rejects.csv']) {
        const key = `exports/${uniqueSuffix()}/${name}`;
        const r = await run(['rejects', 'export', '--out', `s3://${cfg.s3.bucket}/${key}`]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, '');
        const stored = await s3Object(cfg.s3.bucket, key);
        if (name.endsWith('.jsonl')) assert.equal(stored, stdout.stdout);
        else {
          const csv = await run(['rejects', 'export', '--out', '-', '--format', 'csv']);
          assert.equal(stored, csv.stdout);
          assert.equal(stored.trimEnd().split('\n').length, rejects + 1);
        }
      }
      const missing = await run([
        'rejects',
        'export',
        '--out',
        `s3://kiosk-no-such-bucket-${uniqueSuffix()}/r.jsonl`,
      ]);
      assert.equal(missing.code, 1, missing.stderr);
      assert.match(missing.stderr, /^error: cannot write s3:\/\/kiosk-no-such-bucket-.*\/r\.jsonl: /m);
    });
  });

  describe('rejects replay', () => {
    const gone = () => `s3://${cfg.s3.bucket}/lmnh_hist_data_gone.csv`;
    const rejectCount = async () =>
      Number((await knex('rejected_interaction').count<{ n: string }[]>({ n: '*' }))[0]!.n);
    before(async () => {
      await seedRealExhibitions(knex);
      await knex('pipeline_run').insert({
        run_id: 'opcli-stream',
        kind: 'stream',
        workflow_id: 'stream-x',
        source: 'x',
      });
      // A stream press for a site catalogued since (valid today), and a batch reject of an object since deleted.
      await knex('rejected_interaction').insert({
        raw: Buffer.from('{"at": "2026-07-01T12:00:00.000000+01:00", "site": "1", "val": 3}'),
        reasons: ['UNKNOWN_SITE'],
        run_id: 'opcli-stream',
        source_topic: cfg.kafka.topic,
        source_partition: 0,
        source_offset: 7,
      });
      // Presses still invalid (BAD_VAL): examined page by page, never admitted.
      await knex('rejected_interaction').insert(
        Array.from({ length: 20 }, (_, i) => ({
          raw: Buffer.from('{"at": "2026-07-01T12:00:00.000000+01:00", "site": "1", "val": 9}'),
          reasons: ['BAD_VAL', 'UNKNOWN_SITE'],
          run_id: 'opcli-stream',
          source_topic: cfg.kafka.topic,
          source_partition: 0,
          source_offset: 100 + i,
        })),
      );
      await knex('rejected_interaction').insert({
        raw: Buffer.from('2023-03-06 12:00:00,1,2,'),
        reasons: ['UNKNOWN_SITE'],
        run_id: 'opcli-stream',
        source_object: gone(),
        source_line: 2,
      });
    });

    it('--dry-run says what would be admitted and writes nothing', async () => {
      const rejectsBefore = await rejectCount();
      const runsBefore = await knex('pipeline_run').count<{ n: string }[]>({ n: '*' });
      const r = await run(['rejects', 'replay', '--reason', 'UNKNOWN_SITE', '--dry-run', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), {
        dryRun: true,
        examined: 21,
        wouldAdmit: 1,
        wouldAdmitByReason: { UNKNOWN_SITE: 1 },
        batchObjects: [{ uri: gone(), rejects: 1 }],
      });
      const text = await run(['rejects', 'replay', '--reason', 'UNKNOWN_SITE', '--dry-run']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(
        text.stdout,
        /^dry run \(nothing written\): examined 21 stream rejects; 1 would be admitted/,
      );
      assert.match(text.stdout, /1 objects holding 1 batch rejects would be reprocessed/);
      assert.equal(await rejectCount(), rejectsBefore);
      assert.deepEqual(await knex('pipeline_run').count<{ n: string }[]>({ n: '*' }), runsBefore);
    });

    it('exits 1 when an object could not be reprocessed, in --json and in text, with progress on stderr', async () => {
      const json = await run(['rejects', 'replay', '--reason', 'UNKNOWN_SITE', '--page-size', '1', '--json']);
      assert.equal(json.code, 1, json.stderr);
      const summary = JSON.parse(json.stdout) as Record<string, unknown>;
      assert.deepEqual([summary.admitted, summary.batchObjectsFailed, summary.ok], [1, [gone()], false]);
      assert.match(json.stderr, /^started replay-/);
      assert.match(json.stderr, /\nexamined 21 stream rejects in \d+ pages, admitted 1\n/);
      assert.match(json.stderr, /\nerror: could not reprocess 1 objects \(their rejects stay\): s3:\/\//);
      const id = await knex('rejected_interaction')
        .where({ source_object: gone() })
        .first<{ rejected_interaction_id: number }>('rejected_interaction_id');
      const show = await run(['rejects', 'show', String(id.rejected_interaction_id), '--json']);
      assert.equal(show.code, 0, show.stderr);
      const shown = JSON.parse(show.stdout) as Record<string, unknown>;
      assert.deepEqual(
        [shown.source, shown.sourceObject, shown.reasons, shown.raw, shown.runKind],
        ['batch', gone(), ['UNKNOWN_SITE'], '2023-03-06 12:00:00,1,2,', 'stream'],
      );
      const text = await run(['rejects', 'replay', '--reason', 'UNKNOWN_SITE']);
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /admitted 0 into the interaction tables/);
      assert.match(text.stderr, /error: could not reprocess 1 objects/);
      assert.equal(
        await knex('rejected_interaction')
          .where({ source_object: gone() })
          .count<{ n: string }[]>({ n: '*' })
          .then((c) => Number(c[0]!.n)),
        1,
      );
    });
  });

  describe('batch runs and deploy drained', () => {
    const deploymentName = `kiosk-test-${uniqueSuffix()}`;
    const versioned: Config = {
      ...cfg,
      temporal: { ...cfg.temporal, taskQueue: `${cfg.temporal.taskQueue}-v` },
    };
    const deploy = (...args: string[]) => ['deploy', '--deployment', deploymentName, ...args];
    let stop: (() => Promise<void>) | undefined;
    const workflowId = `batch-opcli-${uniqueSuffix()}`;

    before(async () => {
      const { worker, close } = await createWorker(versioned, versioned.temporal.taskQueue, {
        workflowBundle: await workflowBundle(),
        workerDeploymentOptions: workerDeploymentOptions({ deploymentName, buildId: 'B1' }),
      });
      const running = worker.run();
      stop = async () => {
        worker.shutdown();
        await running;
        await close();
      };
      await setCurrentVersion(
        { client: tw.env.client, namespace: cfg.temporal.namespace, deploymentName },
        'B1',
      );
    });
    after(async () => {
      await tw.env.client.workflow
        .getHandle(workflowId)
        .terminate()
        .catch(() => undefined);
      await stop?.();
    });

    it('batch status, deploy drained (3 while pinned), batch cancel (cancelled in the ledger), drained (0)', async () => {
      const { dir } = smallObjects(300);
      dirs.push(dir);
      await tw.env.client.workflow.start(batchWorkflow, {
        taskQueue: versioned.temporal.taskQueue,
        workflowId,
        args: [{ source: pathToFileURL(dir).href + '/', pageSize: 10, maxParallel: 1 }],
      });

      const notYet = await waitFor('deploy drained to answer not yet', async () => {
        const r = await run(deploy('drained', 'B1', '--json'), { cfg: versioned });
        return r.code === 3 ? r : undefined;
      });
      assert.deepEqual(JSON.parse(notYet.stdout), {
        version: `${deploymentName}:B1`,
        drained: false,
        openPinnedRuns: 1,
      });
      assert.match(notYet.stderr, /^error: .*:B1 still has 1 open pinned runs\n$/);
      const deployment = await run(deploy('status', '--json'), { cfg: versioned });
      assert.equal(deployment.code, 0, deployment.stderr);
      const d = JSON.parse(deployment.stdout) as { currentBuildId: string; versions: { buildId: string }[] };
      assert.deepEqual([d.currentBuildId, d.versions.map((v) => v.buildId)], ['B1', ['B1']]);

      const status = await waitFor('the run in the ledger', async () => {
        const r = await run(['batch', 'status', workflowId, '--json'], { cfg: versioned });
        assert.equal(r.code, 0, r.stderr);
        const s = JSON.parse(r.stdout) as { ledger: { status: string } | null; temporal: { status: string } };
        return s.ledger ? s : undefined;
      });
      assert.deepEqual([status.temporal.status, status.ledger!.status], ['RUNNING', 'running']);

      const cancel = await run(['batch', 'cancel', workflowId], { cfg: versioned });
      assert.equal(cancel.code, 0, cancel.stderr);
      assert.match(cancel.stdout, new RegExp(`^${workflowId}: cancelled\n`));
      const row = await knex('pipeline_run')
        .where({ workflow_id: workflowId })
        .first<{ status: string }>('status');
      assert.equal(row.status, 'cancelled');

      const list = await run(['batch', 'list', '--status', 'cancelled', '--json'], { cfg: versioned });
      assert.equal(list.code, 0, list.stderr);
      const listed = list.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { workflowId: string; status: string });
      assert.deepEqual(
        listed.filter((r) => r.workflowId === workflowId).map((r) => r.status),
        ['cancelled'],
      );

      const again = await run(['batch', 'cancel', workflowId], { cfg: versioned });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /is CANCELLED, not running: nothing to cancel/);

      await waitFor('deploy drained to answer yes', async () => {
        const r = await run(deploy('drained', 'B1'), { cfg: versioned });
        return r.code === 0 ? r : undefined;
      });
      const typo = await run(deploy('drained', 'B2'), { cfg: versioned });
      assert.equal(typo.code, 2, typo.stderr);
      assert.match(typo.stderr, new RegExp(`^error: ${deploymentName} has no version B2 \\(known: B1\\)\n`));
      const down = await run(deploy('drained', 'B1'), { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
      assert.equal(down.code, 1, down.stderr);
      assert.match(down.stderr, /Temporal is not reachable at 127\.0\.0\.1:1/);
    });
  });
});
