// What scripts/stack.sh installs once per machine (KIOSK_CACHE, default ~/.cache/kiosk-pipeline): the binaries
// and jars tests run directly, without the stack's services.
import os from 'node:os';
import path from 'node:path';

export const KIOSK_CACHE = process.env.KIOSK_CACHE ?? path.join(os.homedir(), '.cache', 'kiosk-pipeline');

/** A binary the stack built (`temporal`, `versitygw`): `bash scripts/stack.sh install` puts them there. */
export function cachedBinary(name: string): string {
  return path.join(KIOSK_CACHE, 'bin', name);
}
