import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { beatEvery } from '../../infra/heartbeat';

describe('activity heartbeats on a timer', () => {
  it('beats with the latest details while the work is waiting, not only when it makes progress', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(async () => {
      let staged = 0;
      const stop = beatEvery(Context.current(), () => ({ staged }), undefined, 50);
      staged = 7; // then nothing happens for a while: a slow source, a long wait on PostgreSQL
      await new Promise((r) => setTimeout(r, 280));
      stop();
    });
    assert.ok(beats.length >= 3, `${beats.length} beats`);
    assert.deepEqual(beats.at(-1), { staged: 7 });
    const after = beats.length;
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(beats.length, after, 'no beat after stop');
  });

  it('stops a read that is waiting for data as soon as the activity is cancelled', async () => {
    const env = new MockActivityEnvironment();
    const source = new PassThrough(); // never ends: a stalled S3 body
    const reading = env.run(async () => {
      const stop = beatEvery(
        Context.current(),
        () => ({}),
        (cancelled) => source.destroy(cancelled),
        50,
      );
      try {
        for await (const chunk of source) void chunk;
      } finally {
        stop();
      }
    });
    await new Promise((r) => setTimeout(r, 100));
    const cancelledAt = Date.now();
    env.cancel();
    await assert.rejects(reading, (err: unknown) => err instanceof CancelledFailure);
    assert.ok(Date.now() - cancelledAt < 500, 'stopped promptly');
    assert.equal(source.destroyed, true);
  });
});
