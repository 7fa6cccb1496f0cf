import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignatureError } from '../../lib/errors.js';
import { checkContentDigest, contentDigestHeader } from '../../lib/signing/content-digest.js';
import {
  generateSensorKeyPair,
  privateKeyFromPem,
  publicKeyFromBase64url,
  publicKeyToBase64url,
} from '../../lib/signing/keys.js';
import {
  componentIdFromString,
  signatureBase,
  signRequest,
  verifyRequestSignature,
  type HttpRequestParts,
  type VerifyOptions,
} from '../../lib/signing/rfc9421.js';

// ------------------------------------------------------------------------------------------------
// RFC 9421 test vectors.

/** RFC 9421 Appendix B.1.4 "Example Ed25519 Test Key" (test-key-ed25519), PKCS#8 and SPKI PEM. */
const RFC_ED25519_PRIVATE_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
`;
const RFC_ED25519_PUBLIC_PEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
`;
/** The same key's JWK "x" (Appendix B.1.4). */
const RFC_ED25519_X = 'JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs';

/**
 * RFC 9421 Appendix B.2 "test-request":
 *   POST /foo?param=Value&Pet=dog HTTP/1.1
 *   Host: example.com
 *   Date: Tue, 20 Apr 2021 02:07:55 GMT
 *   Content-Type: application/json
 *   Content-Digest: sha-512=:WZDPaVn/...==:
 *   Content-Length: 18
 *
 *   {"hello": "world"}
 */
const RFC_BODY = Buffer.from('{"hello": "world"}');
const RFC_REQUEST: HttpRequestParts = {
  method: 'POST',
  path: '/foo',
  query: 'param=Value&Pet=dog',
  authority: 'example.com',
  scheme: 'https',
  headers: {
    host: 'example.com',
    date: 'Tue, 20 Apr 2021 02:07:55 GMT',
    'content-type': 'application/json',
    'content-digest':
      'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
    'content-length': '18',
  },
};

/**
 * RFC 9421 Appendix B.2.6 "Signing a Request Using ed25519" (label sig-b26). The RFC prints these
 * with RFC 8792 line wrapping; the values here are unwrapped.
 */
const B26_CREATED = 1618884473;
const B26_SIGNATURE_INPUT =
  'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';
const B26_SIGNATURE =
  'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:';
const B26_BASE = [
  '"date": Tue, 20 Apr 2021 02:07:55 GMT',
  '"@method": POST',
  '"@path": /foo',
  '"@authority": example.com',
  '"content-type": application/json',
  '"content-length": 18',
  '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
].join('\n');
const B26_COMPONENTS = ['date', '@method', '@path', '@authority', 'content-type', 'content-length'];

// ------------------------------------------------------------------------------------------------
// Helpers

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof SignatureError) return err.code;
    throw err;
  }
  return 'resolved';
}

async function errorOf(p: Promise<unknown>): Promise<SignatureError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SignatureError) return err;
    throw err;
  }
  throw new Error('expected a SignatureError');
}

const PROFILE = ['@method', '@path', 'content-digest', 'content-type', 'idempotency-key'];
const SENSOR = 'sensor-0001';
const sensorKeys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
const NOW_S = 1_760_000_000;
const NOW_MS = NOW_S * 1000 + 250;

function batchRequest(body: Uint8Array): HttpRequestParts {
  return {
    method: 'POST',
    path: '/v1/batches',
    query: '',
    authority: 'ingest.alertgraph.test',
    scheme: 'https',
    headers: {
      'content-type': 'application/json',
      'content-digest': contentDigestHeader(body),
      'idempotency-key': '01J9Z8Q4ZK3M2N5P6R7S8T9V0W',
      'content-length': String(body.byteLength),
    },
  };
}

/** Signs per the project profile and returns the request with Signature headers set. */
function signed(
  body: Uint8Array,
  over: Partial<Parameters<typeof signRequest>[1]> = {},
  req: HttpRequestParts = batchRequest(body),
): HttpRequestParts {
  const h = signRequest(req, {
    keyId: SENSOR,
    privateKey: sensorKeys.privateKey,
    created: NOW_S,
    components: PROFILE,
    ...over,
  });
  return { ...req, headers: { ...req.headers, ...h } };
}

