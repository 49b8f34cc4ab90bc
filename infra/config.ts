// Configuration from the environment, validated once at start so a typo fails loudly instead of mid-run.
// Defaults point at the local stack (scripts/stack.sh); in production (NODE_ENV=production) there are no
// localhost defaults: each process names every setting it needs and does not have, and stops.
import { loadClientConfigProfile, type ClientConfigProfile } from '@temporalio/envconfig';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import { loadWorkerDeployment, type WorkerDeployment } from './worker-deployment';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** How the Kafka clients log in: a user and password (PLAIN or SCRAM), or Amazon MSK's IAM (task role). */
export type KafkaSasl =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'aws-msk-iam'; region: string };
export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'aws-msk-iam'] as const;

/** Temporal's TLS beyond the system's roots: mTLS client pair, private CA, server name (PEM bytes). */
export interface TemporalTls {
  serverName: string | undefined;
  serverCa: Buffer | undefined;
  clientCert: Buffer | undefined;
  clientKey: Buffer | undefined;
}

export interface Config {
  databaseUrl: string;
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiUrl: string;
    apiKey: string | undefined;
    /** TLS on the connection; `tlsOptions` when more than the system's roots is configured. */
    tls: boolean;
    tlsOptions?: TemporalTls;
    /** gRPC headers from a profile or TEMPORAL_GRPC_META_*. */
    metadata?: Record<string, string>;
  };
  kafka: {
    brokers: string[];
    topic: string;
    clientId: string;
    groupId: string;
    ssl: boolean;
    /** PEM of the CA(s) the brokers' certificates chain to; undefined = the system's roots. */
    sslCa?: string;
    sasl: KafkaSasl | undefined;
  };
  s3: {
    endpoint: string | undefined;
    bucket: string;
    prefix: string;
    region: string;
    forcePathStyle: boolean;
    credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  };
  /** Where the worker and the bridge serve /metrics, /healthz and /readyz (host:port; port 0 = any free). */
  metrics: { workerAddress: string; bridgeAddress: string };
  logLevel: LogLevel;
  worker: {
    maxActivities: number;
    /** A prebuilt workflow bundle; undefined = bundle the sources at start. */
    bundlePath: string | undefined;
    deployment: WorkerDeployment | undefined;
  };
  dashboardPort: number;
  production: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** The process reading the configuration: in production each requires the settings it uses. */
export type ProcessRole = 'worker' | 'bridge' | 'client' | 'dashboard';

export const DEFAULTS = {
  DATABASE_URL: 'postgres://kiosk:kiosk@127.0.0.1:55432/kiosk',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TASK_QUEUE: 'kiosk-pipeline',
  TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
  KAFKA_BROKERS: '127.0.0.1:9092',
  KAFKA_TOPIC: 'lmnh',
  KAFKA_CLIENT_ID: 'kiosk-pipeline',
  KAFKA_GROUP_ID: 'kiosk-pipeline-bridge',
  S3_ENDPOINT: 'http://127.0.0.1:7070',
  S3_BUCKET: 'lmnh-kiosk',
  S3_PREFIX: '',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'kiosk-local',
  AWS_SECRET_ACCESS_KEY: 'kiosk-local-secret',
  WORKER_METRICS_ADDRESS: '127.0.0.1:9464',
  BRIDGE_METRICS_ADDRESS: '127.0.0.1:9465',
  LOG_LEVEL: 'info',
  WORKER_MAX_ACTIVITIES: '8',
  DASHBOARD_PORT: '8787',
} as const;

/**
 * Every variable the processes read (the bridge's tuning, STREAM_* and KAFKA_*_MS, is validated in
 * bridge/settings.ts). `.env.example` lists exactly these; a unit test keeps the two equal.
 */
export const CONFIG_VARIABLES = [
  ...Object.keys(DEFAULTS),
  'NODE_ENV',
  'DATABASE_SSL_CA',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_PROFILE',
  'TEMPORAL_WORKER_BUILD_ID',
  'TEMPORAL_DEPLOYMENT_NAME',
  'KAFKA_SSL',
  'KAFKA_SSL_CA',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'WORKFLOW_BUNDLE_PATH',
] as const;

