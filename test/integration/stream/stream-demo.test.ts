// The stream demo as an operator runs it (`kiosk stream demo`), against an isolated database and
// topic: the bridge and the simulator run for a few seconds and rows arrive.
import assert from 'node:assert/strict';
import { startEntryPoint } from '../../support/child-process';
import {
  countStored,
  setUpStream,
  tearDownStream,
  workflowBundleFile,
  type StreamEnv,
} from '../../support/stream';

describe('stream: the demo', function () {
  this.timeout(90_000);
  let env: StreamEnv;

  before(async () => {
    env = await setUpStream('stream-demo', 2);
  });
  after(async () => {
    await tearDownStream(env);
  });

  it('runs the bridge and the simulator and shows rows arriving', async () => {
    const demo = startEntryPoint(
      'client.ts',
      env.cfg,
      ['stream', 'demo', '--seconds', '3', '--rate', '200'],
      {
        WORKFLOW_BUNDLE_PATH: await workflowBundleFile(),
        STREAM_FLUSH_MAX_AGE_MS: '200',
      },
    );
    assert.equal(await demo.exited, 0, demo.output());
    const output = demo.output();
    assert.match(output, /demo: \d+s {2}stored \d+ interactions and \d+ rejects so far/);
    const summary = /demo: published 600; stored (\d+) interactions and (\d+) rejects/.exec(output);
    assert.ok(summary, output);
    const [interactions, rejects] = [Number(summary[1]), Number(summary[2])];
    assert.equal(interactions + rejects, 600, output);
    assert.ok(interactions > 400 && rejects > 50, output);
    assert.equal(await countStored(env.knex, env.cfg.kafka.topic), 600);
    assert.match(output, /workflows\?query=KioskPipeline%3D%22stream%22/);
  });
});