function opts(over: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    keyLookup: (id) => {
      if (id === SENSOR) return sensorKeys.publicKey;
      throw new SignatureError('unknown_sensor', `Unknown sensor ${id}`);
    },
    now: NOW_MS,
    requiredComponents: PROFILE,
    ...over,
  };
}

const BODY = Buffer.from('{"alerts":[{"sid":2100498,"ts":"2025-10-09T08:53:20Z"}]}');

// ------------------------------------------------------------------------------------------------

describe('RFC 9421 Appendix B.2.6 (Ed25519)', () => {
  const rfcPrivate = createPrivateKey(RFC_ED25519_PRIVATE_PEM);
  const rfcPublic = createPublicKey(RFC_ED25519_PUBLIC_PEM);
  const withSig: HttpRequestParts = {
    ...RFC_REQUEST,
    headers: { ...RFC_REQUEST.headers, 'signature-input': B26_SIGNATURE_INPUT, signature: B26_SIGNATURE },
  };

  it('the B.1.4 private and public keys belong together', () => {
    expect(publicKeyToBase64url(rfcPrivate)).toBe(RFC_ED25519_X);
    expect(publicKeyToBase64url(publicKeyFromBase64url(RFC_ED25519_PUBLIC_PEM))).toBe(RFC_ED25519_X);
  });

  it('the B.2 request body matches its sha-512 Content-Digest', () => {
    expect(() => checkContentDigest(RFC_REQUEST.headers['content-digest'], RFC_BODY)).not.toThrow();
  });

  it('builds the signature base byte for byte', () => {
    const params =
      '("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';
    expect(signatureBase(RFC_REQUEST, B26_COMPONENTS.map(componentIdFromString), params)).toBe(B26_BASE);
  });

  it('verifies the published signature', async () => {
    const v = await verifyRequestSignature(withSig, {
      keyLookup: (id) => {
        expect(id).toBe('test-key-ed25519');
        return rfcPublic;
      },
      now: B26_CREATED * 1000,
      requiredComponents: [],
    });
    expect(v).toEqual({
      label: 'sig-b26',
      keyId: 'test-key-ed25519',
      created: B26_CREATED,
      components: B26_COMPONENTS,
    });
  });

  it('fails once anything covered changes', async () => {
    const tampered = { ...withSig, headers: { ...withSig.headers, 'content-length': '19' } };
    expect(
      await codeOf(verifyRequestSignature(tampered, { keyLookup: () => rfcPublic, now: B26_CREATED * 1000 })),
    ).toBe('signature_invalid');
  });

  it('signRequest reproduces the published signature (Ed25519 is deterministic)', () => {
    const h = signRequest(RFC_REQUEST, {
      keyId: 'test-key-ed25519',
      privateKey: rfcPrivate,
      created: B26_CREATED,
      components: B26_COMPONENTS,
      label: 'sig-b26',
      alg: null,
    });
    expect(h['signature-input']).toBe(B26_SIGNATURE_INPUT);
    expect(h.signature).toBe(B26_SIGNATURE);
  });
});

