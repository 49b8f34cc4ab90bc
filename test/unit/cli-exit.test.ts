// The CLI's pure pieces: which exit code an error gets, how a database is named, how an S3 target is read.
import assert from 'node:assert/strict';
import { describeDatabase } from '../../cli/db';
import { classifyError, EXIT, NotYetError, UsageError } from '../../cli/exit';
import { parseS3Target } from '../../cli/output';
import { ConfigError } from '../../infra/config';
import { DateRangeError } from '../../report/range';
import { versionText } from '../../client';

describe('operator CLI: exit codes, names, targets', () => {
  it('gives usage and configuration errors 2, "not yet" 3, anything else 1', () => {
    assert.deepEqual(classifyError(new UsageError('pass --yes')), {
      code: EXIT.usage,
      line: 'pass --yes',
      help: 'command',
    });
    assert.deepEqual(classifyError(new DateRangeError('--from x is after --to y')).code, 2);
    assert.deepEqual(classifyError(new ConfigError(['A must be set', 'B must be a URL'])), {
      code: 2,
      line: 'invalid configuration: A must be set; B must be a URL',
      help: 'program',
    });
    assert.deepEqual(classifyError(new NotYetError('2 open pinned runs')), {
      code: 3,
      line: '2 open pinned runs',
    });
    assert.deepEqual(classifyError(new Error('Temporal is not reachable')), {
      code: 1,
      line: 'Temporal is not reachable',
    });
    assert.equal(classifyError('a string').code, 1);
  });

  it('names a database by name, host and port, never by its credentials', () => {
    const named = describeDatabase(
      'postgres://kiosk_admin:p%40ss:w0rd@db.example.eu-west-2.rds.amazonaws.com/lmnh?sslmode=verify-full&password=x',
    );
    assert.equal(named, "database 'lmnh' on db.example.eu-west-2.rds.amazonaws.com:5432");
    assert.equal(
      describeDatabase('postgres://u:secret@127.0.0.1:55432/kiosk_test'),
      "database 'kiosk_test' on 127.0.0.1:55432",
    );
    assert.equal(describeDatabase('not a url with secret'), 'the database of DATABASE_URL');
  });

  it('reads s3://bucket/key and refuses a target that names no object', () => {
    assert.deepEqual(parseS3Target('s3://lmnh-exports/2026/rejects.csv'), {
      bucket: 'lmnh-exports',
      key: '2026/rejects.csv',
    });
    for (const bad of ['s3://', 's3://bucket', 's3://bucket/', 's3://bucket/folder/', 's3:///key'])
      assert.throws(() => parseS3Target(bad), UsageError, bad);
  });

  it('--version names the release and the build id, or says the process is unversioned', () => {
    assert.match(
      versionText({ TEMPORAL_WORKER_BUILD_ID: 'abc123' }),
      /^kiosk-pipeline \d+\.\d+\.\d+\nbuild id abc123 \(Worker Deployment kiosk-pipeline\)$/,
    );
    assert.match(versionText({}), /build id: none/);
  });
});
