// Where a command's document goes: standard output (`-`), an object in S3 (`s3://bucket/key`, with the
// pipeline's own S3 client and credentials) or a local file. A one-off container task's disk goes with it,
// so on AWS only the first two outlive the command.
import fs from 'node:fs';
import { PassThrough, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config } from '../infra/config';
import { createS3Client } from '../infra/s3';
import { UsageError } from './exit';

export interface Output {
  /** Where the bytes go; write with backpressure. */
  stream: Writable;
  /** Ends the stream and waits until the bytes are stored (the S3 upload completed). */
  close(): Promise<void>;
  /** Gives up: an unfinished upload is aborted (nothing is stored), a partial file removed. */
  abort(): Promise<void>;
  /** Where it went, for the operator's message. */
  description: string;
}

/** Writes a chunk, waiting while the destination is full (bounded memory); fails if it was destroyed. */
export async function writeChunk(out: Writable, chunk: unknown): Promise<void> {
  const failed = () => out.errored ?? new Error('the output was closed');
  if (out.destroyed) throw failed();
  if (out.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (err?: Error) => {
      out.off('drain', onDrain).off('close', onClose).off('error', settle);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = () => settle();
    const onClose = () => settle(failed());
    out.on('drain', onDrain).on('close', onClose).on('error', settle);
  });
}

export const OUT_HELP = "'-' for standard output, s3://bucket/key for object storage, or a file path";

/** s3://bucket/key split; a usage error when the bucket or the key is missing. */
export function parseS3Target(target: string): { bucket: string; key: string } {
  const rest = target.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (bucket === '' || key === '' || key.endsWith('/'))
    throw new UsageError(`--out ${target}: name an object, s3://bucket/key`);
  return { bucket, key };
}

export function openOutput(target: string, cfg: () => Config, contentType: string): Output {
  if (target === '-') {
    // Standard output stays open for the process; only the writes are awaited.
    return {
      stream: process.stdout,
      close: () => Promise.resolve(),
      abort: () => Promise.resolve(),
      description: 'standard output',
    };
  }
  if (target.startsWith('s3://')) {
    const { bucket, key } = parseS3Target(target);
    const s3 = createS3Client(cfg().s3);
    const body = new PassThrough();
    // Multipart in 5 MiB parts: memory stays bounded whatever the size of the export.
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
    });
    const cannotWrite = (err: unknown) =>
      new Error(`cannot write ${target}: ${(err as Error).message.split('\n')[0]}`);
    const done = upload.done();
    // A failed upload stops reading: the writer must fail too rather than wait for room forever.
    done.catch((err: unknown) => body.destroy(cannotWrite(err)));
    return {
      stream: body,
      close: async () => {
        body.end();
        try {
          await done;
        } catch (err) {
          throw cannotWrite(err);
        } finally {
          s3.destroy();
        }
      },
      abort: async () => {
        await upload.abort().catch(() => undefined);
        body.destroy();
        s3.destroy();
      },
      description: target,
    };
  }
  // Opened at once, so a missing folder or a read-only disk is an error before any work is done.
  const file = fs.createWriteStream(target, { fd: fs.openSync(target, 'w') });
  return {
    stream: file,
    close: async () => {
      file.end();
      await finished(file);
    },
    abort: async () => {
      file.destroy();
      await fs.promises.rm(target, { force: true });
    },
    description: target,
  };
}
