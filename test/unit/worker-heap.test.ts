// The worker's heap cap is set in three places (the image's CMD, the ECS task's command, npm run worker) and
// measured by the batch benchmark under a fourth: they must agree, or the memory figure describes nothing
// that runs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEPLOYED_WORKER_HEAP_MB } from '../../bench/worker-launch';
import { REPO_ROOT } from '../support/isolated-env';

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
const heapFlags = (text: string) =>
  [...text.matchAll(/--max-old-space-size=(\d+)/g)].map((m) => Number(m[1]));

describe('the worker heap cap', () => {
  it('is the benchmarked value in the Dockerfile CMD', () => {
    const cmd = read('Dockerfile')
      .split('\n')
      .find((l) => l.startsWith('CMD '));
    assert.deepEqual(heapFlags(cmd ?? ''), [DEPLOYED_WORKER_HEAP_MB]);
  });

  it('is the benchmarked value in the ECS worker command', () => {
    const command = read('terraform/ecs.tf')
      .split('\n')
      .filter((l) => /^\s*command\s*=.*dist\/worker\.js/.test(l));
    assert.equal(command.length, 1);
    assert.deepEqual(heapFlags(command[0] ?? ''), [DEPLOYED_WORKER_HEAP_MB]);
  });

  it('is the benchmarked value in npm run worker', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    assert.deepEqual(heapFlags(scripts.worker ?? ''), [DEPLOYED_WORKER_HEAP_MB]);
  });
});
