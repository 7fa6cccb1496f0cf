/**
 * `push` covers Content-Encoding in its signature whenever it compresses (issue 11, item 8; DESIGN §4): a
 * batch whose encoding header is stripped in transit then fails the signature check instead of being taken
 * for a malformed body. Checked with the service's own RFC 9421 verifier and required components.
 */
import { describe, expect, it } from 'vitest';
import { prepareBatch } from '../../lib/client/delivery.js';
import { signedBatchHeaders } from '../../lib/client/sign-batch.js';
import { REQUIRED_COMPONENTS } from '../../lib/signing/profile.js';
import { generateSensorKeyPair, privateKeyFromPem, publicKeyFromBase64url } from '../../lib/signing/keys.js';
import { verifyRequestSignature } from '../../lib/signing/rfc9421.js';

const pair = generateSensorKeyPair();
const url = new URL('https://ingest.example/v1/batches');
const now = Date.UTC(2026, 11, 3, 7, 0, 0);

function signed(gzip: boolean) {
  const batch = prepareBatch('edge-1', ['{"event_type":"alert"}'], 'eve', gzip);
  return signedBatchHeaders({ url, sensor: 'edge-1', privateKey: privateKeyFromPem(pair.privateKeyPem), batch, now });
}

const verify = (headers: Record<string, string | undefined>) =>
  verifyRequestSignature(
    { method: 'POST', path: '/v1/batches', authority: url.host, scheme: 'https', headers },
    { keyLookup: async () => publicKeyFromBase64url(pair.publicKey), now, requiredComponents: REQUIRED_COMPONENTS },
  );

describe('the batch signature and Content-Encoding', () => {
  it('a gzip batch signs "content-encoding" along with the required components, and verifies', async () => {
    const headers = signed(true);
    expect(headers['content-encoding']).toBe('gzip');
    expect(headers['signature-input']).toMatch(/^sig1=\("@method" "@path" "content-digest" "content-type" "idempotency-key" "content-encoding"\);created=/);
    const result = await verify(headers);
    expect(result.components).toContain('content-encoding');
  });

  it('stripping or changing Content-Encoding in transit breaks the signature', async () => {
    const { 'content-encoding': _stripped, ...stripped } = signed(true);
    await expect(verify(stripped)).rejects.toThrow(/content-encoding/i);
    await expect(verify({ ...signed(true), 'content-encoding': 'identity' })).rejects.toThrow();
  });

  it('an uncompressed batch sends no Content-Encoding and does not cover it', async () => {
    const headers = signed(false);
    expect(headers['content-encoding']).toBeUndefined();
    expect(headers['signature-input']).not.toContain('content-encoding');
    await expect(verify(headers)).resolves.toMatchObject({ keyId: 'edge-1' });
  });
});