describe('RFC 9421 derived components', () => {
  it('@query-param decodes and re-encodes per §2.2.8 (the RFC example)', () => {
    const req: HttpRequestParts = {
      method: 'GET',
      path: '/parameters',
      query: 'var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something',
      headers: {},
    };
    const ids = ['"@query-param";name="var"', '"@query-param";name="bar"', '"@query-param";name="fa%C3%A7ade%22%3A%20"'];
    const base = signatureBase(req, ids.map(componentIdFromString), '()');
    expect(base.split('\n')).toEqual([
      '"@query-param";name="var": this%20is%20a%20big%0Amultiline%20value',
      '"@query-param";name="bar": with%20plus%20whitespace',
      '"@query-param";name="fa%C3%A7ade%22%3A%20": something',
      '"@signature-params": ()',
    ]);
  });

  it('@query-param: empty value is empty; repeated or absent names are errors', async () => {
    const req: HttpRequestParts = { method: 'GET', path: '/p', query: 'qux=&a=1&a=2', headers: {} };
    expect(signatureBase(req, [componentIdFromString('"@query-param";name="qux"')], '()')).toBe(
      '"@query-param";name="qux": \n"@signature-params": ()',
    );
    expect(await codeOf(() => signatureBase(req, [componentIdFromString('"@query-param";name="a"')], '()'))).toBe(
      'signature_invalid',
    );
    expect(await codeOf(() => signatureBase(req, [componentIdFromString('"@query-param";name="zz"')], '()'))).toBe(
      'signature_invalid',
    );
  });

  it('@target-uri, @request-target, @query, @scheme, @authority (RFC 9421 §2.2)', () => {
    const req: HttpRequestParts = {
      method: 'POST',
      path: '/foo',
      query: 'param=Value&Pet=dog',
      authority: 'www.example.com:443',
      scheme: 'HTTPS',
      headers: {},
    };
    const names = ['@target-uri', '@request-target', '@query', '@scheme', '@authority', '@method'];
    expect(signatureBase(req, names.map(componentIdFromString), '()').split('\n').slice(0, -1)).toEqual([
      '"@target-uri": https://www.example.com/foo?param=Value&Pet=dog',
      '"@request-target": /foo?param=Value&Pet=dog',
      '"@query": ?param=Value&Pet=dog',
      '"@scheme": https',
      '"@authority": www.example.com',
      '"@method": POST',
    ]);
    const noQuery = { ...req, query: '' };
    expect(signatureBase(noQuery, [componentIdFromString('@query')], '()')).toBe('"@query": ?\n"@signature-params": ()');
  });

  it('header values are trimmed; ;key and ;sf re-serialize structured fields (RFC 9421 §2.1.1, §2.1.2)', () => {
    const req: HttpRequestParts = {
      method: 'GET',
      path: '/',
      headers: { 'x-plain': '  padded value\t', 'content-digest': 'sha-256=:AAAA:,   sha-512=:AQID:;p' },
    };
    const ids = ['x-plain', '"content-digest";sf', '"content-digest";key="sha-512"'].map(componentIdFromString);
    expect(signatureBase(req, ids, '()').split('\n').slice(0, -1)).toEqual([
      '"x-plain": padded value',
      '"content-digest";sf: sha-256=:AAAA:, sha-512=:AQID:;p',
      '"content-digest";key="sha-512": :AQID:;p',
    ]);
  });

  it('rejects unsupported or unknown component parameters and names', async () => {
    for (const spec of ['"content-type";bs', '"content-type";req', '"@method";sf', '"@query-param"', '@status', '@nope', 'Content-Type', '@signature-params']) {
      expect(await codeOf(() => componentIdFromString(spec)), spec).toBe('signature_invalid');
    }
  });

  it('header names that collide with Object.prototype are just missing headers', async () => {
    const req: HttpRequestParts = { method: 'GET', path: '/', headers: {} };
    for (const name of ['constructor', '__proto__', 'tostring']) {
      expect(await codeOf(() => signatureBase(req, [componentIdFromString(name)], '()')), name).toBe('signature_invalid');
    }
  });

  it('@authority falls back to the Host header', () => {
    const req: HttpRequestParts = { method: 'GET', path: '/', scheme: 'http', headers: { host: 'Example.COM:80' } };
    expect(signatureBase(req, [componentIdFromString('@authority')], '()')).toBe(
      '"@authority": example.com\n"@signature-params": ()',
    );
  });

  it('refuses values that could inject lines into the base', async () => {
    const req: HttpRequestParts = { method: 'GET', path: '/', headers: { 'x-evil': 'a\n"@method": GET' } };
    expect(await codeOf(() => signatureBase(req, [componentIdFromString('x-evil')], '()'))).toBe('signature_invalid');
  });
});

