// The stream's entry points as an operator meets them: --help, and a clear message with a non-zero exit when
// Kafka or Temporal is not there (instead of a hang or a stack trace).
import assert from 'node:assert/strict';
import type { Config } from '../../infra/config';
import { startEntryPoint } from '../support/child-process';
import { isolatedConfig } from '../support/isolated-env';

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
      bridgeNoKafka: run('bridge/main.ts', cfg, [], { KAFKA_BROKERS: DEAD }),
      bridgeNoTemporal: run('bridge/main.ts', cfg, [], { TEMPORAL_ADDRESS: DEAD }),
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

  it('bridge: exits 1 naming Kafka when no broker answers', async () => {
    const { code, output } = await runs.bridgeNoKafka!;
    assert.equal(code, 1, output);
    assert.match(output, /bridge: cannot reach Kafka at 127\.0\.0\.1:1/);
  });

  it('bridge: exits 1 naming Temporal when the server does not answer', async () => {
    const { code, output } = await runs.bridgeNoTemporal!;
    assert.equal(code, 1, output);
    assert.match(output, /bridge: cannot reach Temporal at 127\.0\.0\.1:1/);
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