// What each process needs in production; everything else it reads has a default that is no localhost.
const CORE = ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'KAFKA_BROKERS'] as const;
const REQUIRED_IN_PRODUCTION: Record<ProcessRole, readonly string[]> = {
  // The worker re-reads Kafka ranges after a crash (stream/reread.ts), so it needs the brokers too.
  worker: [...CORE, 'S3_BUCKET', 'AWS_REGION'],
  bridge: CORE,
  client: [...CORE, 'S3_BUCKET', 'AWS_REGION'],
  dashboard: ['DATABASE_URL', 'KAFKA_BROKERS'],
};

const isSet = (env: Env, name: string): boolean => (env[name] ?? '') !== '';

function pick(env: Env, name: keyof typeof DEFAULTS, production = false): string {
  const value = env[name];
  if (value !== undefined && value !== '') return value;
  // In production a localhost default is never taken: the missing setting was reported already.
  return production && /127\.0\.0\.1|localhost/.test(DEFAULTS[name]) && !/METRICS/.test(name)
    ? ''
    : DEFAULTS[name];
}

function parseBool(env: Env, name: string, problems: string[]): boolean | undefined {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '') return undefined;
  if (raw === 'false' || raw === '0' || raw === 'no') return false;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  problems.push(`${name} must be true or false, got '${env[name]}'`);
  return undefined;
}

function isHostPort(value: string): boolean {
  return /^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(value);
}

function parseInteger(env: Env, name: keyof typeof DEFAULTS, min: number, max: number, problems: string[]) {
  const raw = pick(env, name).trim();
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    problems.push(`${name} must be an integer ${min}..${max}, got '${raw}'`);
    return Number(DEFAULTS[name]);
  }
  return value;
}

/**
 * PEM text from a setting that holds either a file path or the PEM itself; checked to parse as what it
 * must be (certificates, or a private key), so a wrong file fails at start naming the setting.
 */
