/**
 * Ed25519 key helpers. Sensors register a raw 32-byte public key in base64url (the JWK `x` member,
 * RFC 8037 §2); PEM SPKI is also accepted for operators who have OpenSSL output at hand.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

const RAW_B64URL = /^[A-Za-z0-9_-]{43}$/;

/** Raw base64url (no padding; standard base64 also read) or a `-----BEGIN PUBLIC KEY-----` PEM → Ed25519 public KeyObject. */
export function publicKeyFromBase64url(raw: string): KeyObject {
  const text = raw.trim();
  if (text.startsWith('-----BEGIN PUBLIC KEY-----')) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: text, format: 'pem' });
    } catch {
      throw new Error('public key PEM could not be parsed (expected an SPKI "BEGIN PUBLIC KEY" block)');
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new Error(`public key is ${key.asymmetricKeyType ?? 'of an unknown type'}, expected Ed25519`);
    }
    return key;
  }
  // Keys copied from tools that print standard base64 (`+/`, `=` padding) are the same bytes: accept them too.
  if (/^[A-Za-z0-9+/]{43}=?$/.test(text) && /[+/=]/.test(text)) {
    return publicKeyFromBase64url(text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''));
  }
  // 32 bytes are exactly 43 base64url characters without padding (RFC 4648 §5).
  if (!RAW_B64URL.test(text)) {
    throw new Error(
      'public key must be 43 base64url characters (a raw 32-byte Ed25519 key, no padding) or a PEM public key',
    );
  }
  const bytes = Buffer.from(text, 'base64url');
  // Reject non-canonical encodings (stray low bits in the last character) so one key has one spelling.
  if (bytes.length !== 32 || bytes.toString('base64url') !== text) {
    throw new Error('public key is not a canonical base64url encoding of 32 bytes');
  }
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: text }, format: 'jwk' });
  } catch {
    throw new Error('public key bytes are not a valid Ed25519 public key');
  }
}

/** Ed25519 KeyObject (public, or private whose public half is taken) → raw base64url. */
export function publicKeyToBase64url(key: KeyObject): string {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`);
  }
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('Ed25519 key export did not yield a public value');
  return jwk.x;
}

/** A fresh sensor identity: PKCS#8 PEM private key (stays on the sensor) and raw base64url public key. */
export function generateSensorKeyPair(): { privateKeyPem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: publicKeyToBase64url(publicKey),
  };
}

/** PKCS#8 PEM → Ed25519 private KeyObject. */
export function privateKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // Never echo the input: it is key material.
    throw new Error('private key PEM could not be parsed (expected an unencrypted PKCS#8 "BEGIN PRIVATE KEY" block)');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`private key is ${key.asymmetricKeyType ?? 'of an unknown type'}, expected Ed25519`);
  }
  return key;
}
