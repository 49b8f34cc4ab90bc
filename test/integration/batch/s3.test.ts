import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createS3Client } from '../../../infra/s3';
import { isolatedConfig } from '../../support/isolated-env';

async function readAll(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

describe('S3 (versitygw) stores objects byte-exact', function () {
  const cfg = isolatedConfig('s3');
  const s3 = createS3Client(cfg.s3);
  const bucket = cfg.s3.bucket;

  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const o of listed.Contents ?? [])
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });

  it('returns a buffered put exactly', async () => {
    const body = randomBytes(64 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain.bin', Body: body }));
    assert.deepEqual(await readAll(s3, bucket, 'plain.bin'), body);
  });

  it('returns a streamed multipart upload with the SDK default checksums exactly', async () => {
    // 12 MiB in uneven chunks: two 5 MiB parts and a tail, sent as aws-chunked bodies with CRC trailers.
    const chunks = Array.from({ length: 12 }, (_, i) => randomBytes(1024 * 1024 - i * 7));
    const expected = Buffer.concat(chunks);
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'streamed.bin', Body: Readable.from(chunks) },
      partSize: 5 * 1024 * 1024,
    });
    await upload.done();
    const got = await readAll(s3, bucket, 'streamed.bin');
    assert.equal(got.length, expected.length);
    assert.equal(
      createHash('sha256').update(got).digest('hex'),
      createHash('sha256').update(expected).digest('hex'),
    );
  });

  it('returns a single-part streamed put (unknown length) exactly', async () => {
    const expected = Buffer.from('at,site,val,type\n2023-03-06 15:09:21,4,0,\n'.repeat(1000));
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'small-stream.csv', Body: Readable.from([expected]) },
    });
    await upload.done();
    assert.deepEqual(await readAll(s3, bucket, 'small-stream.csv'), expected);
  });
});
