/** Builds the signed HTTP request for one batch, exactly as the ingest API verifies it (DESIGN §4). */
import { createHash, type KeyObject } from 'node:crypto';
import { REQUIRED_COMPONENTS } from '../signing/profile.js';
import { contentDigestHeader } from '../signing/content-digest.js';
import { signRequest } from '../signing/rfc9421.js';

export interface PreparedBatch {
  idempotencyKey: string;
  contentType: 'application/x-ndjson' | 'application/json';
  /** The body as sent (gzip when `gzip` is set). */
  body: Uint8Array;
  gzip: boolean;
  /** Alert lines in the batch, for progress and splitting. */
  lines: number;
  /**
   * The input line number of each line of the batch, when known (push from a file or stdin), so that the
   * service's rejections can name the input's lines. Not spooled.
   */
  inputLines?: readonly number[];
}

/**
 * The Idempotency-Key of a batch is derived from its content (sender + SHA-256 of the uncompressed body),
 * so pushing the same log twice yields the same keys and counts once.
 */
export function batchIdempotencyKey(sensor: string, uncompressedBody: string | Uint8Array): string {
  return createHash('sha256').update(sensor).update('\n').update(uncompressedBody).digest('hex');
}

export function signedBatchHeaders(opts: {
  url: URL;
  sensor: string;
  privateKey: KeyObject;
  batch: PreparedBatch;
  now?: number;
}): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': opts.batch.contentType,
    'content-digest': contentDigestHeader(opts.batch.body),
    'idempotency-key': opts.batch.idempotencyKey,
  };
  const components = [...REQUIRED_COMPONENTS];
  if (opts.batch.gzip) {
    headers['content-encoding'] = 'gzip';
    // Signed too (DESIGN §4, RFC 9421 component name "content-encoding"): with it stripped in transit, the
    // body would no longer parse and the batch would be refused for good instead of failing the signature.
    components.push('content-encoding');
  }
  const sig = signRequest(
    { method: 'POST', path: opts.url.pathname, authority: opts.url.host, scheme: opts.url.protocol.replace(':', ''), headers },
    {
      keyId: opts.sensor,
      privateKey: opts.privateKey,
      created: Math.floor((opts.now ?? Date.now()) / 1000),
      components,
    },
  );
  return { ...headers, 'signature-input': sig['signature-input'], signature: sig.signature };
}
