// The HTTP listeners (the dashboard, the worker's metrics and health listener) survive socket errors: with
// the process's descriptor limit lowered below what it holds, a connection is not served, yet the process
// lives and serves again once the limit is back. An accept error, delivered as Node delivers one
// (test/support/accept-error-signal.ts), is logged and the listener goes on serving.
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { sigkill, spawnNode, waitForOutput, type RunningProcess } from '../../support/child-process';
import { createDatabase, dropDatabase, isolatedConfig, REPO_ROOT } from '../../support/isolated-env';

const PRELOAD = path.join(REPO_ROOT, 'test', 'support', 'accept-error-signal.ts');

/** The status of GET url, or the error's code when no answer came within `timeoutMs`. */
function get(url: string, timeoutMs = 2000): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const openDescriptors = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;
const softLimit = (pid: number, n: number | 'unlimited') =>
  execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${n}:`]);

const LISTENERS = [
  {
    name: 'the dashboard',
    script: 'report/dashboard/server.ts',
    args: ['--port', '0'],
    ready: /dashboard listening on (http:\/\/\S+)/,
    health: (base: string) => new URL('/healthz', base).toString(),
  },
  {
    name: "the worker's metrics and health listener",
    script: 'worker.ts',
    args: [],
    ready: /metrics and health on (http:\/\/[\d.:]+)/,
    health: (base: string) => new URL('/healthz', base).toString(),
  },
];

describe('HTTP listeners survive socket errors', function () {
  this.timeout(180_000);
  const cfg = isolatedConfig('listener-errors');
  const running: RunningProcess[] = [];

  before(async () => {
    await createDatabase(cfg.databaseUrl);
  });
  afterEach(async () => {
    for (const p of running.splice(0)) if (p.child.exitCode === null) await sigkill(p);
  });
  after(async () => {
    await dropDatabase(cfg.databaseUrl);
  });

  for (const listener of LISTENERS) {
    it(`${listener.name}: refuses while out of descriptors, logs an accept error, serves again`, async () => {
      const p = spawnNode(
        [
          '--require',
          'tsx/cjs',
          '--require',
          PRELOAD,
          path.join(REPO_ROOT, listener.script),
          ...listener.args,
        ],
        cfg,
        { WORKER_METRICS_ADDRESS: '127.0.0.1:0' },
      );
      running.push(p);
      await waitForOutput(p, listener.ready, 120_000);
      const url = listener.health(listener.ready.exec(p.output())![1]!);
      const pid = p.child.pid!;
      assert.equal(await get(url), 200);

      // Well below what the process holds (sockets of earlier requests may close meanwhile): accept fails even
      // after libuv gives up its reserved descriptor.
      const hard = Number(
        execFileSync('prlimit', [`--pid=${pid}`, '--nofile', '-o', 'HARD', '--noheadings']),
      );
      softLimit(pid, Math.floor(openDescriptors(pid) / 2));
      try {
        for (let i = 0; i < 3; i++) assert.notEqual(await get(url, 1000), 200, 'served without a descriptor');
        assert.equal(p.child.exitCode, null, `the process died:\n${p.output()}`);
      } finally {
        softLimit(pid, hard);
      }

      const before = p.output().length;
      p.child.kill('SIGWINCH');
      await waitForOutput(p, /listener error, still serving: accept EMFILE/, 10_000);
      assert.match(p.output().slice(before), /accept EMFILE/);
      assert.equal(await get(url), 200, p.output().slice(-3000));
      assert.equal(p.child.exitCode, null, `the process died:\n${p.output()}`);
    });
  }
});
