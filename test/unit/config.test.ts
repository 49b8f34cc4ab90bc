import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BRIDGE_VARIABLES } from '../../bridge/settings';
import { CONFIG_VARIABLES, ConfigError, DEFAULTS, loadConfig, redactUrl } from '../../infra/config';
import { loadDotEnv } from '../../infra/dotenv';
import { kafkajsSasl, mskIamToken, platformaticConnection } from '../../infra/kafka';
import { createJsonLogger } from '../../infra/log';
import { temporalConnectionOptions } from '../../infra/temporal';
import { REPO_ROOT } from '../support/isolated-env';

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
    assert.deepEqual(cfg.kafka.sasl, { mechanism: 'plain', username: 'kiosk', password: 'pw' });
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

// Certificates for the TLS settings, made with openssl (as scripts/stack.sh makes the stack's).
function makePem(dir: string): { ca: string; cert: string; key: string } {
  for (const name of ['ca', 'client']) {
    const args = `req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=${name} -keyout ${name}.key -out ${name}.pem`;
    execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'ignore' });
  }
  return {
    ca: path.join(dir, 'ca.pem'),
    cert: path.join(dir, 'client.pem'),
    key: path.join(dir, 'client.key'),
  };
}

describe('configuration: TLS and logins for MSK, RDS and Temporal', () => {
  let dir: string;
  let pem: { ca: string; cert: string; key: string };
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiosk-tls-'));
    pem = makePem(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('Kafka: SCRAM-SHA-512 over TLS with a private CA, the same settings for kafkajs and @platformatic/kafka', () => {
    const cfg = loadConfig({
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'kiosk',
      KAFKA_SASL_PASSWORD: 'pw-123456',
      KAFKA_SSL_CA: pem.ca,
    });
    const caText = fs.readFileSync(pem.ca, 'utf8');
    assert.deepEqual(cfg.kafka.sasl, {
      mechanism: 'scram-sha-512',
      username: 'kiosk',
      password: 'pw-123456',
    });
    assert.equal(cfg.kafka.ssl, true, 'a CA turns TLS on');
    assert.equal(cfg.kafka.sslCa, caText);
    assert.deepEqual(kafkajsSasl(cfg.kafka.sasl), {
      mechanism: 'scram-sha-512',
      username: 'kiosk',
      password: 'pw-123456',
    });
    assert.deepEqual(platformaticConnection(cfg.kafka), {
      tls: { ca: [caText] },
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'kiosk', password: 'pw-123456' },
    });
    // The PEM text itself works as well as a path.
    assert.equal(loadConfig({ KAFKA_SSL_CA: caText }).kafka.sslCa, caText);
    // A user alone means PLAIN, as before.
    assert.equal(
      loadConfig({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }).kafka.sasl?.mechanism,
      'plain',
    );
  });

  it('Kafka: MSK IAM takes a token signed with the credential chain, over TLS, at every login', async () => {
    const cfg = loadConfig({ KAFKA_SASL_MECHANISM: 'aws-msk-iam', AWS_REGION: 'eu-west-2' });
    assert.deepEqual(cfg.kafka.sasl, { mechanism: 'aws-msk-iam', region: 'eu-west-2' });
    assert.equal(cfg.kafka.ssl, true);
    const sasl = kafkajsSasl(cfg.kafka.sasl);
    assert.equal(sasl?.mechanism, 'oauthbearer');
    assert.equal(platformaticConnection(cfg.kafka).sasl?.mechanism, 'OAUTHBEARER');
    // The signer's token is a base64url presigned URL for kafka-cluster:Connect; the credentials stand in
    // for the ECS task role's (rotating: the provider is asked again for each token).
    let asked = 0;
    const token = mskIamToken('eu-west-2', () => {
      asked++;
      return Promise.resolve({
        accessKeyId: `AKIDTEST${asked}`,
        secretAccessKey: 'secret',
        sessionToken: 'session',
      });
    });
    const first = new URL(Buffer.from(await token(), 'base64url').toString());
    const second = new URL(Buffer.from(await token(), 'base64url').toString());
    assert.equal(first.host, 'kafka.eu-west-2.amazonaws.com');
    assert.equal(first.searchParams.get('Action'), 'kafka-cluster:Connect');
    assert.match(
      first.searchParams.get('X-Amz-Credential') ?? '',
      /^AKIDTEST1\/\d{8}\/eu-west-2\/kafka-cluster\//,
    );
    assert.match(second.searchParams.get('X-Amz-Credential') ?? '', /^AKIDTEST2\//);
    assert.equal(first.searchParams.get('X-Amz-Security-Token'), 'session');
  });

  it('Kafka: refuses unknown mechanisms, a half login, a CA that is no certificate, IAM without TLS', () => {
    const problems = [
      ...problemsOf({ KAFKA_SASL_MECHANISM: 'gssapi' }),
      ...problemsOf({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' }),
      ...problemsOf({ KAFKA_SSL_CA: path.join(dir, 'absent.pem') }),
      ...problemsOf({ KAFKA_SSL_CA: pem.key }),
      ...problemsOf({ KAFKA_SASL_MECHANISM: 'aws-msk-iam', KAFKA_SSL: 'false' }),
      ...problemsOf({
        KAFKA_SASL_MECHANISM: 'aws-msk-iam',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
      }),
    ];
    assert.equal(problems.length, 6, problems.join('\n'));
    assert.match(
      problems[0]!,
      /KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512, aws-msk-iam/,
    );
    assert.match(problems[1]!, /KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must be set together/);
    assert.match(problems[2]!, /KAFKA_SSL_CA: cannot read .*absent\.pem.*ENOENT/);
    assert.match(problems[3]!, /KAFKA_SSL_CA is not a PEM certificate/);
    assert.match(problems[4]!, /aws-msk-iam needs TLS/);
    assert.match(problems[5]!, /task role/);
  });

  it('PostgreSQL: DATABASE_SSL_CA means verify-full against that bundle; a conflicting sslmode is refused', () => {
    const cfg = loadConfig({
      DATABASE_URL: 'postgres://app:pw@db.example:5432/kiosk',
      DATABASE_SSL_CA: pem.ca,
    });
    const url = new URL(cfg.databaseUrl);
    assert.equal(url.searchParams.get('sslmode'), 'verify-full');
    assert.equal(url.searchParams.get('sslrootcert'), pem.ca);
    assert.equal(url.pathname, '/kiosk');
    const problems = [
      ...problemsOf({ DATABASE_URL: 'postgres://h/db?sslmode=no-verify', DATABASE_SSL_CA: pem.ca }),
      ...problemsOf({ DATABASE_SSL_CA: path.join(dir, 'absent.pem') }),
    ];
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /DATABASE_SSL_CA needs sslmode=verify-full/);
    assert.match(problems[1]!, /DATABASE_SSL_CA: cannot read/);
  });

  it('Temporal: mTLS, a private CA and a server name, in the Temporal CLI variables', () => {
    const cfg = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: pem.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pem.key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem.ca,
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal',
    });
    const options = temporalConnectionOptions(cfg.temporal);
    assert.deepEqual(options, {
      address: 'temporal.internal:7233',
      tls: {
        serverNameOverride: 'frontend.temporal',
        serverRootCACertificate: fs.readFileSync(pem.ca),
        clientCertPair: { crt: fs.readFileSync(pem.cert), key: fs.readFileSync(pem.key) },
      },
    });
    // Temporal Cloud with an API key: TLS with the system's roots.
    assert.deepEqual(temporalConnectionOptions(loadConfig({ TEMPORAL_API_KEY: 'k-123456789' }).temporal), {
      address: '127.0.0.1:7233',
      apiKey: 'k-123456789',
      tls: {},
    });
    // Local: no TLS at all.
    assert.deepEqual(temporalConnectionOptions(loadConfig({}).temporal), { address: '127.0.0.1:7233' });
  });

  it("Temporal: a profile of the CLI's temporal.toml, overridden by the variables", () => {
    const file = path.join(dir, 'temporal.toml');
    fs.writeFileSync(
      file,
      [
        '[profile.prod]',
        'address = "acct.tmprl.cloud:7233"',
        'namespace = "kiosk.acct"',
        '[profile.prod.tls]',
        `client_cert_path = "${pem.cert}"`,
        `client_key_path = "${pem.key}"`,
        '[profile.prod.grpc_meta]',
        'team = "museum"',
        '',
      ].join('\n'),
    );
    const cfg = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    assert.equal(cfg.temporal.address, 'acct.tmprl.cloud:7233');
    assert.equal(cfg.temporal.namespace, 'kiosk.acct');
    const options = temporalConnectionOptions(cfg.temporal);
    assert.deepEqual(options.tls, {
      clientCertPair: { crt: fs.readFileSync(pem.cert), key: fs.readFileSync(pem.key) },
    });
    assert.deepEqual(options.metadata, { team: 'museum' });
    const overridden = loadConfig({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_NAMESPACE: 'other',
    });
    assert.equal(overridden.temporal.namespace, 'other');

    const problems = [
      ...problemsOf({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'absent' }),
      ...problemsOf({ TEMPORAL_CONFIG_FILE: path.join(dir, 'none.toml') }),
      ...problemsOf({ TEMPORAL_TLS_CLIENT_CERT_PATH: pem.cert }),
      ...problemsOf({ TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'not a certificate' }),
      ...problemsOf({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_NAME: 'x' }),
      ...problemsOf({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }),
    ];
    assert.equal(problems.length, 6, problems.join('\n'));
    assert.match(problems[0]!, /Profile 'absent' not found/);
    assert.match(problems[1]!, /TEMPORAL_CONFIG_FILE: no file/);
    assert.match(problems[2]!, /must be set together \(mTLS\)/);
    assert.match(problems[3]!, /TEMPORAL_TLS_SERVER_CA_CERT_DATA is not a PEM certificate/);
    assert.match(problems[4]!, /TEMPORAL_TLS is false/);
    assert.match(problems[5]!, /TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported/);
  });
});

