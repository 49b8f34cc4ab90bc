// Structured logs: one JSON object per line on stdout, for CloudWatch metric filters and any log shipper.
// Secrets never reach a line: fields named like a credential are masked, and the configured secret values
// themselves are replaced wherever they appear (an error message quoting a connection string, say).
import type { Config, LogLevel } from './config';

export type { LogLevel } from './config';
export type LogFields = Record<string, unknown>;

export interface JsonLogger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|credential|cookie/i;
// Shorter values would mask ordinary words (the local stack's database password is 'kiosk').
const MIN_SECRET_LENGTH = 8;
const MASK = '***';
const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** The configured secret values worth masking in free text. */
export function secretValues(config: Config): string[] {
  const values: (string | undefined)[] = [
    config.kafka.sasl?.mechanism === 'aws-msk-iam' ? undefined : config.kafka.sasl?.password,
    config.temporal.apiKey,
    config.s3.credentials?.secretAccessKey,
    config.temporal.tlsOptions?.clientKey?.toString(),
  ];
  try {
    const password = new URL(config.databaseUrl).password;
    values.push(password, decodeURIComponent(password));
  } catch {
    // An unparsable URL was refused by loadConfig already.
  }
  return [...new Set(values)].filter((v): v is string => v !== undefined && v.length >= MIN_SECRET_LENGTH);
}

export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(MASK);
  return out;
}

function clean(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return maskSecrets(value, secrets);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: maskSecrets(value.message, secrets) };
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.map((v) => clean(v, secrets, depth + 1));
  const out: LogFields = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && v !== undefined && v !== null ? MASK : clean(v, secrets, depth + 1);
  }
  return out;
}

/** One line: time, level, logger and message first, then the fields (masked). */
export function formatLogLine(
  logger: string,
  level: LogLevel,
  message: string,
  fields: LogFields,
  secrets: readonly string[],
  time = new Date(),
): string {
  const masked = clean(fields, secrets) as LogFields;
  return JSON.stringify({
    time: time.toISOString(),
    level,
    logger,
    message: maskSecrets(message, secrets),
    ...masked,
  });
}

export function createJsonLogger(
  logger: string,
  options: {
    base?: LogFields;
    secrets?: readonly string[];
    write?: (line: string) => void;
    /** The least severe level written (LOG_LEVEL); default info. */
    level?: LogLevel;
  } = {},
): JsonLogger {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const secrets = options.secrets ?? [];
  const least = SEVERITY[options.level ?? 'info'];
  const log = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (SEVERITY[level] >= least)
      write(formatLogLine(logger, level, message, { ...options.base, ...fields }, secrets));
  };
  return {
    log,
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
  };
}

/**
 * Node's process warnings as log lines instead of Node's plain-text stderr lines, so a service's output stays
 * one JSON object per line (on Node 24 kafkajs sets a negative timer once, which Node warns about).
 */
export function logProcessWarnings(log: JsonLogger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) =>
    log.warn(`${warning.name}: ${warning.message}`, { warning: warning.name }),
  );
}
