// Kills and restarts services of the local stack with the operators' own commands (npm run stack:kill /
// stack:up), so the fault tests exercise the same scripts an on-call engineer would use.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './isolated-env';

const run = promisify(execFile);
const STACK = path.join(REPO_ROOT, 'scripts', 'stack.sh');

export type StackService = 'postgres' | 's3' | 'kafka' | 'temporal';

export async function killService(service: StackService): Promise<void> {
  await run('bash', [STACK, 'kill', service], { cwd: REPO_ROOT });
}

/** `stack up`: starts only what is down, keeping every service's data. */
export async function restartStack(): Promise<void> {
  await run('bash', [STACK, 'up'], { cwd: REPO_ROOT, timeout: 180_000 });
}

/** Kills `service`, leaves it down for `downMs`, then brings the stack back whatever happens in between. */
export async function outage(service: StackService, downMs: number): Promise<void> {
  await killService(service);
  try {
    await new Promise((r) => setTimeout(r, downMs));
  } finally {
    await restartStack();
  }
}
