/**
 * Writes rendered objects to the bucket. Everything is rendered in memory first, so a failed render writes
 * nothing and yesterday's objects stay readable; then the write-once archive copy, then data and images, and
 * the pages last, so a page never links to an image that is not there yet.
 */
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_PREFIX } from './layout.js';
import { withStorage } from '../store/errors.js';

export interface PublishedObject {
  key: string;
  body: string | Uint8Array;
  contentType: string;
  cacheControl: string;
  /** Written once and never replaced (the daily archive copy). */
  writeOnce?: boolean;
}

export interface Publisher {
  publish(objects: readonly PublishedObject[]): Promise<{ written: number; kept: number }>;
  /** The days that have an archive copy. */
  archivedDays(): Promise<Set<string>>;
}

function rank(o: PublishedObject): number {
  if (o.writeOnce) return 0;
  if (o.contentType.startsWith('text/html')) return 2;
  return 1;
}

export class S3Publisher implements Publisher {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async publish(objects: readonly PublishedObject[]): Promise<{ written: number; kept: number }> {
    let written = 0;
    let kept = 0;
    for (const group of [0, 1, 2]) {
      await Promise.all(
        objects
          .filter((o) => rank(o) === group)
          .map(async (o) => {
            // A write-once object that exists is kept: the conditional put is refused (412), on S3 and locally.
            try {
              await withStorage(() =>
                this.s3.send(
                  new PutObjectCommand({
                    Bucket: this.bucket,
                    Key: o.key,
                    Body: o.body,
                    ContentType: o.contentType,
                    CacheControl: o.cacheControl,
                    ...(o.writeOnce ? { IfNoneMatch: '*' } : {}),
                  }),
                ),
              );
              written++;
            } catch (err) {
              const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
              if (o.writeOnce && status === 412) kept++;
              else throw err;
            }
          }),
      );
    }
    return { written, kept };
  }

  async archivedDays(): Promise<Set<string>> {
    const days = new Set<string>();
    let token: string | undefined;
    do {
      const out = await withStorage(() => this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: ARCHIVE_PREFIX, ContinuationToken: token })));
      for (const o of out.Contents ?? []) {
        const day = /^\d{4}-\d{2}-\d{2}/.exec(o.Key!.slice(ARCHIVE_PREFIX.length))?.[0];
        if (day) days.add(day);
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return days;
  }
}