describe('verifyRequestSignature with the project profile', () => {
  it('round-trips sig1 with created, keyid and alg', async () => {
    const req = signed(BODY);
    expect(req.headers['signature-input']).toBe(
      `sig1=("@method" "@path" "content-digest" "content-type" "idempotency-key");created=${NOW_S};keyid="${SENSOR}";alg="ed25519"`,
    );
    const v = await verifyRequestSignature(req, opts({ body: BODY }));
    expect(v).toEqual({ label: 'sig1', keyId: SENSOR, created: NOW_S, alg: 'ed25519', components: PROFILE });
    // The digest check on its own accepts the body too.
    expect(() => checkContentDigest(req.headers['content-digest'], BODY)).not.toThrow();
  });

  it('accepts exactly the allowed skew and a future expiry', async () => {
    expect(await codeOf(verifyRequestSignature(signed(BODY, { created: NOW_S - 300 }), opts({ now: NOW_S * 1000 })))).toBe(
      'resolved',
    );
    expect(await codeOf(verifyRequestSignature(signed(BODY, { created: NOW_S + 300 }), opts({ now: NOW_S * 1000 })))).toBe(
      'resolved',
    );
    expect(await codeOf(verifyRequestSignature(signed(BODY, { expires: NOW_S + 60 }), opts()))).toBe('resolved');
  });

  it('picks the requested label among several', async () => {
    const a = signed(BODY, { label: 'first', keyId: 'nobody' });
    const b = signed(BODY, { label: 'second' });
    const req = {
      ...a,
      headers: {
        ...a.headers,
        'signature-input': `${a.headers['signature-input']}, ${b.headers['signature-input']}`,
        signature: `${a.headers['signature']}, ${b.headers['signature']}`,
      },
    };
    expect((await verifyRequestSignature(req, opts({ label: 'second' }))).label).toBe('second');
    // The default is the first label, whose keyid is unknown.
    expect(await codeOf(verifyRequestSignature(req, opts()))).toBe('unknown_sensor');
  });

  it('altered signature bytes → signature_invalid', async () => {
    const req = signed(BODY);
    const sig = Buffer.from(/:([^:]+):/.exec(req.headers['signature']!)![1]!, 'base64');
    sig[10] = sig[10]! ^ 0x01;
    req.headers['signature'] = `sig1=:${sig.toString('base64')}:`;
    expect(await codeOf(verifyRequestSignature(req, opts()))).toBe('signature_invalid');
  });

  it('body changed after signing → digest_mismatch', async () => {
    const req = signed(BODY);
    const changed = Buffer.from(BODY.toString().replace('2100498', '2100499'));
    // The signature still holds (it covers the header, not the body)...
    expect(await codeOf(verifyRequestSignature(req, opts()))).toBe('resolved');
    // ...the digest binds the body: checked separately or through opts.body.
    expect(await codeOf(() => checkContentDigest(req.headers['content-digest'], changed))).toBe('digest_mismatch');
    expect(await codeOf(verifyRequestSignature(req, opts({ body: changed })))).toBe('digest_mismatch');
  });

  it('covered header changed after signing → signature_invalid', async () => {
    const req = signed(BODY);
    req.headers['content-type'] = 'text/plain';
    expect(await codeOf(verifyRequestSignature(req, opts()))).toBe('signature_invalid');
    const req2 = signed(BODY);
    req2.headers['idempotency-key'] = 'another-key';
    expect(await codeOf(verifyRequestSignature(req2, opts()))).toBe('signature_invalid');
    const req3 = { ...signed(BODY), path: '/v1/other' };
    expect(await codeOf(verifyRequestSignature(req3, opts()))).toBe('signature_invalid');
  });

  it('missing Signature or Signature-Input → signature_invalid', async () => {
    const req = signed(BODY);
    const noSig = { ...req, headers: { ...req.headers, signature: undefined } };
    const noInput = { ...req, headers: { ...req.headers, 'signature-input': undefined } };
    const e1 = await errorOf(verifyRequestSignature(noSig, opts()));
    expect(e1.code).toBe('signature_invalid');
    expect(e1.message).toMatch(/Signature header is required/);
    const e2 = await errorOf(verifyRequestSignature(noInput, opts()));
    expect(e2.code).toBe('signature_invalid');
    expect(e2.message).toMatch(/Signature-Input header is required/);
  });

  it('label mismatch between Signature-Input and Signature → signature_invalid', async () => {
    const req = signed(BODY);
    req.headers['signature'] = req.headers['signature']!.replace(/^sig1=/, 'sig2=');
    const e = await errorOf(verifyRequestSignature(req, opts()));
    expect(e.code).toBe('signature_invalid');
    expect(e.message).toMatch(/labels in Signature-Input and Signature must match/);
    // An explicitly requested label that is absent.
    expect(await codeOf(verifyRequestSignature(signed(BODY), opts({ label: 'other' })))).toBe('signature_invalid');
  });

  it('created too old or too far in the future → stale_signature', async () => {
    const now = NOW_S * 1000;
    const old = await errorOf(verifyRequestSignature(signed(BODY, { created: NOW_S - 301 }), opts({ now })));
    expect(old.code).toBe('stale_signature');
    expect(old.message).toMatch(/301 s ago/);
    const future = await errorOf(verifyRequestSignature(signed(BODY, { created: NOW_S + 301 }), opts({ now })));
    expect(future.code).toBe('stale_signature');
    expect(future.message).toMatch(/in the future/);
    // A custom window.
    expect(
      await codeOf(verifyRequestSignature(signed(BODY, { created: NOW_S - 31 }), opts({ now, maxSkewSeconds: 30 }))),
    ).toBe('stale_signature');
  });

  it('expires in the past → stale_signature', async () => {
    const req = signed(BODY, { expires: NOW_S - 1 });
    expect(await codeOf(verifyRequestSignature(req, opts()))).toBe('stale_signature');
  });

  it('expires before created → signature_invalid, even while both are in the window (issue 11 item 8)', async () => {
    const req = signed(BODY, { created: NOW_S + 100, expires: NOW_S + 50 });
    const e = await errorOf(verifyRequestSignature(req, opts()));
    expect(e.code).toBe('signature_invalid');
    expect(e.message).toMatch(/expires .* before .*created/);
    // Equal is a zero-length validity: refused too.
    expect(await codeOf(verifyRequestSignature(signed(BODY, { created: NOW_S + 10, expires: NOW_S + 10 }), opts()))).toBe('signature_invalid');
  });

  it('missing created → signature_invalid unless not required', async () => {
    const req = signed(BODY);
    req.headers['signature-input'] = req.headers['signature-input']!.replace(/;created=\d+/, '');
    expect(await codeOf(verifyRequestSignature(req, opts()))).toBe('signature_invalid');
    // Not required: the params line differs from what was signed, so it still cannot verify.
    expect(await codeOf(verifyRequestSignature(req, opts({ requireCreated: false })))).toBe('signature_invalid');
  });

  it('idempotency-key not covered → signature_invalid naming the header', async () => {
    const req = signed(BODY, { components: ['@method', '@path', 'content-digest', 'content-type'] });
    const e = await errorOf(verifyRequestSignature(req, opts()));
    expect(e.code).toBe('signature_invalid');
    expect(e.message).toBe('Idempotency-Key is not covered by the signature');
    expect(e.details).toMatchObject({ missingComponent: 'idempotency-key' });
  });

  it('unsupported alg → signature_invalid', async () => {
    const req = signed(BODY);
    req.headers['signature-input'] = req.headers['signature-input']!.replace('alg="ed25519"', 'alg="rsa-pss-sha512"');
    const e = await errorOf(verifyRequestSignature(req, opts()));
    expect(e.code).toBe('signature_invalid');
    expect(e.message).toMatch(/rsa-pss-sha512/);
  });

  it('keyLookup throwing unknown_sensor / sensor_revoked propagates', async () => {
    expect(await codeOf(verifyRequestSignature(signed(BODY, { keyId: 'sensor-9999' }), opts()))).toBe('unknown_sensor');
    const revoked = opts({
      keyLookup: () => {
        throw new SignatureError('sensor_revoked', 'Sensor was revoked');
      },
    });
    expect(await codeOf(verifyRequestSignature(signed(BODY), revoked))).toBe('sensor_revoked');
    const asyncUnknown = opts({ keyLookup: async () => Promise.reject(new SignatureError('unknown_sensor', 'no')) });
    expect(await codeOf(verifyRequestSignature(signed(BODY), asyncUnknown))).toBe('unknown_sensor');
  });

  it("another sensor's key → signature_invalid", async () => {
    const req = signed(BODY, {}, batchRequest(BODY));
    expect(await codeOf(verifyRequestSignature(req, opts({ keyLookup: () => otherKeys.publicKey })))).toBe(
      'signature_invalid',
    );
    // Signed by the other sensor's private key but claiming this sensor's keyid.
    const forged = signed(BODY, { privateKey: otherKeys.privateKey });
    expect(await codeOf(verifyRequestSignature(forged, opts()))).toBe('signature_invalid');
  });

  it('a non-Ed25519 key from keyLookup → signature_invalid', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(await codeOf(verifyRequestSignature(signed(BODY), opts({ keyLookup: () => publicKey })))).toBe(
      'signature_invalid',
    );
  });

  it('malformed Signature-Input or Signature syntax → signature_invalid, not a crash', async () => {
    const good = signed(BODY);
    const inputs = [
      'sig1=("@method" "@path"',
      'sig1=("@method""@path");created=1',
      'SIG1=("@method")',
      'sig1=("@method");created=1,',
      'sig1=(@method);created=1',
      'sig1=("@method");created=1.5;keyid="x"',
      'sig1=("@method");created="1";keyid="x"',
      'sig1=("@method");created=1;keyid=x',
      'sig1="@method";created=1;keyid="x"',
      'sig1=(1 2);created=1;keyid="x"',
      'sig1=("@method");created=1;keyid="\\x"',
      '',
      '   ',
      '\u00e9',
    ];
    for (const input of inputs) {
      const req = { ...good, headers: { ...good.headers, 'signature-input': input } };
      expect(await codeOf(verifyRequestSignature(req, opts({ requiredComponents: [] }))), input).toBe('signature_invalid');
    }
    for (const sig of ['sig1=:not base64:', 'sig1=abc', 'sig1=:AAAA:', 'sig1=("a")', 'sig1=:AAAA']) {
      const req = { ...good, headers: { ...good.headers, signature: sig } };
      expect(await codeOf(verifyRequestSignature(req, opts())), sig).toBe('signature_invalid');
    }
  });

  it('covered component missing from the request → signature_invalid', async () => {
    const req = signed(BODY);
    delete req.headers['idempotency-key'];
    const e = await errorOf(verifyRequestSignature(req, opts()));
    expect(e.code).toBe('signature_invalid');
    expect(e.message).toMatch(/no Idempotency-Key header/);
    // A derived component the request cannot provide.
    const noScheme = signed(BODY, { components: [...PROFILE, '@target-uri'] });
    delete noScheme.scheme;
    expect(await codeOf(verifyRequestSignature(noScheme, opts()))).toBe('signature_invalid');
  });

  it('duplicated component → signature_invalid (also refused when signing)', async () => {
    const req = signed(BODY);
    req.headers['signature-input'] = req.headers['signature-input']!.replace('("@method"', '("@method" "@method"');
    const e = await errorOf(verifyRequestSignature(req, opts()));
    expect(e.code).toBe('signature_invalid');
    expect(e.message).toMatch(/more than once/);
    expect(await codeOf(() => signed(BODY, { components: [...PROFILE, 'content-type'] }))).toBe('signature_invalid');
  });

  it('missing keyid → signature_invalid', async () => {
    const req = signed(BODY);
    req.headers['signature-input'] = req.headers['signature-input']!.replace(/;keyid="[^"]*"/, '');
    expect(await codeOf(verifyRequestSignature(req, opts()))).toBe('signature_invalid');
  });

  it('error messages never carry key material', async () => {
    const req = signed(BODY);
    req.headers['content-type'] = 'text/plain';
    const e = await errorOf(verifyRequestSignature(req, opts()));
    const pub = publicKeyToBase64url(sensorKeys.publicKey);
    expect(e.message).not.toContain(pub);
    expect(JSON.stringify(e.details)).not.toContain(pub);
  });

});

