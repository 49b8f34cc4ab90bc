// Where batch inputs live: an S3 bucket (s3://bucket/prefix) or, for laptops without S3, a local folder
// (file:///dir). Both list objects with a version tag and open them as byte streams, never whole.
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StoredObject } from '../contracts/batch';

export interface ObjectStore {
  readonly sourceUri: string;
  /** Fails with SourceMissingError when the bucket or folder does not exist. */
  list(): Promise<StoredObject[]>;
  /** Up to `max` objects in key order after the object `afterUri` (from the start when undefined). */
  listPage(afterUri: string | undefined, max: number): Promise<StoredObject[]>;
  open(uri: string): Promise<Readable>;
  readText(uri: string): Promise<string>;
}

export class SourceMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceMissingError';
  }
}

export function parseSourceUri(
  source: string,
): { kind: 's3'; bucket: string; prefix: string } | { kind: 'file'; dir: string } {
  if (source.startsWith('s3://')) {
    const rest = source.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    if (bucket === '') throw new SourceMissingError(`source '${source}' names no bucket`);
    return { kind: 's3', bucket, prefix: slash === -1 ? '' : rest.slice(slash + 1) };
  }
  if (source.startsWith('file://')) return { kind: 'file', dir: fileURLToPath(source) };
  throw new SourceMissingError(`source '${source}' must be s3://bucket[/prefix] or file:///absolute/dir`);
}

class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  get sourceUri(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  // No HeadBucket probe: the worker's role may list only under its prefix (terraform/iam.tf's s3:prefix
  // condition), and a HeadBucket carries no prefix, so it would be denied. The listing itself tells.
  private async listObjects(input: { StartAfter?: string; MaxKeys: number }) {
    try {
      return await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix || undefined, ...input }),
      );
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || status === 403)
        throw new SourceMissingError(`bucket '${this.bucket}' does not exist or is not readable`);
      throw err;
    }
  }

  async list(): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    for (let page = await this.listPage(undefined, 1000); page.length > 0;) {
      out.push(...page);
      page = await this.listPage(page[page.length - 1]!.uri, 1000);
    }
    return out;
  }

  async listPage(afterUri: string | undefined, max: number): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    // StartAfter rather than a continuation token: the cursor is a key, so it survives continue-as-new.
    let startAfter = afterUri === undefined ? undefined : this.key(afterUri);
    while (out.length < max) {
      const page = await this.listObjects({
        StartAfter: startAfter,
        MaxKeys: Math.min(1000, max - out.length),
      });
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        startAfter = o.Key;
        if (o.Key.endsWith('/')) continue;
        out.push({
          uri: `s3://${this.bucket}/${o.Key}`,
          name: o.Key.slice(this.prefix.length).replace(/^\//, ''),
          etag: (o.ETag ?? '').replace(/"/g, ''),
          size: o.Size ?? 0,
          lastModified: (o.LastModified ?? new Date(0)).toISOString(),
        });
      }
      if (!page.IsTruncated || (page.Contents ?? []).length === 0) break;
    }
    return out;
  }

  private key(uri: string): string {
    const head = `s3://${this.bucket}/`;
    if (!uri.startsWith(head)) throw new Error(`${uri} is not in bucket ${this.bucket}`);
    return uri.slice(head.length);
  }

  async open(uri: string): Promise<Readable> {
    const got = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(uri) }));
    return got.Body as Readable;
  }

  async readText(uri: string): Promise<string> {
    const got = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(uri) }));
    return got.Body!.transformToString('utf8');
  }
}

class FileObjectStore implements ObjectStore {
  constructor(private readonly dir: string) {}

  get sourceUri(): string {
    return pathToFileURL(this.dir).href;
  }

  async list(): Promise<StoredObject[]> {
    return this.listPage(undefined, Number.MAX_SAFE_INTEGER);
  }

  async listPage(afterUri: string | undefined, max: number): Promise<StoredObject[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      throw new SourceMissingError(`folder '${this.dir}' does not exist or is not readable`);
    }
    const after = afterUri === undefined ? undefined : path.basename(fileURLToPath(afterUri));
    const out: StoredObject[] = [];
    for (const name of names.sort()) {
      if (out.length >= max) break;
      if (after !== undefined && name <= after) continue;
      const full = path.join(this.dir, name);
      const st = await fs.stat(full);
      if (!st.isFile()) continue;
      out.push({
        uri: pathToFileURL(full).href,
        name,
        etag: `${st.size}-${Math.trunc(st.mtimeMs)}`,
        size: st.size,
        lastModified: st.mtime.toISOString(),
      });
    }
    return out;
  }

  open(uri: string): Promise<Readable> {
    return Promise.resolve(createReadStream(fileURLToPath(uri), { highWaterMark: 256 * 1024 }));
  }

  readText(uri: string): Promise<string> {
    return fs.readFile(fileURLToPath(uri), 'utf8');
  }
}

export function openObjectStore(source: string, s3: S3Client): ObjectStore {
  const parsed = parseSourceUri(source);
  return parsed.kind === 's3'
    ? new S3ObjectStore(s3, parsed.bucket, parsed.prefix)
    : new FileObjectStore(parsed.dir);
}

export const HISTORY_OBJECT = /\.csv$/i;
export const EXHIBITION_OBJECT = /(^|\/)lmnh_exhibition_[^/]*\.json$/;
