import type { Payload } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { COMPRESS_FROM_BYTES, DEFLATE_ENCODING, DeflateCodec } from '../../infra/payload-codec';

const json = (data: Uint8Array): Payload => ({
  metadata: { encoding: new TextEncoder().encode('json/plain') },
  data,
});
const encodingOf = (p: Payload) => Buffer.from(p.metadata?.encoding ?? new Uint8Array(0)).toString();

describe('payload codec', () => {
  const codec = new DeflateCodec();

  it('deflates big payloads and restores them exactly, metadata included', async () => {
    const big = json(
      Buffer.from(JSON.stringify({ messages: Array(2000).fill({ offset: 1, value: 'eyJhdCI6IC' }) })),
    );
    const [encoded] = await codec.encode([big]);
    assert.equal(encodingOf(encoded!), DEFLATE_ENCODING);
    assert.ok(encoded!.data!.length < big.data!.length / 5);
    const [decoded] = await codec.decode([encoded!]);
    assert.equal(encodingOf(decoded!), 'json/plain');
    assert.deepEqual(Buffer.from(decoded!.data!), Buffer.from(big.data!));
  });

  it('leaves bytes passed as bytes (record blocks, deflated by themselves) as they are', async () => {
    const block: Payload = {
      metadata: { encoding: new TextEncoder().encode('binary/plain') },
      data: Buffer.alloc(COMPRESS_FROM_BYTES * 4, 0x61),
    };
    assert.deepEqual(await codec.encode([block]), [block]);
  });

  it('leaves small and incompressible payloads as they are', async () => {
    const small = json(Buffer.from('{"source":"s3://lmnh-kiosk/"}'));
    const noise = json(randomBytes(COMPRESS_FROM_BYTES * 4));
    assert.deepEqual(await codec.encode([small, noise]), [small, noise]);
    assert.deepEqual(await codec.decode([small, noise]), [small, noise]);
  });
});
