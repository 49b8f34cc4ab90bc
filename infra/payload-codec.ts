// Compresses big Temporal payloads. The stream's signals and loads carry thousands of kiosk messages each
// (base64 JSON, which deflates well) through the Temporal server twice: into the workflow as a signal, out to
// the load activity as its input. Deflated, the server stores and moves far fewer bytes, and a stream
// workflow's history reaches the size at which it must continue as new much later (bench/README.md has the
// figures). Small payloads (every batch input and result, queries, settings) stay plain
// JSON, readable in the Web UI and by clients without this codec.
//
// Every process that reads these payloads needs the codec: the worker (worker.ts) and every client made by
// createTemporalClient (the bridge, the CLI, the benches).
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const deflate = promisify(zlib.deflateRaw);
const inflate = promisify(zlib.inflateRaw);

export const DEFLATE_ENCODING = 'binary/deflate';
const ENCODING_BYTES = new TextEncoder().encode(DEFLATE_ENCODING);

/** Payloads smaller than this are left alone: nothing to gain, and they stay readable everywhere. */
export const COMPRESS_FROM_BYTES = 8 * 1024;

// Bytes passed as they are (a Uint8Array argument): the stream's record blocks, which deflate themselves.
const RAW_BINARY_BYTES = new TextEncoder().encode('binary/plain');

function hasEncoding(payload: Payload, encoding: Uint8Array): boolean {
  const actual = payload.metadata?.encoding;
  return actual !== undefined && actual !== null && Buffer.from(actual).equals(encoding);
}

function isDeflated(payload: Payload): boolean {
  return hasEncoding(payload, ENCODING_BYTES);
}

export class DeflateCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        if ((payload.data?.length ?? 0) < COMPRESS_FROM_BYTES || hasEncoding(payload, RAW_BINARY_BYTES)) {
          return payload;
        }
        // The whole payload, metadata included, so decoding restores it exactly.
        const whole = temporal.api.common.v1.Payload.encode(payload).finish();
        // Level 1: higher levels compress kiosk messages little better at a much lower speed (bench/README.md).
        const data = await deflate(whole, { level: 1 });
        // Incompressible bytes (hostile input) would only cost a decode step.
        if (data.length >= whole.length * 0.9) return payload;
        return { metadata: { encoding: ENCODING_BYTES }, data };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        if (!isDeflated(payload)) return payload;
        const whole = await inflate(payload.data ?? new Uint8Array(0));
        return temporal.api.common.v1.Payload.decode(whole);
      }),
    );
  }
}

/** The data converter every worker and client of the project uses. */
export const dataConverter = { payloadCodecs: [new DeflateCodec()] };
