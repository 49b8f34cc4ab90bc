import assert from 'node:assert/strict';
import { ownerOf } from '../../bench/profile-summary';

describe('bench: profile summary', () => {
  it('names the package, project folder or V8 pseudo-frame a profile frame belongs to', () => {
    assert.equal(ownerOf('file:///w/node_modules/kafkajs/src/protocol/decoder.js', 'readVarLong'), 'kafkajs');
    assert.equal(
      ownerOf('file:///w/node_modules/@temporalio/proto/lib/index.js', 'decode'),
      '@temporalio/proto',
    );
    assert.equal(ownerOf('/w/dist/bench-4081/stream/store.js', 'insertStreamRows'), 'project stream/');
    assert.equal(ownerOf('file:///w/bridge/bridge.ts', 'handle'), 'project bridge/');
    assert.equal(ownerOf('/tmp/kiosk-bench-bundle-12.js', 'flush'), 'workflow bundle');
    assert.equal(ownerOf('node:zlib', 'processChunkSync'), 'node');
    assert.equal(ownerOf('', '(garbage collector)'), '(garbage collector)');
  });
});
