// Production mode: NODE_ENV=production and an empty environment. Each entry point, run as a process, refuses to
// start, names every setting it needs and lacks, exits 2, and never reaches for the local stack.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../support/isolated-env';

function runEmpty(script: string, args: string[] = []): Promise<{ code: number | null; output: string }> {
  // Only what node itself needs: no setting of the project's, not even from the test's own environment.
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('production mode without settings', function () {
  this.timeout(120_000);
  const cases = {
    worker: {
      script: 'worker.ts',
      args: [],
      needs: 'DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KAFKA_BROKERS, S3_BUCKET, AWS_REGION',
    },
    bridge: {
      script: 'bridge/main.ts',
      args: [],
      needs: 'DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KAFKA_BROKERS',
    },
    client: {
      script: 'client.ts',
      args: ['db', 'migrate'],
      needs: 'DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KAFKA_BROKERS, S3_BUCKET, AWS_REGION',
    },
    dashboard: { script: 'report/dashboard/server.ts', args: [], needs: 'DATABASE_URL, KAFKA_BROKERS' },
  };

  for (const [role, c] of Object.entries(cases)) {
    it(`${role}: exits 2 naming each missing setting`, async () => {
      const { code, output } = await runEmpty(c.script, c.args);
      assert.equal(code, 2, output);
      assert.ok(output.includes(`NODE_ENV=production and the ${role} needs ${c.needs}`), output);
      assert.doesNotMatch(output, /127\.0\.0\.1|polling|listening|consuming/);
    });
  }
});