describe('content digest (RFC 9530)', () => {
  it('produces sha-256 in the RFC 9530 format', () => {
    // RFC 9530 §2 example body {"hello": "world"} and its sha-256.
    expect(contentDigestHeader(RFC_BODY)).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
  });

  it('accepts sha-256, sha-512, and either alongside unknown algorithms', () => {
    expect(() => checkContentDigest(contentDigestHeader(BODY), BODY)).not.toThrow();
    expect(() => checkContentDigest(`md5=:AAAA:, ${contentDigestHeader(RFC_BODY)}`, RFC_BODY)).not.toThrow();
    expect(() => checkContentDigest(RFC_REQUEST.headers['content-digest'], RFC_BODY)).not.toThrow();
  });

  it('rejects missing, malformed, unsupported-only and mismatching digests', async () => {
    const missing = await codeOf(() => checkContentDigest(undefined, BODY));
    expect(missing).toBe('digest_mismatch');
    try {
      checkContentDigest(undefined, BODY);
    } catch (e) {
      expect((e as Error).message).toBe('Content-Digest header is required');
    }
    for (const h of ['', 'sha-256', 'sha-256=abc', 'sha-256=:@@:', 'md5=:AAAA:', 'sha-256="x"']) {
      expect(await codeOf(() => checkContentDigest(h, BODY)), h).toBe('digest_mismatch');
    }
    expect(await codeOf(() => checkContentDigest(contentDigestHeader(BODY), Buffer.from('other')))).toBe('digest_mismatch');
    // Truncated digest: length differs.
    expect(await codeOf(() => checkContentDigest('sha-256=:AAAA:', BODY))).toBe('digest_mismatch');
    // Every supported digest present must match, not just one of them.
    const mixed = `${contentDigestHeader(BODY)}, sha-512=:${Buffer.alloc(64).toString('base64')}:`;
    expect(await codeOf(() => checkContentDigest(mixed, BODY))).toBe('digest_mismatch');
  });
});

