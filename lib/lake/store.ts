/**
 * The lake's objects in the private bucket (layout in lib/publish/layout.ts): what ingest writes (staging
 * facts) and what the close and `query` bring into, and back from, their scratch directory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
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

export class S3Lake implements FactsWriter {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

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

  /** Copies an object to a local file; false when there is no such object. */
  async download(key: string, path: string): Promise<boolean> {
    await mkdir(dirname(path), { recursive: true });
    try {
      const out = await withStorage(() => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
      // Staging objects are small: one write beats a stream per object. Large ones (Parquet) stream to disk.
      if ((out.ContentLength ?? Infinity) < 4 * 1024 * 1024) await writeFile(path, await out.Body!.transformToByteArray());
      else await pipeline(out.Body as Readable, createWriteStream(path));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async upload(path: string, key: string, contentType = 'application/vnd.apache.parquet'): Promise<void> {
    const { size } = await stat(path);
    await withStorage(() =>
      this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: createReadStream(path), ContentLength: size, ContentType: contentType }),
      ),
    );
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
