/**
 * The private raw archive: every accepted batch, as sent (gzip), under
 * `raw/<day>/<sensor>/<idempotencyKey>.ndjson.gz`. It is the source of truth that `rebuild` recomputes every
 * statistic from, and the only place raw source addresses are kept.
 */
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RAW_PREFIX } from '../publish/layout.js';
import { withStorage } from './errors.js';

export function rawBatchKey(day: string, sensor: string, idempotencyKey: string): string {
  return `${RAW_PREFIX}${day}/${sensor}/${idempotencyKey}.ndjson.gz`;
}

export interface RawBatch {
  day: string;
  sensor: string;
  idempotencyKey: string;
  /** The body as sent. */
  body: Uint8Array;
  /** Whether `body` is already gzip (Content-Encoding: gzip); otherwise the archive compresses it. */
  gzipped: boolean;
  /** Media type the batch was sent with (`application/x-ndjson` or `application/json`). */
  contentType: string;
  digest: string;
  /** ISO instant the batch was received: re-parsing applies the horizon as of then, so it accepts the same alerts. */
  receivedAt: string;
}

export interface RawArchive {
  /** Writes the batch unless an object already holds that key. Returns whether it wrote. */
  archiveBatch(batch: RawBatch): Promise<boolean>;
}

export class S3RawArchive implements RawArchive {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async archiveBatch(batch: RawBatch): Promise<boolean> {
    try {
      await withStorage(() =>
        this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: rawBatchKey(batch.day, batch.sensor, batch.idempotencyKey),
            // Level 1: the archive is read rarely (rebuild, closing a day) and this is on the request path.
            Body: batch.gzipped ? batch.body : gzipSync(batch.body, { level: 1 }),
            ContentType: batch.contentType,
            ContentEncoding: 'gzip',
            // The first archived copy of a batch is the one that counts; a retry must not replace it.
            IfNoneMatch: '*',
            Metadata: { digest: batch.digest, sensor: batch.sensor, 'received-at': batch.receivedAt },
          }),
        ),
      );
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || (err as { name?: string }).name === 'PreconditionFailed') return false;
      throw err;
    }
  }

  /** Lists archived batch keys under `raw/`, optionally for one day. */
  async *listBatchKeys(day?: string): AsyncGenerator<string> {
    let token: string | undefined;
    do {
      const out = await withStorage(() =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: day ? `${RAW_PREFIX}${day}/` : RAW_PREFIX,
            ContinuationToken: token,
          }),
        ),
      );
      for (const obj of out.Contents ?? []) if (obj.Key) yield obj.Key;
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  async readBatch(key: string): Promise<{ gzipBody: Uint8Array; contentType: string; receivedAt?: string; digest?: string }> {
    const out = await withStorage(() => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
    const gzipBody = await out.Body!.transformToByteArray();
    return {
      gzipBody,
      contentType: out.ContentType ?? 'application/x-ndjson',
      receivedAt: out.Metadata?.['received-at'],
      digest: out.Metadata?.digest,
    };
  }
}
