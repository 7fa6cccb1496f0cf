/**
 * The local CDN of `alertgraph dev` (DESIGN §11): what CloudFront does on AWS, over the S3 emulator.
 * - `/` → public/index.html; `/public/*` → the object, with its stored Content-Type and Cache-Control.
 * - `/partners/*` → only with a valid, unexpired signed URL (checked as CloudFront checks it, with the same
 *   public keys) for a partner that is not revoked, after the CloudFront Function's own rule, which runs here
 *   from the same source file (lib/links/revocation.ts).
 * - anything else, raw/ included, is never served: the gate accepts plain path segments only (no `..`, no
 *   percent-encoding), so the S3 key is the path itself and cannot be steered outside public/ and partners/.
 * The request URL is rebuilt as CloudFront would see it: `http://127.0.0.1:<port>` + raw path and query
 * (local links are issued for that origin, whatever Host the browser sends).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { decideGate, gateRevocationKeys } from '../links/revocation.js';
import { verifySignedRequest } from '../links/signed-url.js';
import { CACHE, isServable } from '../publish/layout.js';
import type { CdnHandler } from './gateway.js';

export interface LocalCdnOptions {
  s3: S3Client;
  bucket: string;
  /** Key-Pair-Id → public key: the local stand-in for the distribution's trusted key group. */
  publicKeys: Map<string, KeyObject | string>;
  /**
   * The revocation list (the KeyValueStore on AWS): whether one of its keys (a partner id, or `link:<id>`) is
   * there. Locally the list lives in the registry, which keeps links per partner, hence the request's partner.
   */
  isRevoked: (key: string, request: { partnerId: string; linkId?: string }) => Promise<boolean>;
  /** Epoch ms; for tests. */
  clock?: () => number;
}

function refuse(res: ServerResponse, status: number, reason: string, head: boolean): true {
  const body = `${status === 404 ? 'Not found' : status === 503 ? 'Unavailable' : 'Forbidden'}: ${reason}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    'x-alertgraph-gate': reason,
  });
  res.end(head ? undefined : body);
  return true;
}

export function createLocalCdn(opts: LocalCdnOptions): CdnHandler {
  const clock = opts.clock ?? Date.now;
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    const target = req.url ?? '/';
    // The gate sees the raw target, before any URL parser could resolve `..` or decode `%2e`.
    const gate = decideGate(target);
    if (!gate.ok) return refuse(res, gate.status, gate.reason, head);
    // CloudFront behaviours for static objects allow GET and HEAD only, and answer 403 otherwise.
    if (method !== 'GET' && !head) return refuse(res, 403, 'method_not_allowed', head);
    // Defence in depth: the gate's answer must be a key the layout allows.
    if (!isServable(gate.key)) return refuse(res, 404, 'not_served', head);

    if (gate.area === 'partners') {
      const url = new URL(`http://127.0.0.1:${req.socket.localPort}${target}`);
      const verdict = verifySignedRequest({
        url,
        publicKeys: opts.publicKeys,
        now: clock(),
        sourceIp: req.socket.remoteAddress,
      });
      if (!verdict.ok) return refuse(res, 403, verdict.reason, head);
      // The gate and the signature read the same single `partner` and `link` values; check rather than assume.
      if (verdict.partnerId !== gate.partnerId || verdict.linkId !== gate.linkId) return refuse(res, 403, 'ambiguous_query', head);
      // The keys the CloudFront Function looks up, asked in its order.
      for (const key of gateRevocationKeys(gate)) {
        let revoked: boolean;
        try {
          revoked = await opts.isRevoked(key, gate);
        } catch {
          // Fail closed, as the CloudFront Function does when its KeyValueStore cannot be read.
          return refuse(res, 503, 'revocation_list_unavailable', head);
        }
        if (revoked) return refuse(res, 403, 'revoked', head);
      }
    }
    await serveObject(opts, gate.key, gate.area, req, res, head);
    return true;
  };
}

async function serveObject(
  opts: LocalCdnOptions,
  key: string,
  area: 'public' | 'partners',
  req: IncomingMessage,
  res: ServerResponse,
  head: boolean,
): Promise<void> {
  let out: {
    ContentType?: string;
    CacheControl?: string;
    ETag?: string;
    LastModified?: Date;
    ContentLength?: number;
    Body?: unknown;
  };
  try {
    out = head
      ? await opts.s3.send(new HeadObjectCommand({ Bucket: opts.bucket, Key: key }))
      : await opts.s3.send(new GetObjectCommand({ Bucket: opts.bucket, Key: key }));
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) {
      refuse(res, 404, 'no_such_object', head);
      return;
    }
    throw err;
  }
  const body = out.Body as Readable | undefined;
  const headers: OutgoingHttpHeaders = {
    'content-type': out.ContentType ?? 'application/octet-stream',
    // The render job stores each object's Cache-Control; partner objects never go to shared caches anyway.
    'cache-control': area === 'partners' ? (out.CacheControl ?? CACHE.private) : (out.CacheControl ?? CACHE.short),
    'x-content-type-options': 'nosniff',
  };
  if (area === 'partners') headers['referrer-policy'] = 'no-referrer';
  if (out.ETag) headers.etag = out.ETag;
  if (out.LastModified) headers['last-modified'] = out.LastModified.toUTCString();

  const inm = req.headers['if-none-match'];
  if (out.ETag && inm !== undefined && etagListMatches(inm, out.ETag)) {
    body?.destroy();
    res.writeHead(304, headers);
    res.end();
    return;
  }
  if (out.ContentLength !== undefined) headers['content-length'] = out.ContentLength;
  res.writeHead(200, headers);
  if (head || !body) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    body.on('error', () => {
      // Headers are out; all that is left is to cut the response short so the client sees it incomplete.
      res.destroy();
      resolve();
    });
    res.on('close', () => resolve());
    body.pipe(res);
  });
}

/** If-None-Match: `*` or a list of entity tags, compared weakly (RFC 9110 §13.1.2). */
function etagListMatches(header: string, etag: string): boolean {
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => bare(t) === bare(etag));
}
