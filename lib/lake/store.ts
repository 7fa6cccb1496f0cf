/**
 * The lake's objects in the private bucket (layout in lib/publish/layout.ts): what ingest writes (staging
 * facts) and what the close and `query` bring into, and back from, their scratch directory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { FACTS_PREFIX, STAGING_PREFIX, stagingKey } from '../publish/layout.js';
import { withStorage } from '../store/errors.js';

/** What ingest needs: one batch's facts for one day. */
export interface FactsWriter {
  /**
   * Writes (or rewrites, on a retry: the same batch gives the same rows) the staging object of one batch,
   * under its earliest day. Keyed by sensor and Idempotency-Key, so another sensor's batch with the same key
   * never touches it.
   */
  writeFacts(firstDay: string, sensor: string, idempotencyKey: string, csv: string): Promise<void>;
}

export interface ListedObject {
  key: string;
  size: number;
  etag?: string;
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/**
 * A local copy of the lake's Parquet objects, by key and ETag, under the scratch directory: the close uploads a
 * day and the analysis right after reads it back, `report` and `query` run again and again over the same days,
 * and a warm Lambda keeps /tmp — none of them should fetch an unchanged object twice. A copy is named by its
 * ETag, so a file is never rewritten in place; `<key>.etag` names the newest copy, for conditional GETs.
 */
class ObjectCache {
  constructor(private readonly dir: string) {}

  private base(key: string): string {
    return join(this.dir, key);
  }

  private fileFor(key: string, etag: string): string {
    return `${this.base(key)}.${createHash('sha256').update(etag).digest('hex').slice(0, 16)}`;
  }

  async latest(key: string): Promise<string | undefined> {
    try {
      return (await readFile(`${this.base(key)}.etag`, 'utf8')).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** Copies the cached version `etag` of `key` to `path`; false when it is not cached. */
  async copyTo(key: string, etag: string, path: string): Promise<boolean> {
    try {
      await copyFile(this.fileFor(key, etag), path);
      return true;
    } catch {
      return false;
    }
  }

  /** Keeps `path` as version `etag` of `key`, replacing the older copy. */
  async keep(key: string, etag: string, path: string): Promise<void> {
    const target = this.fileFor(key, etag);
    await mkdir(dirname(target), { recursive: true });
    const previous = await this.latest(key);
    const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await copyFile(path, tmp);
    await rename(tmp, target);
    await writeFile(`${this.base(key)}.etag.${process.pid}`, etag);
    await rename(`${this.base(key)}.etag.${process.pid}`, `${this.base(key)}.etag`);
    if (previous && previous !== etag) await rm(this.fileFor(key, previous), { force: true });
  }
}

export class S3Lake implements FactsWriter {
  private readonly cache?: ObjectCache;

  /** With `cacheDir`, Parquet objects are kept there by ETag (see ObjectCache). */
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    cacheDir?: string,
  ) {
    if (cacheDir) this.cache = new ObjectCache(join(cacheDir, bucket));
  }

  async writeFacts(firstDay: string, sensor: string, idempotencyKey: string, csv: string): Promise<void> {
    await withStorage(() =>
      this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: stagingKey(firstDay, sensor, idempotencyKey), Body: csv, ContentType: 'text/csv; charset=utf-8' }),
      ),
    );
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await withStorage(() => this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })));
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Every staging object (batches not compacted yet, or not completely). */
  listStaging(): Promise<ListedObject[]> {
    return this.list(STAGING_PREFIX);
  }

  /** Compacted Parquet objects (all days). */
  listFacts(): Promise<ListedObject[]> {
    return this.list(FACTS_PREFIX);
  }

  /**
   * Copies an object to a local file; false when there is no such object. Parquet objects (`cached`) come from
   * the cache when its copy is current: without a request when the caller knows the ETag (from a listing),
   * else with a conditional GET.
   */
  async download(key: string, path: string, opts: { etag?: string; cached?: boolean } = {}): Promise<boolean> {
    await mkdir(dirname(path), { recursive: true });
    const cache = opts.cached ? this.cache : undefined;
    if (cache && opts.etag && (await cache.copyTo(key, opts.etag, path))) return true;
    const known = cache ? await cache.latest(key) : undefined;
    try {
      const out = await withStorage(() => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, IfNoneMatch: known })));
      // Staging objects are small: one write beats a stream per object. Large ones (Parquet) stream to disk.
      if ((out.ContentLength ?? Infinity) < 4 * 1024 * 1024) await writeFile(path, await out.Body!.transformToByteArray());
      else await pipeline(out.Body as Readable, createWriteStream(path));
      if (cache && out.ETag) await cache.keep(key, out.ETag, path);
      return true;
    } catch (err) {
      if (known && (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 304 && (await cache!.copyTo(key, known, path))) return true;
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async upload(path: string, key: string, contentType = 'application/vnd.apache.parquet'): Promise<void> {
    const { size } = await stat(path);
    // Small objects (a day of a small network, first-seen day objects) as one buffer, which the SDK can also
    // send again on a retry; large ones streamed.
    const body = size < 4 * 1024 * 1024 ? await readFile(path) : createReadStream(path);
    const out = await withStorage(() =>
      this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: size, ContentType: contentType }),
      ),
    );
    if (this.cache && out.ETag && contentType === 'application/vnd.apache.parquet') await this.cache.keep(key, out.ETag, path);
  }

  async readJson<T>(key: string): Promise<T | undefined> {
    try {
      const out = await withStorage(() => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
      return JSON.parse(await out.Body!.transformToString()) as T;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async writeJson(key: string, value: unknown): Promise<void> {
    await withStorage(() => this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(value), ContentType: 'application/json' })));
  }

  /** Deletes keys, 1,000 per request; absent keys are not an error. */
  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      await withStorage(() =>
        this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } })),
      );
    }
  }
}