describe('keys', () => {
  it('round-trips a generated key pair and signs/verifies with it', async () => {
    const pair = generateSensorKeyPair();
    expect(pair.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const priv: KeyObject = privateKeyFromPem(pair.privateKeyPem);
    const pub = publicKeyFromBase64url(pair.publicKey);
    expect(publicKeyToBase64url(pub)).toBe(pair.publicKey);
    const req = batchRequest(BODY);
    const h = signRequest(req, { keyId: 'k', privateKey: priv, created: NOW_S, components: PROFILE });
    const v = await verifyRequestSignature({ ...req, headers: { ...req.headers, ...h } }, opts({ keyLookup: () => pub }));
    expect(v.keyId).toBe('k');
  });

  it('accepts the RFC key as raw base64url, as standard base64 and as PEM', () => {
    expect(publicKeyFromBase64url(RFC_ED25519_X).asymmetricKeyType).toBe('ed25519');
    expect(publicKeyToBase64url(publicKeyFromBase64url(RFC_ED25519_PUBLIC_PEM))).toBe(RFC_ED25519_X);
    const standard = Buffer.from(RFC_ED25519_X, 'base64url').toString('base64'); // 'JrQLj5P/89iX…0bs='
    expect(standard).toMatch(/[+/=]/);
    expect(publicKeyToBase64url(publicKeyFromBase64url(standard))).toBe(RFC_ED25519_X);
  });

  it('rejects wrong lengths, encodings and key types with clear plain errors', () => {
    expect(() => publicKeyFromBase64url('abc')).toThrow(/43 base64url characters/);
    expect(() => publicKeyFromBase64url(`${RFC_ED25519_X}=`)).toThrow(/43 base64url characters/);
    expect(() => publicKeyFromBase64url(RFC_ED25519_X.replace('_', '/'))).toThrow(/base64url/);
    // Last character with stray low bits is not canonical.
    expect(() => publicKeyFromBase64url(`${RFC_ED25519_X.slice(0, 42)}t`)).toThrow(/canonical/);
    const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' });
    expect(() => publicKeyFromBase64url(ecPem.toString())).toThrow(/expected Ed25519/);
    expect(() => publicKeyFromBase64url('-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----')).toThrow(/PEM/);
    expect(() => privateKeyFromPem('garbage')).toThrow(/could not be parsed/);
    expect(() => privateKeyFromPem('garbage')).not.toThrow(/garbage/);
  });
});
