// Configuration from the environment, validated once at start so a typo fails loudly instead of mid-run.
// Defaults point at the local stack (scripts/stack.sh); production sets every value explicitly.

export interface Config {
  databaseUrl: string;
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    uiUrl: string;
    apiKey: string | undefined;
    tls: boolean;
  };
  kafka: {
    brokers: string[];
    topic: string;
    clientId: string;
    groupId: string;
    ssl: boolean;
    sasl: { username: string; password: string } | undefined;
  };
  s3: {
    endpoint: string | undefined;
    bucket: string;
    prefix: string;
    region: string;
    forcePathStyle: boolean;
    credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

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
} as const;

function pick(env: Env, name: keyof typeof DEFAULTS): string {
  const value = env[name];
  return value === undefined || value === '' ? DEFAULTS[name] : value;
}

function parseBool(env: Env, name: string, problems: string[]): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0' || raw === 'no') return false;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  problems.push(`${name} must be true or false, got '${env[name]}'`);
  return false;
}

function isHostPort(value: string): boolean {
  return /^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(value);
}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const databaseUrl = pick(env, 'DATABASE_URL');
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// URL');
  }

  const temporalAddress = pick(env, 'TEMPORAL_ADDRESS');
  if (!isHostPort(temporalAddress))
    problems.push(`TEMPORAL_ADDRESS must be host:port, got '${temporalAddress}'`);

  const brokers = pick(env, 'KAFKA_BROKERS')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0 || !brokers.every(isHostPort)) {
    problems.push('KAFKA_BROKERS must be a comma-separated list of host:port');
  }
  const saslUser = env.KAFKA_SASL_USERNAME;
  const saslPassword = env.KAFKA_SASL_PASSWORD;
  if ((saslUser === undefined) !== (saslPassword === undefined)) {
    problems.push('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must be set together');
  }

  const endpoint = env.S3_ENDPOINT === undefined ? DEFAULTS.S3_ENDPOINT : env.S3_ENDPOINT;
  if (endpoint !== '' && !/^https?:\/\//.test(endpoint))
    problems.push('S3_ENDPOINT must be an http(s) URL or empty');
  const bucket = pick(env, 'S3_BUCKET');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    problems.push(`S3_BUCKET '${bucket}' is not a valid bucket name`);
  // With no explicit endpoint we are on AWS: credentials come from the default chain (task role), never defaults.
  const accessKeyId = env.AWS_ACCESS_KEY_ID ?? (endpoint !== '' ? DEFAULTS.AWS_ACCESS_KEY_ID : undefined);
  const secretAccessKey =
    env.AWS_SECRET_ACCESS_KEY ?? (endpoint !== '' ? DEFAULTS.AWS_SECRET_ACCESS_KEY : undefined);

  const kafkaSsl = parseBool(env, 'KAFKA_SSL', problems);
  const temporalTls = parseBool(env, 'TEMPORAL_TLS', problems);

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    databaseUrl,
    temporal: {
      address: temporalAddress,
      namespace: pick(env, 'TEMPORAL_NAMESPACE'),
      taskQueue: pick(env, 'TEMPORAL_TASK_QUEUE'),
      uiUrl: pick(env, 'TEMPORAL_UI_URL').replace(/\/$/, ''),
      apiKey: env.TEMPORAL_API_KEY || undefined,
      tls: temporalTls || Boolean(env.TEMPORAL_API_KEY),
    },
    kafka: {
      brokers,
      topic: pick(env, 'KAFKA_TOPIC'),
      clientId: pick(env, 'KAFKA_CLIENT_ID'),
      groupId: pick(env, 'KAFKA_GROUP_ID'),
      ssl: kafkaSsl,
      sasl:
        saslUser !== undefined && saslPassword !== undefined
          ? { username: saslUser, password: saslPassword }
          : undefined,
    },
    s3: {
      endpoint: endpoint === '' ? undefined : endpoint,
      bucket,
      prefix: pick(env, 'S3_PREFIX'),
      region: pick(env, 'AWS_REGION'),
      forcePathStyle: endpoint !== '',
      credentials:
        accessKeyId !== undefined && secretAccessKey !== undefined
          ? { accessKeyId, secretAccessKey }
          : undefined,
    },
  };
}

/** The database URL with its password masked, for logs and error messages (kept here for existing callers). */
export { redactUrl } from './redact';
