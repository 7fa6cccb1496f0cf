/**
 * Content-Digest (RFC 9530 §2): a Dictionary of algorithm → byte sequence over the message content.
 * The signature covers this header (RFC 9421 §7.2.8), and this check binds the header to the body.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors.js';
import { parseDictionary, type Dictionary } from './structured-fields.js';

/** Hash names in the RFC 9530 §7.2 registry that we accept, mapped to node:crypto names. */
const SUPPORTED: ReadonlyMap<string, string> = new Map([
  ['sha-256', 'sha256'],
  ['sha-512', 'sha512'],
]);

/** `sha-256=:<base64>:` for the exact bytes sent. */
export function contentDigestHeader(body: Uint8Array): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

/**
 * Throws SignatureError('digest_mismatch') unless the header carries at least one supported digest
 * and every supported digest it carries matches `body`. Unknown algorithms are ignored, as
 * RFC 9530 §2 allows a recipient to ignore algorithms it does not support.
 * Returns the verified digests by algorithm, so callers need not hash the body again.
 */
export function checkContentDigest(header: string | undefined, body: Uint8Array): Map<string, Buffer> {
  const verified = new Map<string, Buffer>();
  if (header === undefined) {
    throw new SignatureError('digest_mismatch', 'Content-Digest header is required');
  }
  let dict: Dictionary;
  try {
    dict = parseDictionary(header);
  } catch (err) {
    throw new SignatureError(
      'digest_mismatch',
      `Content-Digest header is not a valid structured field dictionary (RFC 9530 §2): ${(err as Error).message}`,
    );
  }

  let checked = 0;
  for (const [alg, member] of dict) {
    const hashName = SUPPORTED.get(alg);
    if (hashName === undefined) continue;
    if (member.kind !== 'item' || !(member.value instanceof Uint8Array)) {
      throw new SignatureError(
        'digest_mismatch',
        `Content-Digest ${alg} must be a byte sequence like ${alg}=:<base64>: (RFC 9530 §2)`,
        { algorithm: alg },
      );
    }
    const expected = createHash(hashName).update(body).digest();
    const given = member.value;
    // timingSafeEqual needs equal lengths; a wrong length is a mismatch on its own.
    if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) {
      throw new SignatureError('digest_mismatch', `Content-Digest ${alg} does not match the request body`, {
        algorithm: alg,
      });
    }
    verified.set(alg, expected);
    checked++;
  }

  if (checked === 0) {
    const seen = [...dict.keys()];
    throw new SignatureError(
      'digest_mismatch',
      `Content-Digest has no supported algorithm (use sha-256 or sha-512)${seen.length > 0 ? `; got: ${seen.join(', ')}` : ''}`,
      { supported: [...SUPPORTED.keys()] },
    );
  }
  return verified;
}
