// What scripts/stack.sh installs once per machine (KIOSK_CACHE, default ~/.cache/kiosk-pipeline): the binaries
// and jars tests run directly, without the stack's services.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './isolated-env';

export const KIOSK_CACHE = process.env.KIOSK_CACHE ?? path.join(os.homedir(), '.cache', 'kiosk-pipeline');

/** A binary the stack built (`temporal`, `versitygw`): `bash scripts/stack.sh install` puts them there. */
export function cachedBinary(name: string): string {
  return path.join(KIOSK_CACHE, 'bin', name);
}

/** The Temporal CLI the stack runs, as `scripts/stack.sh env` names it (its version lives only there). */
export function temporalCliPath(): string {
  const env = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'stack.sh'), 'env'], {
    encoding: 'utf8',
  });
  const line = env.split('\n').find((l) => l.startsWith('TEMPORAL_CLI='));
  if (line === undefined) throw new Error('scripts/stack.sh env names no TEMPORAL_CLI');
  return line.slice('TEMPORAL_CLI='.length);
}
