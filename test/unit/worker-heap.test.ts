// The worker's heap cap is set in three places (the image's CMD, the ECS task's command, npm run worker) and
// measured by the batch benchmark under a fourth: they must agree, or the memory figure describes nothing
// that runs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  BRIDGE_TASK_MEMORY_MIB,
  DEPLOYED_BRIDGE_HEAP_MB,
  DEPLOYED_WORKER_HEAP_MB,
} from '../../bench/worker-launch';
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

describe('the bridge heap cap', () => {
  it('is the benchmarked value in the Dockerfile and the ECS bridge command', () => {
    const dockerfile = read('Dockerfile')
      .split('\n')
      .filter((l) => l.includes('dist/bridge/main.js') && l.startsWith('#'));
    assert.deepEqual(dockerfile.map(heapFlags), [[DEPLOYED_BRIDGE_HEAP_MB]]);
    const command = read('terraform/ecs.tf')
      .split('\n')
      .filter((l) => /^\s*command\s*=.*dist\/bridge\/main\.js/.test(l));
    assert.equal(command.length, 1);
    assert.deepEqual(heapFlags(command[0] ?? ''), [DEPLOYED_BRIDGE_HEAP_MB]);
  });

  it('is the benchmarked value in npm run bridge', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    assert.deepEqual(heapFlags(scripts.bridge ?? ''), [DEPLOYED_BRIDGE_HEAP_MB]);
  });

  it('leaves the ECS task room above the heap, by default and at the least', () => {
    const variables = read('terraform/variables.tf');
    const block = /variable "bridge_memory" \{[\s\S]*?\n\}/.exec(variables)?.[0] ?? '';
    assert.equal(Number(/default\s*=\s*(\d+)/.exec(block)?.[1]), BRIDGE_TASK_MEMORY_MIB);
    assert.ok(Number(/var\.bridge_memory >= (\d+)/.exec(block)?.[1]) >= 2 * DEPLOYED_BRIDGE_HEAP_MB);
  });
});
