// Runs the project's entry points (worker, bridge, client) as real child processes pointed at an isolated
// config, so tests can SIGKILL them mid-run the way a crash would.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../infra/config';
import { REPO_ROOT } from './isolated-env';

export function configToEnv(cfg: Config): Record<string, string> {
  return {
    DATABASE_URL: cfg.databaseUrl,
    TEMPORAL_ADDRESS: cfg.temporal.address,
    TEMPORAL_NAMESPACE: cfg.temporal.namespace,
    TEMPORAL_TASK_QUEUE: cfg.temporal.taskQueue,
    KAFKA_BROKERS: cfg.kafka.brokers.join(','),
    KAFKA_TOPIC: cfg.kafka.topic,
    KAFKA_GROUP_ID: cfg.kafka.groupId,
    S3_ENDPOINT: cfg.s3.endpoint ?? '',
    S3_BUCKET: cfg.s3.bucket,
    S3_PREFIX: cfg.s3.prefix,
    AWS_REGION: cfg.s3.region,
    AWS_ACCESS_KEY_ID: cfg.s3.credentials?.accessKeyId ?? '',
    AWS_SECRET_ACCESS_KEY: cfg.s3.credentials?.secretAccessKey ?? '',
    WORKER_METRICS_ADDRESS: cfg.metrics.workerAddress,
    BRIDGE_METRICS_ADDRESS: cfg.metrics.bridgeAddress,
  };
}

export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>;
}

export function startEntryPoint(
  script: string,
  cfg: Config,
  args: string[] = [],
  extraEnv: Record<string, string> = {},
): RunningProcess {
  // node with tsx's require hook, not the tsx CLI: the CLI runs the script in a grandchild that a SIGKILL to
  // the child would orphan.
  return spawnNode(['--require', 'tsx/cjs', path.join(REPO_ROOT, script), ...args], cfg, extraEnv);
}

/**
 * Runs `node nodeArgs...` with the config's environment, collecting its output. `baseEnv` is what the
 * config's variables are laid over (this process's environment unless a test wants a clean one).
 */
export function spawnNode(
  nodeArgs: string[],
  cfg: Config,
  extraEnv: Record<string, string> = {},
  { cwd = REPO_ROOT, baseEnv = process.env }: { cwd?: string; baseEnv?: NodeJS.ProcessEnv } = {},
): RunningProcess {
  const child = spawn(process.execPath, nodeArgs, {
    cwd,
    env: { ...baseEnv, ...configToEnv(cfg), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return { child, output: () => out, exited };
}

/** Waits until the process prints a line matching `pattern`, or fails with its output. */
export async function waitForOutput(p: RunningProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(p.output())) {
    if (p.child.exitCode !== null) throw new Error(`process exited early:\n${p.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function sigkill(p: RunningProcess): Promise<number | string> {
  p.child.kill('SIGKILL');
  return p.exited;
}