export function readPemSetting(
  name: string,
  value: string,
  kind: 'certificate' | 'key',
  problems: string[],
  /** 'pem': the value is the PEM text only (the Temporal CLI's *_DATA variables). */
  holds: 'path-or-pem' | 'pem' = 'path-or-pem',
): string | undefined {
  let pem = value;
  if (holds === 'path-or-pem' && !value.includes('-----BEGIN')) {
    try {
      pem = fs.readFileSync(value, 'utf8');
    } catch (err) {
      problems.push(`${name}: cannot read '${value}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      return undefined;
    }
  }
  try {
    if (kind === 'key') createPrivateKey(pem);
    else {
      const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      if (blocks.length === 0) throw new Error('no PEM certificate in it');
      for (const block of blocks) new X509Certificate(block);
    }
  } catch (err) {
    problems.push(
      `${name} is not a PEM ${kind}${pem === value ? '' : ` ('${value}')`}: ${(err as Error).message}`,
    );
    return undefined;
  }
  return pem;
}

function loadKafkaAuth(env: Env, region: string, problems: string[]) {
  const mechanismRaw = (env.KAFKA_SASL_MECHANISM ?? '').trim().toLowerCase();
  const username = env.KAFKA_SASL_USERNAME || undefined;
  const password = env.KAFKA_SASL_PASSWORD || undefined;
  let sasl: KafkaSasl | undefined;
  if (mechanismRaw !== '' && !(KAFKA_SASL_MECHANISMS as readonly string[]).includes(mechanismRaw)) {
    problems.push(
      `KAFKA_SASL_MECHANISM must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}, got '${env.KAFKA_SASL_MECHANISM}'`,
    );
  } else if (mechanismRaw === 'aws-msk-iam') {
    if (username !== undefined || password !== undefined)
      problems.push(
        'KAFKA_SASL_MECHANISM aws-msk-iam logs in with the task role: unset KAFKA_SASL_USERNAME/PASSWORD',
      );
    sasl = { mechanism: 'aws-msk-iam', region };
  } else if (username !== undefined || password !== undefined || mechanismRaw !== '') {
    if (username === undefined || password === undefined) {
      problems.push(
        `KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must be set together` +
          (mechanismRaw === '' ? '' : ` (KAFKA_SASL_MECHANISM is ${mechanismRaw})`),
      );
    } else {
      // PLAIN when unnamed: what Confluent Cloud and the earlier releases of this project use.
      const mechanism = (mechanismRaw || 'plain') as 'plain' | 'scram-sha-256' | 'scram-sha-512';
      sasl = { mechanism, username, password };
    }
  }

  const sslSetting = parseBool(env, 'KAFKA_SSL', problems);
  const caRaw = env.KAFKA_SSL_CA ?? '';
  const sslCa = caRaw === '' ? undefined : readPemSetting('KAFKA_SSL_CA', caRaw, 'certificate', problems);
  if (sslSetting === false && caRaw !== '') problems.push('KAFKA_SSL_CA is set but KAFKA_SSL is false');
  if (sslSetting === false && sasl?.mechanism === 'aws-msk-iam')
    problems.push('KAFKA_SASL_MECHANISM aws-msk-iam needs TLS: KAFKA_SSL must not be false (MSK port 9098)');
  // A CA or IAM only make sense over TLS, so either turns it on.
  const ssl = sslSetting ?? (caRaw !== '' || sasl?.mechanism === 'aws-msk-iam');
  return { ssl, sslCa, sasl };
}

/** Temporal's connection through the Temporal CLI's own profiles (temporal.toml) and variables. */
function loadTemporal(env: Env, production: boolean, problems: string[]) {
  // Empty values are unset, as everywhere else in this file (the CLI's loader would take '' as a value).
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  // TEMPORAL_TLS is read below like every other flag here (the CLI's loader takes only 'true' and '1').
  delete cleaned.TEMPORAL_TLS;
  if (parseBool(env, 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION', problems) === true)
    problems.push(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported: set TEMPORAL_TLS_SERVER_NAME instead',
    );
  let profile: ClientConfigProfile = {};
  // The CLI's loader treats a missing file as no file; a file named on purpose must exist.
  if (isSet(env, 'TEMPORAL_CONFIG_FILE') && !fs.existsSync(env.TEMPORAL_CONFIG_FILE!))
    problems.push(`TEMPORAL_CONFIG_FILE: no file at '${env.TEMPORAL_CONFIG_FILE}'`);
  try {
    profile = loadClientConfigProfile({
      overrideEnvVars: cleaned,
      // Only an explicit file in production: a file in the image's home directory is nobody's setting.
      disableFile: production && !isSet(env, 'TEMPORAL_CONFIG_FILE') && !isSet(env, 'TEMPORAL_PROFILE'),
    });
  } catch (err) {
    problems.push(`TEMPORAL_CONFIG_FILE/TEMPORAL_PROFILE: ${(err as Error).message}`);
  }
  const tlsFlag = parseBool(env, 'TEMPORAL_TLS', problems);
  const tls = profile.tls;
  let tlsOptions: TemporalTls | undefined;
  const source = (what: 'CLIENT_CERT' | 'CLIENT_KEY' | 'SERVER_CA_CERT', kind: 'certificate' | 'key') => {
    const data = {
      CLIENT_CERT: tls?.clientCert,
      CLIENT_KEY: tls?.clientKey,
      SERVER_CA_CERT: tls?.serverCACert,
    }[what];
    if (data === undefined) return undefined;
    const name = 'path' in data ? `TEMPORAL_TLS_${what}_PATH` : `TEMPORAL_TLS_${what}_DATA`;
    const raw =
      'path' in data
        ? data.path
        : typeof data.data === 'string'
          ? data.data
          : Buffer.from(data.data).toString();
    const pem = readPemSetting(name, raw, kind, problems, 'path' in data ? 'path-or-pem' : 'pem');
    return pem === undefined ? undefined : Buffer.from(pem);
  };
  if (tls !== undefined && tls.disabled !== true) {
    tlsOptions = {
      serverName: tls.serverName,
      serverCa: source('SERVER_CA_CERT', 'certificate'),
      clientCert: source('CLIENT_CERT', 'certificate'),
      clientKey: source('CLIENT_KEY', 'key'),
    };
    if ((tls.clientCert === undefined) !== (tls.clientKey === undefined))
      problems.push('TEMPORAL_TLS_CLIENT_CERT_* and TEMPORAL_TLS_CLIENT_KEY_* must be set together (mTLS)');
    if (Object.values(tlsOptions).every((v) => v === undefined)) tlsOptions = undefined;
  }
  if (tlsFlag === false && tlsOptions !== undefined)
    problems.push('TEMPORAL_TLS is false but TLS certificates or a server name are configured');
  const apiKey = profile.apiKey || undefined;
  // An API key always travels over TLS, as before; a profile's `tls.disabled` turns TLS off.
  const tlsOn =
    tls?.disabled === true ? false : tlsFlag === true || tls !== undefined || apiKey !== undefined;
  return {
    address: profile.address,
    namespace: profile.namespace,
    apiKey,
    tls: tlsOn,
    tlsOptions: tlsOn ? tlsOptions : undefined,
    metadata: profile.grpcMeta && Object.keys(profile.grpcMeta).length > 0 ? profile.grpcMeta : undefined,
  };
}

export function loadConfig(env: Env = process.env, role: ProcessRole = 'client'): Config {
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';

  const temporal = loadTemporal(env, production, problems);
  const has = (name: string) =>
    isSet(env, name) ||
    (name === 'TEMPORAL_ADDRESS' && temporal.address !== undefined) ||
    (name === 'TEMPORAL_NAMESPACE' && temporal.namespace !== undefined);
  const missing = production ? REQUIRED_IN_PRODUCTION[role].filter((name) => !has(name)) : [];
  if (missing.length > 0) {
    problems.push(
      `NODE_ENV=production and the ${role} needs ${missing.join(', ')} (no local defaults in production)`,
    );
  }

  let databaseUrl = pick(env, 'DATABASE_URL', production);
  if (databaseUrl !== '' && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// URL');
  }
  const databaseCa = env.DATABASE_SSL_CA ?? '';
  if (databaseCa !== '' && /^postgres(ql)?:\/\//.test(databaseUrl)) {
    // pg reads the CA from the URL's sslrootcert (a path) on every connection; verify-full checks the chain
    // and the host name, as RDS's documentation asks.
    if (databaseCa.includes('-----BEGIN'))
      problems.push('DATABASE_SSL_CA must be a file path (a PEM bundle)');
    else if (readPemSetting('DATABASE_SSL_CA', databaseCa, 'certificate', problems) !== undefined) {
      const url = new URL(databaseUrl);
      const mode = url.searchParams.get('sslmode');
      if (mode !== null && mode !== 'verify-full')
        problems.push(
          `DATABASE_SSL_CA needs sslmode=verify-full in DATABASE_URL (or none), got sslmode=${mode}`,
        );
      url.searchParams.set('sslmode', 'verify-full');
      url.searchParams.set('sslrootcert', databaseCa);
      databaseUrl = url.toString();
    }
  }

  const temporalAddress = temporal.address ?? pick(env, 'TEMPORAL_ADDRESS', production);
  if (temporalAddress !== '' && !isHostPort(temporalAddress))
    problems.push(`TEMPORAL_ADDRESS must be host:port, got '${temporalAddress}'`);

  const brokersRaw = pick(env, 'KAFKA_BROKERS', production);
  const brokers = brokersRaw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokersRaw !== '' && (brokers.length === 0 || !brokers.every(isHostPort))) {
    problems.push('KAFKA_BROKERS must be a comma-separated list of host:port');
  }
  const region = pick(env, 'AWS_REGION');
  const kafkaAuth = loadKafkaAuth(env, region, problems);
  // The token is signed for a region: a default one would be refused by the cluster.
  if (production && kafkaAuth.sasl?.mechanism === 'aws-msk-iam' && !isSet(env, 'AWS_REGION'))
    problems.push('KAFKA_SASL_MECHANISM aws-msk-iam needs AWS_REGION, the region of the MSK cluster');

  // On AWS (production, or an empty S3_ENDPOINT) credentials come from the default chain (task role).
  const endpoint = env.S3_ENDPOINT ?? (production ? '' : DEFAULTS.S3_ENDPOINT);
  if (endpoint !== '' && !/^https?:\/\//.test(endpoint))
    problems.push('S3_ENDPOINT must be an http(s) URL or empty');
  const bucket = pick(env, 'S3_BUCKET');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    problems.push(`S3_BUCKET '${bucket}' is not a valid bucket name`);
  const localKeys = endpoint !== '' && !production;
  const accessKeyId = env.AWS_ACCESS_KEY_ID || (localKeys ? DEFAULTS.AWS_ACCESS_KEY_ID : undefined);
  const secretAccessKey =
    env.AWS_SECRET_ACCESS_KEY || (localKeys ? DEFAULTS.AWS_SECRET_ACCESS_KEY : undefined);
  if (
    (env.AWS_ACCESS_KEY_ID || undefined) !== undefined &&
    (env.AWS_SECRET_ACCESS_KEY || undefined) === undefined
  )
    problems.push('AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY');

  const metricsAddresses = (['WORKER_METRICS_ADDRESS', 'BRIDGE_METRICS_ADDRESS'] as const).map((name) => {
    const value = pick(env, name);
    const port = Number(/:(\d{1,5})$/.exec(value)?.[1]);
    if (!isHostPort(value) || port > 65535) problems.push(`${name} must be host:port, got '${value}'`);
    return value;
  });

  const logLevel = pick(env, 'LOG_LEVEL').trim().toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${env.LOG_LEVEL}'`);

  const maxActivities = parseInteger(env, 'WORKER_MAX_ACTIVITIES', 1, 1000, problems);
  const dashboardPort = parseInteger(env, 'DASHBOARD_PORT', 0, 65535, problems);
  const bundlePath = env.WORKFLOW_BUNDLE_PATH || undefined;
  if (bundlePath !== undefined && !fs.existsSync(bundlePath))
    problems.push(`WORKFLOW_BUNDLE_PATH: no file at '${bundlePath}' (npm run build:bundle)`);
  let deployment: WorkerDeployment | undefined;
  try {
    deployment = loadWorkerDeployment(env);
  } catch (err) {
    problems.push((err as Error).message);
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    databaseUrl,
    temporal: {
      address: temporalAddress,
      namespace: temporal.namespace ?? pick(env, 'TEMPORAL_NAMESPACE'),
      taskQueue: pick(env, 'TEMPORAL_TASK_QUEUE'),
      uiUrl: pick(env, 'TEMPORAL_UI_URL', production).replace(/\/$/, ''),
      apiKey: temporal.apiKey,
      tls: temporal.tls,
      ...(temporal.tlsOptions ? { tlsOptions: temporal.tlsOptions } : {}),
      ...(temporal.metadata ? { metadata: temporal.metadata } : {}),
    },
    kafka: {
      brokers,
      topic: pick(env, 'KAFKA_TOPIC'),
      clientId: pick(env, 'KAFKA_CLIENT_ID'),
      groupId: pick(env, 'KAFKA_GROUP_ID'),
      ssl: kafkaAuth.ssl,
      ...(kafkaAuth.sslCa !== undefined ? { sslCa: kafkaAuth.sslCa } : {}),
      sasl: kafkaAuth.sasl,
    },
    s3: {
      endpoint: endpoint === '' ? undefined : endpoint,
      bucket,
      prefix: pick(env, 'S3_PREFIX'),
      region,
      forcePathStyle: endpoint !== '',
      credentials:
        accessKeyId !== undefined && secretAccessKey !== undefined
          ? { accessKeyId, secretAccessKey }
          : undefined,
    },
    metrics: { workerAddress: metricsAddresses[0]!, bridgeAddress: metricsAddresses[1]! },
    logLevel,
    worker: { maxActivities, bundlePath, deployment },
    dashboardPort,
    production,
  };
}

/** The database URL with its password masked, for logs and error messages (kept here for existing callers). */
export { redactUrl } from './redact';
