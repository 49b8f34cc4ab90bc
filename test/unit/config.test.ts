import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULTS, loadConfig, redactUrl } from '../../infra/config';
import { loadDotEnv } from '../../infra/dotenv';

describe('configuration from the environment', () => {
  it('defaults to the local stack', () => {
    const cfg = loadConfig({});
    assert.equal(cfg.databaseUrl, DEFAULTS.DATABASE_URL);
    assert.equal(cfg.temporal.address, '127.0.0.1:7233');
    assert.deepEqual(cfg.kafka.brokers, ['127.0.0.1:9092']);
    assert.equal(cfg.kafka.topic, 'lmnh');
    assert.equal(cfg.s3.endpoint, 'http://127.0.0.1:7070');
    assert.equal(cfg.s3.forcePathStyle, true);
    assert.equal(cfg.kafka.sasl, undefined);
    assert.equal(cfg.temporal.tls, false);
  });

  it('takes production settings: AWS credentials from the default chain, SASL, Temporal API key with TLS', () => {
    const cfg = loadConfig({
      DATABASE_URL: 'postgresql://app:secret@db.internal:5432/kiosk',
      S3_ENDPOINT: '',
      S3_BUCKET: 'lmnh-prod',
      KAFKA_BROKERS: 'b-1.msk:9096, b-2.msk:9096',
      KAFKA_SSL: 'true',
      KAFKA_SASL_USERNAME: 'kiosk',
      KAFKA_SASL_PASSWORD: 'pw',
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_API_KEY: 'key',
    });
    assert.equal(cfg.s3.endpoint, undefined);
    assert.equal(cfg.s3.credentials, undefined);
    assert.equal(cfg.s3.forcePathStyle, false);
    assert.deepEqual(cfg.kafka.brokers, ['b-1.msk:9096', 'b-2.msk:9096']);
    assert.deepEqual(cfg.kafka.sasl, { username: 'kiosk', password: 'pw' });
    assert.equal(cfg.kafka.ssl, true);
    assert.equal(cfg.temporal.tls, true);
  });

  it('lists every problem at once in a readable error', () => {
    assert.throws(
      () =>
        loadConfig({
          DATABASE_URL: 'mysql://x',
          TEMPORAL_ADDRESS: 'no-port',
          KAFKA_BROKERS: ',',
          KAFKA_SASL_USERNAME: 'only-user',
          S3_BUCKET: 'Bad_Bucket',
          KAFKA_SSL: 'maybe',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 6);
        assert.match(err.message, /DATABASE_URL must be a postgres:\/\/ URL/);
        assert.match(err.message, /TEMPORAL_ADDRESS must be host:port, got 'no-port'/);
        assert.match(err.message, /KAFKA_SSL must be true or false, got 'maybe'/);
        return true;
      },
    );
  });

  it('never shows a password in what it prints', () => {
    assert.equal(redactUrl('postgres://kiosk:s3cr3t@host:5432/db'), 'postgres://kiosk:***@host:5432/db');
    assert.equal(redactUrl('postgres://host/db'), 'postgres://host/db');
  });
});

describe('a local .env file', () => {
  it('fills in what the environment does not set, and never overrides it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-env-'));
    const file = path.join(dir, '.env');
    fs.writeFileSync(file, 'KIOSK_TEST_FROM_FILE=file\nKIOSK_TEST_SET_BOTH=file\n');
    process.env.KIOSK_TEST_SET_BOTH = 'environment';
    try {
      assert.equal(loadDotEnv(file), true);
      assert.equal(process.env.KIOSK_TEST_FROM_FILE, 'file');
      assert.equal(process.env.KIOSK_TEST_SET_BOTH, 'environment');
      assert.equal(loadDotEnv(path.join(dir, 'absent.env')), false);
    } finally {
      delete process.env.KIOSK_TEST_FROM_FILE;
      delete process.env.KIOSK_TEST_SET_BOTH;
      fs.rmSync(dir, { recursive: true });
    }
  });
});