describe('configuration: production mode and the settings every process reads', () => {
  const roles = ['worker', 'bridge', 'client', 'dashboard'] as const;

  it('in production, each process names every required setting it lacks, and no localhost default', () => {
    const expected = {
      worker: 'DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KAFKA_BROKERS, S3_BUCKET, AWS_REGION',
      bridge: 'DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KAFKA_BROKERS',
      client: 'DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KAFKA_BROKERS, S3_BUCKET, AWS_REGION',
      dashboard: 'DATABASE_URL, KAFKA_BROKERS',
    };
    for (const role of roles) {
      assert.throws(
        () => loadConfig({ NODE_ENV: 'production' }, role),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.problems.length === 1 &&
          err.message.includes(`the ${role} needs ${expected[role]} (no local defaults in production)`),
        role,
      );
    }
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://app@db.internal/kiosk',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'kiosk',
      KAFKA_BROKERS: 'b-1.msk:9096',
      S3_BUCKET: 'lmnh-prod',
      AWS_REGION: 'eu-west-2',
    };
    const cfg = loadConfig(production, 'worker');
    // The bridge needs no bucket, but MSK IAM signs its tokens for the cluster's region.
    assert.throws(
      () => loadConfig({ ...production, AWS_REGION: '', KAFKA_SASL_MECHANISM: 'aws-msk-iam' }, 'bridge'),
      /aws-msk-iam needs AWS_REGION/,
    );
    assert.equal(cfg.production, true);
    assert.equal(cfg.s3.endpoint, undefined, 'AWS S3, not the local one');
    assert.equal(cfg.s3.credentials, undefined, "the task role's credentials, not local keys");
    assert.equal(cfg.temporal.uiUrl, '');
    assert.doesNotMatch(JSON.stringify(cfg), /127\.0\.0\.1:(7233|9092|55432|7070|8233)/);
  });

  it("checks the worker's, the dashboard's and the log level's settings at start", () => {
    const bundle = path.join(os.tmpdir(), `kiosk-bundle-${process.pid}.js`);
    fs.writeFileSync(bundle, '');
    try {
      const cfg = loadConfig({
        WORKER_MAX_ACTIVITIES: '12',
        WORKFLOW_BUNDLE_PATH: bundle,
        TEMPORAL_WORKER_BUILD_ID: 'v42',
        LOG_LEVEL: 'WARN',
        DASHBOARD_PORT: '0',
      });
      assert.deepEqual(cfg.worker, {
        maxActivities: 12,
        bundlePath: bundle,
        deployment: { deploymentName: 'kiosk-pipeline', buildId: 'v42' },
      });
      assert.equal(cfg.logLevel, 'warn');
      assert.equal(cfg.dashboardPort, 0);
    } finally {
      fs.rmSync(bundle);
    }
    assert.throws(
      () =>
        loadConfig({
          WORKER_MAX_ACTIVITIES: 'eight',
          WORKFLOW_BUNDLE_PATH: '/nowhere/bundle.js',
          TEMPORAL_WORKER_BUILD_ID: 'v 1',
          LOG_LEVEL: 'verbose',
          DASHBOARD_PORT: '99999',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 5, err.message);
        assert.match(err.message, /WORKER_MAX_ACTIVITIES must be an integer 1\.\.1000, got 'eight'/);
        assert.match(err.message, /WORKFLOW_BUNDLE_PATH: no file at '\/nowhere\/bundle\.js'/);
        assert.match(err.message, /TEMPORAL_WORKER_BUILD_ID must be letters/);
        assert.match(err.message, /LOG_LEVEL must be one of debug, info, warn, error, got 'verbose'/);
        assert.match(err.message, /DASHBOARD_PORT must be an integer 0\.\.65535/);
        return true;
      },
    );
  });

  it('LOG_LEVEL drops the lines below it', () => {
    const lines: string[] = [];
    const log = createJsonLogger('t', { level: 'warn', write: (l) => lines.push(l) });
    log.info('hidden');
    log.warn('shown');
    log.error('shown too');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { message: string }).message),
      ['shown', 'shown too'],
    );
  });

  it('.env.example lists exactly the variables the code reads, with their defaults', () => {
    const example = fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
    const documented = new Map<string, string>();
    for (const m of example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=(\S*)/gm)) documented.set(m[1]!, m[2]!);
    const known = [...CONFIG_VARIABLES, ...Object.values(BRIDGE_VARIABLES).map((v) => v.name)];
    assert.deepEqual([...documented.keys()].sort(), [...new Set(known)].sort());
    for (const [name, value] of Object.entries(DEFAULTS)) assert.equal(documented.get(name), value, name);

    // Every variable read anywhere in the processes' code (not tests, benchmarks or stack scripts) is known.
    const written = new Set(['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED']);
    const read = new Set<string>();
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (['node_modules', 'test', 'bench', 'scripts', 'dist', '.stack', '.git'].includes(e.name)) continue;
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts')) {
          const text = fs.readFileSync(p, 'utf8');
          // env.NAME, env['NAME'] and helpers called as f(env, 'NAME').
          for (const m of text.matchAll(/\benv(?:\.|\['|, ')([A-Z][A-Z0-9_]+)/g)) read.add(m[1]!);
        }
      }
    };
    walk(REPO_ROOT);
    const unknown = [...read].filter((name) => !known.includes(name) && !written.has(name));
    assert.deepEqual(unknown, [], 'read by the code but not validated and documented');
    assert.ok(read.has('DATABASE_SSL_CA') && read.has('WORKER_MAX_ACTIVITIES'), 'the scan sees config.ts');
  });

  it("Terraform's task definitions set only variables the code reads, and its README names each", () => {
    const ecs = fs.readFileSync(path.join(REPO_ROOT, 'terraform', 'ecs.tf'), 'utf8');
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'terraform', 'README.md'), 'utf8');
    const set = [...ecs.matchAll(/\{ name = "([A-Z][A-Z0-9_]+)", value(?:From)? =/g)].map((m) => m[1]!);
    assert.ok(set.includes('KAFKA_SASL_MECHANISM') && set.includes('DATABASE_SSL_CA'), set.join(' '));
    const known: readonly string[] = CONFIG_VARIABLES;
    assert.deepEqual(
      set.filter((name) => !known.includes(name)),
      [],
      'set by Terraform but never read',
    );
    assert.deepEqual(
      [...new Set(set)].filter((name) => !readme.includes(`\`${name}\``)),
      [],
      'set by Terraform but not in terraform/README.md',
    );
  });
});
