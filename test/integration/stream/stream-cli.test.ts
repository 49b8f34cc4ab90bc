// The stream's entry points as an operator meets them: --help, and a clear message when Kafka or Temporal is
// not there (instead of a hang or a stack trace): the CLI exits non-zero, the bridge keeps trying.
import assert from 'node:assert/strict';
import type { Config } from '../../../infra/config';
import { startEntryPoint, waitForOutput } from '../../support/child-process';
import { isolatedConfig } from '../../support/isolated-env';

// Nothing listens on port 1: connections are refused at once.
const DEAD = '127.0.0.1:1';

interface Outcome {
  code: number | string;
  output: string;
}

function run(
  script: string,
  cfg: Config,
  args: string[],
  env: Record<string, string> = {},
): Promise<Outcome> {
  const p = startEntryPoint(script, cfg, args, env);
  return p.exited.then((code) => ({ code, output: p.output() }));
}

/** Runs the bridge until it says it will try again, then stops it with SIGTERM. */
async function untilRetried(script: string, cfg: Config, env: Record<string, string>): Promise<Outcome> {
  const p = startEntryPoint(script, cfg, [], env);
  await waitForOutput(p, /trying again in \d+s/, 90_000).catch(() => undefined);
  p.child.kill('SIGTERM');
  const code = await p.exited;
  return { code, output: p.output() };
}

describe('stream: command line and failure paths', function () {
  this.timeout(90_000);
  const cfg = isolatedConfig('stream-cli');
  // Every case is its own process (exit codes are the point); they start together because each one spends
  // seconds loading TypeScript and, for a dead broker, in kafkajs's connection retries.
  let runs: Record<string, Promise<Outcome>>;

  before(() => {
    runs = {
      bridgeHelp: run('bridge/main.ts', cfg, ['--help']),
      statusHelp: run('client.ts', cfg, ['stream', 'status', '--help']),
      simulateHelp: run('client.ts', cfg, ['simulate', 'kiosks', '--help']),
      bridgeNoKafka: untilRetried('bridge/main.ts', cfg, { KAFKA_BROKERS: DEAD }),
      bridgeNoTemporal: untilRetried('bridge/main.ts', cfg, { TEMPORAL_ADDRESS: DEAD }),
      bridgeBadTuning: run('bridge/main.ts', cfg, [], { STREAM_FLUSH_MAX_MESSAGES: 'lots' }),
      statusNoKafka: run('client.ts', cfg, ['stream', 'status'], { KAFKA_BROKERS: DEAD }),
      simulateNoKafka: run('client.ts', cfg, ['simulate', 'kiosks', '--duration', '1'], {
        KAFKA_BROKERS: DEAD,
      }),
      simulateBadOption: run('client.ts', cfg, ['simulate', 'kiosks', '--noise', '2']),
    };
  });
  after(async () => {
    await Promise.allSettled(Object.values(runs));
  });

  it('prints help for the bridge, stream status and the simulator', async () => {
    const bridge = await runs.bridgeHelp!;
    assert.equal(bridge.code, 0);
    assert.match(bridge.output, /signal-with-start/);
    assert.match(bridge.output, /STREAM_CONTINUE_AS_NEW_EVENTS\s+4000/);
    const status = await runs.statusHelp!;
    assert.equal(status.code, 0);
    assert.match(status.output, /--json/);
    const simulate = await runs.simulateHelp!;
    assert.equal(simulate.code, 0);
    assert.match(simulate.output, /--rate <n>[\s\S]*--noise <f>[\s\S]*--seed <s>[\s\S]*--replay <file>/);
  });

  // No crash loop: the bridge names what is missing, keeps trying, and stops cleanly when told to.
  it('bridge: names Kafka when no broker answers, tries again, exits 0 on SIGTERM', async () => {
    const { code, output } = await runs.bridgeNoKafka!;
    assert.match(output, /bridge: cannot start: cannot reach Kafka at 127\.0\.0\.1:1.*; trying again in 1s/);
    assert.equal(code, 0, output);
  });

  it('bridge: names Temporal when the server does not answer, tries again, exits 0 on SIGTERM', async () => {
    const { code, output } = await runs.bridgeNoTemporal!;
    assert.match(
      output,
      /bridge: cannot start: cannot reach Temporal at 127\.0\.0\.1:1.*; trying again in 1s/,
    );
    assert.equal(code, 0, output);
  });

  it('bridge: exits 2 on invalid tuning', async () => {
    const { code, output } = await runs.bridgeBadTuning!;
    assert.equal(code, 2, output);
    assert.match(output, /STREAM_FLUSH_MAX_MESSAGES must be an integer/);
  });

  it('stream status and the simulator: exit 1 naming Kafka when no broker answers', async () => {
    const status = await runs.statusNoKafka!;
    assert.equal(status.code, 1, status.output);
    assert.match(status.output, /error: cannot reach Kafka at 127\.0\.0\.1:1/);
    const simulate = await runs.simulateNoKafka!;
    assert.equal(simulate.code, 1, simulate.output);
    assert.match(simulate.output, /error: cannot reach Kafka at 127\.0\.0\.1:1/);
  });

  it('simulator: refuses a bad option with a usage message', async () => {
    const { code, output } = await runs.simulateBadOption!;
    assert.notEqual(code, 0);
    assert.match(output, /--noise.*must be within 0\.\.1/);
  });
});
