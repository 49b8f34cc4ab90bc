// The worker reaches its bucket with exactly what terraform/iam.tf grants its task role, prefix set or not.
// versitygw enforces a bucket policy's principals, actions and resources for a non-admin account, but not its
// conditions (it accepts and ignores s3:prefix), so the worker runs as such an account and every S3 call it
// made is then checked against the policy Terraform renders, conditions included.
import {
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createHealthActivities } from '../../../activities/health';
import { createKnex } from '../../../infra/db';
import { createS3Client } from '../../../infra/s3';
import type { Config } from '../../../infra/config';
import { createBucketWith, deleteBucket, runBatch } from '../../support/batch';
import { actualBatchRows, expectedFromFiles } from '../../support/expected-batch';
import { allows, s3Request, workerTaskPolicy, type S3Request } from '../../support/iam-policy';
import {
  createDatabase,
  dropDatabase,
  isolatedConfig,
  SHARED_DATA,
  uniqueSuffix,
} from '../../support/isolated-env';
import { cachedBinary } from '../../support/stack-cache';
import { startTestWorker, type TestWorker } from '../../support/test-worker';

const run = promisify(execFile);
const VERSITYGW = cachedBinary('versitygw');
const HISTORY = [
  'lmnh_hist_data_0.csv',
  'lmnh_hist_data_1.csv',
  'lmnh_hist_data_2.csv',
  'lmnh_hist_data_3.csv',
];

/** `versitygw admin <command...>` as the stack's root account. */
async function versitygwAdmin(cfg: Config, command: string[]): Promise<void> {
  const root = cfg.s3.credentials!;
  await run(VERSITYGW, [
    'admin',
    '--access',
    root.accessKeyId,
    '--secret',
    root.secretAccessKey,
    '--endpoint-url',
    cfg.s3.endpoint!,
    ...command,
  ]);
}

/** A versitygw account with the plain `user` role: it reaches only what a bucket policy grants it. */
async function createS3User(cfg: Config): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const user = { accessKeyId: `worker-${uniqueSuffix()}`, secretAccessKey: randomBytes(18).toString('hex') };
  await versitygwAdmin(cfg, [
    'create-user',
    '--access',
    user.accessKeyId,
    '--secret',
    user.secretAccessKey,
    '--role',
    'user',
  ]);
  return user;
}

async function deleteS3User(cfg: Config, accessKeyId: string): Promise<void> {
  await versitygwAdmin(cfg, ['delete-user', '--access', accessKeyId]);
}

/** Records every S3 command the client sends, as IAM would authorize it. */
function recordCalls(s3: S3Client): S3Request[] {
  const calls: S3Request[] = [];
  s3.middlewareStack.add(
    (next, context) => (args) => {
      calls.push(s3Request(context.commandName ?? '?', args.input as Record<string, string>));
      return next(args);
    },
    { step: 'initialize', name: 'recordCallsForIamTest' },
  );
  return calls;
}

for (const prefix of ['history/', '']) {
  describe(`S3 least privilege: the worker with iam.tf's grants, s3_prefix ${prefix ? `'${prefix}'` : 'unset'}`, function () {
    this.timeout(300_000);
    const cfg = isolatedConfig('least-privilege');
    let userCfg: Config;
    let policy: Awaited<ReturnType<typeof workerTaskPolicy>>;
    let knex: Knex;
    let tw: TestWorker;
    let calls: S3Request[];

    before(async () => {
      await createDatabase(cfg.databaseUrl);
      knex = createKnex(cfg.databaseUrl, 2);
      await createBucketWith(cfg, SHARED_DATA, undefined, prefix);
      const user = await createS3User(cfg);
      userCfg = { ...cfg, s3: { ...cfg.s3, prefix, credentials: user } };
      policy = await workerTaskPolicy(cfg.s3.bucket, prefix, cfg.s3.region);
      // The statements S3 evaluates (KMS ones are for AWS's key service), granted to the worker's account.
      const s3Statements = policy.Statement.filter((s) => s.Action.every((a) => a.startsWith('s3:')));
      assert.equal(s3Statements.length, 2);
      const root = createS3Client(cfg.s3);
      try {
        await root.send(
          new PutBucketPolicyCommand({
            Bucket: cfg.s3.bucket,
            Policy: JSON.stringify({
              Version: policy.Version,
              Statement: s3Statements.map((s) => ({ ...s, Principal: { AWS: [user.accessKeyId] } })),
            }),
          }),
        );
        await root.send(
          new PutObjectCommand({ Bucket: cfg.s3.bucket, Key: 'outside/secret.txt', Body: 'x' }),
        );
      } finally {
        root.destroy();
      }
      tw = await startTestWorker(userCfg);
      calls = recordCalls(tw.deps.s3);
    });
    after(async () => {
      await tw?.stop();
      await knex?.destroy();
      await dropDatabase(cfg.databaseUrl);
      await deleteBucket(cfg);
      if (userCfg) await deleteS3User(cfg, userCfg.s3.credentials!.accessKeyId);
    });

    it('loads the real files exactly as a non-admin account under the bucket policy', async () => {
      const summary = await runBatch(tw.env.client, userCfg, { source: `s3://${cfg.s3.bucket}/${prefix}` });
      assert.deepEqual([summary.read, summary.loaded, summary.rejected], [2137, 2079, 58]);
      const files = HISTORY.map((name) => ({
        uri: `s3://${cfg.s3.bucket}/${prefix}${name}`,
        text: fs.readFileSync(path.join(SHARED_DATA, name), 'utf8'),
      }));
      const expected = expectedFromFiles(files, new Set([0, 1, 2, 3, 4, 5]));
      const actual = await actualBatchRows(knex);
      assert.deepEqual(actual.ratings, expected.ratings);
      assert.deepEqual(actual.requests, expected.requests);
      assert.deepEqual(actual.rejects, expected.rejects);
    });

    it('passes the health check with the same account', async () => {
      const report = await createHealthActivities(tw.deps).checkDependencies();
      assert.equal(report.bucket, cfg.s3.bucket);
    });

    it('made only calls the rendered policy allows, s3:prefix condition included', () => {
      const kinds = new Set(calls.map((c) => c.call));
      assert.ok(kinds.has('ListObjectsV2Command') && kinds.has('GetObjectCommand'), [...kinds].join(', '));
      const denied = calls.filter((c) => !allows(policy, c));
      assert.deepEqual(denied, []);
    });

    it('is really held to the policy: the account cannot read outside it, nor write', async () => {
      const s3 = createS3Client(userCfg.s3);
      try {
        const outside = s3.send(new GetObjectCommand({ Bucket: cfg.s3.bucket, Key: 'outside/secret.txt' }));
        if (prefix !== '') await assert.rejects(outside, { name: 'AccessDenied' });
        else await (await outside).Body?.transformToString();
        await assert.rejects(
          s3.send(new PutObjectCommand({ Bucket: cfg.s3.bucket, Key: `${prefix}new.csv`, Body: 'x' })),
          { name: 'AccessDenied' },
        );
      } finally {
        s3.destroy();
      }
      // HeadBucket carries no prefix: with s3_prefix set, the condition denies it (why the worker lists instead).
      const head = s3Request('HeadBucketCommand', { Bucket: cfg.s3.bucket });
      assert.equal(allows(policy, head), prefix === '');
    });
  });
}
