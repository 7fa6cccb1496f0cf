/**
 * In-process S3 emulator (s3rver) on 127.0.0.1.
 */
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface S3Local {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartS3LocalOptions {
  /** Persistent object store directory (created if missing). Omitted: a temp dir removed at stop(). */
  dataDir?: string;
  /** 0 or omitted: the kernel picks a free loopback port. */
  port?: number;
  /** Buckets to create if absent. */
  buckets?: string[];
}

/**
 * s3rver 3.7 makes the continuation token of a ListObjectsV2 page by encrypting the last key with single DES,
 * which OpenSSL 3 (Node ≥ 17) refuses outside its legacy provider: every listing of more than 1,000 keys fails
 * with a 500 on its first page. This shim replaces s3rver's bucket-listing handler (after s3rver has checked
 * the request's signature, so the query string is left as the client signed it): a version 2 listing is
 * answered by s3rver's version 1 listing (marker = where the page starts), turned back into a version 2
 * answer whose continuation token is the last key of the page in base64url — opaque to clients, as S3's is.
 * Installed once per process, the first time an emulator starts.
 */
let listingShimmed = false;

interface ListingContext {
  query: Record<string, string | undefined>;
  body: unknown;
}

type ListingBody = { ListBucketResult: Record<string, unknown> & { Contents: { Key: string; Owner?: unknown }[]; CommonPrefixes: { Prefix: string }[]; IsTruncated: boolean } };

const TOKEN_PREFIX = 'ag1.';

function shimListingV2(): void {
  if (listingShimmed) return;
  listingShimmed = true;
  const bucketController = createRequire(import.meta.url)('s3rver/lib/controllers/bucket.js') as {
    getBucket: (ctx: ListingContext) => Promise<void>;
  };
  const original = bucketController.getBucket;
  bucketController.getBucket = async function getBucket(ctx: ListingContext): Promise<void> {
    const query = ctx.query;
    if (query['list-type'] !== '2' || 'marker' in query) return original(ctx);
    const token = query['continuation-token'];
    let startAfter = query['start-after'];
    if (token) {
      if (!token.startsWith(TOKEN_PREFIX)) return original(ctx); // s3rver's own error for a token it did not make
      startAfter = Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8');
    }
    const v1: Record<string, string | undefined> = { ...query };
    delete v1['list-type'];
    delete v1['continuation-token'];
    delete v1['start-after'];
    delete v1['fetch-owner'];
    if (startAfter) v1.marker = startAfter;
    ctx.query = v1;
    try {
      await original(ctx);
    } finally {
      ctx.query = query;
    }
    const r = (ctx.body as ListingBody).ListBucketResult;
    const last = [r.Contents.at(-1)?.Key, r.CommonPrefixes.at(-1)?.Prefix].filter((k): k is string => k !== undefined).sort().at(-1);
    (ctx.body as ListingBody).ListBucketResult = {
      '@': r['@'],
      Name: r.Name,
      Prefix: r.Prefix,
      StartAfter: token ? undefined : query['start-after'],
      ContinuationToken: token,
      NextContinuationToken: r.IsTruncated && last ? TOKEN_PREFIX + Buffer.from(last, 'utf8').toString('base64url') : undefined,
      KeyCount: r.Contents.length,
      MaxKeys: r.MaxKeys,
      Delimiter: r.Delimiter,
      IsTruncated: r.IsTruncated,
      Contents: query['fetch-owner'] === 'true' ? r.Contents : r.Contents.map(({ Owner: _owner, ...rest }) => rest),
      CommonPrefixes: r.CommonPrefixes,
    };
  };
}

/**
 * s3rver 3.7 ignores `If-None-Match: *` on PutObject and overwrites; S3 answers 412 PreconditionFailed when the
 * key exists. The raw archive (first copy of a batch wins) and the daily archive copies (written once) rely on
 * S3's answer, so the emulator gives it too: this shim refuses such a put of an existing key before s3rver's
 * handler stores anything. Installed once per process, like the listing shim.
 */
let conditionalPutShimmed = false;

interface PutContext {
  headers: Record<string, string | undefined>;
  params: { bucket: string; key: string };
  store: { existsObject(bucket: string, key: string): Promise<boolean> };
}

function shimConditionalPut(): void {
  if (conditionalPutShimmed) return;
  conditionalPutShimmed = true;
  const require = createRequire(import.meta.url);
  const objectController = require('s3rver/lib/controllers/object.js') as { putObject: (ctx: PutContext) => Promise<void> };
  const S3Error = require('s3rver/lib/models/error.js') as new (code: string, message: string, detail?: Record<string, string>) => Error;
  const original = objectController.putObject;
  objectController.putObject = async function putObject(ctx: PutContext): Promise<void> {
    if (ctx.headers['if-none-match'] === '*' && (await ctx.store.existsObject(ctx.params.bucket, ctx.params.key))) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
    }
    return original(ctx);
  };
}

export async function startS3Local(opts: StartS3LocalOptions = {}): Promise<S3Local> {
  const persistent = opts.dataDir !== undefined;
  const directory =
    opts.dataDir !== undefined ? path.resolve(opts.dataDir) : await mkdtemp(path.join(os.tmpdir(), 'alertgraph-s3-'));
  await mkdir(directory, { recursive: true });
  shimListingV2();
  shimConditionalPut();

  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: opts.port ?? 0,
    directory,
    silent: true,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name })),
  });

  // We own the HTTP server instead of calling s3rver.run(): run() never settles when listen fails
  // (e.g. EADDRINUSE), whereas here the error rejects.
  const server = createServer(s3rver.callback());
  try {
    await s3rver.configureBuckets();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    s3rver.logger.close();
    if (!persistent) await rm(directory, { recursive: true, force: true });
    throw err;
  }

  const port = (server.address() as AddressInfo).port;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SDK clients keep sockets alive; without this close() waits for them to idle out.
        server.closeAllConnections();
      });
      s3rver.logger.close();
      if (!persistent) await rm(directory, { recursive: true, force: true });
    })();
    return stopping;
  };

  return { endpoint: `http://127.0.0.1:${port}`, port, stop };
}
