/**
 * Partner links: signing and CloudFront-equivalent verification, the gate rule (the CloudFront Function's
 * own source, run in Node), the smuggling attack, and the partner page's asset signing.
 */
import vm from 'node:vm';
import { createPublicKey, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { describe, expect, it } from 'vitest';
import {
  cdnOrigin,
  fromCloudFrontBase64,
  generateLinkKeyPair,
  issuePartnerUrl,
  partnerPolicy,
  partnerResource,
  toCloudFrontBase64,
  verifyCloudFrontUrl,
  verifySignedRequest,
  wildcardMatch,
} from '../../lib/links/signed-url.js';
import {
  cfRequestFrom,
  checkPartnerRequest,
  decideGate,
  loadPartnerGate,
  partnerGateSource,
  type CfRequest,
  type CfResponse,
  type GateResult,
} from '../../lib/links/revocation.js';
import { partnerPageHeadTags, signedAsset, signedAssetScript } from '../../lib/links/partner-page.js';
import { ID_PATTERN } from '../../lib/store/table.js';

const HOST = 'https://d111111abcdef8.cloudfront.net';
const NOW = Date.parse('2026-11-21T10:00:00Z');
const HOUR = 3_600_000;
const keyA = generateLinkKeyPair();
const keyB = generateLinkKeyPair();
const keys = new Map<string, KeyObject | string>([
  ['KA', keyA.publicKeyPem],
  ['KB', createPublicKey(keyB.publicKeyPem)],
]);

/** A fixed link id per partner, so that expectations can name it. */
const LINK_IDS: Record<string, string> = {
  'cert-eu': 'c0ffee00-1111-4111-8111-111111111111',
  bob: '22222222-2222-4222-8222-222222222222',
};
const linkIdOf = (partnerId: string) => LINK_IDS[partnerId] ?? '99999999-9999-4999-8999-999999999999';

function link(partnerId: string, o: { path?: string; expiresAt?: Date; key?: 'KA' | 'KB'; signWith?: string; linkId?: string } = {}): string {
  return issuePartnerUrl({
    baseUrl: HOST,
    partnerId,
    linkId: o.linkId ?? linkIdOf(partnerId),
    path: o.path,
    expiresAt: o.expiresAt ?? new Date(NOW + HOUR),
    keyPairId: o.key ?? 'KA',
    privateKeyPem: o.signWith ?? (o.key === 'KB' ? keyB.privateKeyPem : keyA.privateKeyPem),
  });
}

const verifyAt = (url: string, now = NOW, sourceIp?: string) =>
  verifySignedRequest({ url: new URL(url), publicKeys: keys, now, sourceIp });

/** The signing parameters of a link, from `&Policy=` on. */
function sigOf(url: string): string {
  return url.slice(url.indexOf('&Policy='));
}

function replaceParam(url: string, name: string, value: string): string {
  return url.replace(new RegExp(`([?&]${name}=)[^&]*`), `$1${value}`);
}

describe('CloudFront-safe base64', () => {
  it('maps + = / to - _ ~ and back', () => {
    const bytes = Uint8Array.from([0xfb, 0xff, 0xbf]);
    expect(Buffer.from(bytes).toString('base64')).toBe('+/+/');
    expect(toCloudFrontBase64(bytes)).toBe('-~-~');
    expect(toCloudFrontBase64(Uint8Array.from([0xfb]))).toBe('-w__');
    expect(fromCloudFrontBase64('-w__')).toEqual(Buffer.from([0xfb]));
  });

  it('round-trips any bytes and never emits characters a query string would need to escape', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = toCloudFrontBase64(bytes);
        expect(text).toMatch(/^[A-Za-z0-9~_-]*$/);
        expect(fromCloudFrontBase64(text || 'A')?.length ?? -1).toBeGreaterThanOrEqual(0);
        if (text) expect(fromCloudFrontBase64(text)).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('refuses standard base64 and other characters', () => {
    for (const bad of ['ab+c', 'ab/c', 'abc=', 'a%2Bc', 'a b']) expect(fromCloudFrontBase64(bad)).toBeUndefined();
  });
});

describe('issuePartnerUrl', () => {
  it('gives the page URL with partner and link first, then the custom policy, key id and signature', () => {
    const url = new URL(link('cert-eu', { expiresAt: new Date(NOW + HOUR + 999) }));
    expect(url.origin + url.pathname).toBe(`${HOST}/partners/index.html`);
    expect([...url.searchParams.keys()]).toEqual(['partner', 'link', 'Policy', 'Key-Pair-Id', 'Signature']);
    expect(url.searchParams.get('partner')).toBe('cert-eu');
    expect(url.searchParams.get('link')).toBe(LINK_IDS['cert-eu']);
    const policy = fromCloudFrontBase64(url.searchParams.get('Policy')!)!.toString();
    // Whole seconds, no whitespace, one statement over the partner's area, for this link only.
    expect(policy).toBe(
      `{"Statement":[{"Resource":"${HOST}/partners/*?partner=cert-eu&link=${LINK_IDS['cert-eu']}","Condition":{"DateLessThan":{"AWS:EpochTime":${(NOW + HOUR) / 1000}}}}]}`,
    );
    expect(policy).toBe(partnerPolicy(partnerResource(HOST, 'cert-eu', LINK_IDS['cert-eu']), new Date(NOW + HOUR)));
  });

  it('refuses a link id that is not a lower-case UUID (it would not pass the gate)', () => {
    for (const linkId of ['', 'x', LINK_IDS['cert-eu']!.toUpperCase(), `${LINK_IDS['cert-eu']}&partner=bob`]) {
      expect(() => link('cert-eu', { linkId }), linkId).toThrow(/link id/);
    }
  });

  it('refuses ids, paths and base URLs that would make an unusable or wider link', () => {
    expect(() => link('Bad_ID')).toThrow(/partner id/);
    expect(() => link('a&x=1')).toThrow(/partner id/);
    for (const path of ['public/index.html', 'raw/x', 'partners/../raw/x', 'partners/', 'partners/a%2e', '/partners/index.html', 'partners/a?x=1']) {
      expect(() => link('cert-eu', { path }), path).toThrow(/link path/);
    }
    expect(() => cdnOrigin('https://cdn.example/sub')).toThrow();
    expect(() => cdnOrigin('https://cdn.example/?q=1')).toThrow();
    expect(cdnOrigin('http://127.0.0.1:8787/')).toBe('http://127.0.0.1:8787');
  });
});

describe('verifySignedRequest', () => {
  it('accepts the link, and the same signature on every object of the partner area', () => {
    const url = link('cert-eu');
    const exp = NOW + HOUR;
    const linkId = LINK_IDS['cert-eu'];
    expect(verifyAt(url)).toEqual({ ok: true, partnerId: 'cert-eu', linkId, expiresAt: exp });
    for (const path of ['top-ports.png', 'data/partner-daily.csv']) {
      expect(verifyAt(url.replace('index.html', path))).toEqual({ ok: true, partnerId: 'cert-eu', linkId, expiresAt: exp });
    }
  });

  it('the link id is signed: dropping, changing or moving it breaks the link; links without one still verify', () => {
    const url = link('cert-eu');
    const id = LINK_IDS['cert-eu']!;
    expect(verifyAt(url.replace(`&link=${id}`, ''))).toEqual({ ok: false, reason: 'not_covered' });
    expect(verifyAt(url.replace(`link=${id}`, `link=${LINK_IDS.bob}`))).toEqual({ ok: false, reason: 'not_covered' });
    expect(verifyAt(url.replace(`partner=cert-eu&link=${id}`, `link=${id}&partner=cert-eu`))).toEqual({ ok: false, reason: 'not_covered' });
    expect(verifyAt(url.replace(`&link=${id}`, `&link=${id}&link=${LINK_IDS.bob}`))).toEqual({ ok: false, reason: 'ambiguous_query' });
    // A link issued before links carried their id: Resource ".../partners/*?partner=<id>", no link parameter.
    const legacy = getSignedUrl({
      url: `${HOST}/partners/index.html?partner=cert-eu`,
      policy: partnerPolicy(partnerResource(HOST, 'cert-eu'), new Date(NOW + HOUR)),
      keyPairId: 'KA',
      privateKey: keyA.privateKeyPem,
    });
    expect(verifyAt(legacy)).toEqual({ ok: true, partnerId: 'cert-eu', expiresAt: NOW + HOUR });
  });

  it('accepts a link signed with the second key of the group', () => {
    expect(verifyAt(link('cert-eu', { key: 'KB' }))).toMatchObject({ ok: true });
  });

  it('tampered policy or signature → bad_signature (or malformed when not even base64)', () => {
    const url = link('cert-eu');
    const longer = toCloudFrontBase64(partnerPolicy(`${HOST}/partners/*?partner=cert-eu`, new Date(NOW + 1000 * HOUR)));
    expect(verifyAt(replaceParam(url, 'Policy', longer))).toEqual({ ok: false, reason: 'bad_signature' });
    const wider = toCloudFrontBase64(partnerPolicy(`${HOST}/*`, new Date(NOW + HOUR)));
    expect(verifyAt(replaceParam(url, 'Policy', wider))).toEqual({ ok: false, reason: 'bad_signature' });
    const sig = new URL(url).searchParams.get('Signature')!;
    const flipped = (sig[5] === 'A' ? 'B' : 'A');
    expect(verifyAt(replaceParam(url, 'Signature', sig.slice(0, 5) + flipped + sig.slice(6)))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAt(replaceParam(url, 'Signature', 'abc%2Bdef'))).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyAt(replaceParam(url, 'Policy', 'e30%3D'))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('changed partner, path outside partners/, or another host → not_covered', () => {
    const url = link('cert-eu');
    expect(verifyAt(replaceParam(url, 'partner', 'cert-us'))).toEqual({ ok: false, reason: 'not_covered' });
    expect(verifyAt(url.replace('/partners/index.html', '/public/index.html'))).toEqual({ ok: false, reason: 'not_covered' });
    expect(verifyAt(url.replace('/partners/index.html', '/raw/2026-11-21/s1/k.ndjson.gz'))).toEqual({ ok: false, reason: 'not_covered' });
    expect(verifyAt(url.replace(HOST, 'https://evil.example'))).toEqual({ ok: false, reason: 'not_covered' });
    expect(verifyAt(url.replace('https:', 'http:'))).toEqual({ ok: false, reason: 'not_covered' });
    // An extra parameter after partner no longer ends in "partner=<id>".
    expect(verifyAt(url.replace('partner=cert-eu', 'partner=cert-eu&x=1'))).toEqual({ ok: false, reason: 'not_covered' });
  });

  it('expires at DateLessThan, to the second', () => {
    const url = link('cert-eu');
    expect(verifyAt(url, NOW + HOUR - 1)).toMatchObject({ ok: true });
    expect(verifyAt(url, NOW + HOUR)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyAt(url, NOW + 2 * HOUR)).toEqual({ ok: false, reason: 'expired' });
  });

  it('another key: wrong key for the id → bad_signature; id not in the group → unknown_key', () => {
    expect(verifyAt(link('cert-eu', { key: 'KA', signWith: keyB.privateKeyPem }))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAt(replaceParam(link('cert-eu'), 'Key-Pair-Id', 'KZ'))).toEqual({ ok: false, reason: 'unknown_key' });
    const stranger = generateLinkKeyPair();
    expect(verifyAt(link('cert-eu', { key: 'KA', signWith: stranger.privateKeyPem }))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('missing or repeated signing parameters', () => {
    const url = link('cert-eu');
    for (const name of ['Policy', 'Signature', 'Key-Pair-Id', 'partner']) {
      expect(verifyAt(url.replace(new RegExp(`[?&]${name}=[^&]*`), (m) => (m.startsWith('?') ? '?x=' : ''))), name).toEqual({
        ok: false,
        reason: 'missing',
      });
    }
    expect(verifyAt(`${url}&Signature=abc`)).toEqual({ ok: false, reason: 'ambiguous_query' });
    expect(verifyAt(`${url}&Expires=${(NOW + HOUR) / 1000}`)).toEqual({ ok: false, reason: 'ambiguous_query' });
    expect(verifyAt(url.replace('?partner=cert-eu', '?partner=cert-eu&partner=cert-eu'))).toEqual({ ok: false, reason: 'ambiguous_query' });
  });

  it('canned policies (Expires=) made by the AWS signer verify, and bind the exact URL', () => {
    const target = `${HOST}/partners/index.html?partner=cert-eu`;
    const canned = getSignedUrl({ url: target, keyPairId: 'KA', privateKey: keyA.privateKeyPem, dateLessThan: new Date(NOW + HOUR) });
    expect(canned).toContain('&Expires=');
    expect(canned).not.toContain('Policy=');
    expect(verifyAt(canned)).toEqual({ ok: true, partnerId: 'cert-eu', expiresAt: NOW + HOUR });
    expect(verifyAt(canned, NOW + HOUR)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyAt(canned.replace('index.html', 'top-ports.png'))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAt(replaceParam(canned, 'Expires', String((NOW + 2 * HOUR) / 1000)))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAt(replaceParam(canned, 'Expires', '12x'))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('SHA-256 signatures (Hash-Algorithm=SHA256) verify; dropping the parameter breaks them', () => {
    const url = issuePartnerUrl({ baseUrl: HOST, partnerId: 'cert-eu', linkId: LINK_IDS['cert-eu']!, expiresAt: new Date(NOW + HOUR), keyPairId: 'KA', privateKeyPem: keyA.privateKeyPem, algorithm: 'SHA256' });
    expect(url).toContain('&Hash-Algorithm=SHA256');
    expect(verifyAt(url)).toMatchObject({ ok: true, partnerId: 'cert-eu' });
    expect(verifyAt(url.replace('&Hash-Algorithm=SHA256', ''))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAt(url.replace('SHA256', 'MD5'))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('DateGreaterThan and IpAddress conditions, as in policies made by the AWS signer', () => {
    const target = `${HOST}/partners/index.html?partner=cert-eu`;
    const windowed = getSignedUrl({
      url: target,
      keyPairId: 'KA',
      privateKey: keyA.privateKeyPem,
      dateLessThan: new Date(NOW + 2 * HOUR),
      dateGreaterThan: new Date(NOW + HOUR),
      ipAddress: '192.0.2.0/24',
    });
    expect(verifyAt(windowed, NOW, '192.0.2.7')).toEqual({ ok: false, reason: 'not_yet_valid' });
    expect(verifyAt(windowed, NOW + HOUR + 1000, '192.0.2.7')).toMatchObject({ ok: true });
    expect(verifyAt(windowed, NOW + HOUR + 1000, '::ffff:192.0.2.200')).toMatchObject({ ok: true });
    expect(verifyAt(windowed, NOW + HOUR + 1000, '198.51.100.7')).toEqual({ ok: false, reason: 'not_covered' });
    expect(verifyAt(windowed, NOW + HOUR + 1000, '2001:db8::1')).toEqual({ ok: false, reason: 'not_covered' });
    expect(verifyAt(windowed, NOW + HOUR + 1000)).toEqual({ ok: false, reason: 'not_covered' });
  });

  it('a signed policy that is not one well-formed statement → malformed', () => {
    const signed = (policy: string) => getSignedUrl({ url: `${HOST}/partners/index.html?partner=cert-eu`, policy, keyPairId: 'KA', privateKey: keyA.privateKeyPem });
    const stmt = (cond: unknown) => ({ Resource: `${HOST}/partners/*`, Condition: cond });
    for (const policy of [
      'not json',
      JSON.stringify({ Statement: [] }),
      JSON.stringify({ Statement: [stmt({ DateLessThan: { 'AWS:EpochTime': NOW / 1000 + 10 } }), stmt({ DateLessThan: { 'AWS:EpochTime': NOW / 1000 + 10 } })] }),
      JSON.stringify({ Statement: [stmt({})] }),
      JSON.stringify({ Statement: [stmt({ DateLessThan: { 'AWS:EpochTime': String(NOW / 1000 + 10) } })] }),
    ]) {
      expect(verifyAt(signed(policy)), policy).toEqual({ ok: false, reason: 'malformed' });
    }
  });
});

describe('wildcardMatch (CloudFront Resource wildcards)', () => {
  it('follows the developer guide example', () => {
    const p = 'http://d111111abcdef8.cloudfront.net/*game_download.zip*';
    expect(wildcardMatch(p, 'http://d111111abcdef8.cloudfront.net/game_download.zip')).toBe(true);
    expect(wildcardMatch(p, 'http://d111111abcdef8.cloudfront.net/example_game_download.zip?license=yes')).toBe(true);
    expect(wildcardMatch(p, 'http://d111111abcdef8.cloudfront.net/test_game_download.zip?license=temp')).toBe(true);
    expect(wildcardMatch(p, 'http://d111111abcdef8.cloudfront.net/game_download.tar')).toBe(false);
  });

  it('? is exactly one character, * any run; the rest is literal and case-sensitive', () => {
    expect(wildcardMatch('a?c', 'abc')).toBe(true);
    expect(wildcardMatch('a?c', 'ac')).toBe(false);
    expect(wildcardMatch('a*', 'a')).toBe(true);
    expect(wildcardMatch('*', '')).toBe(true);
    expect(wildcardMatch('A', 'a')).toBe(false);
    expect(wildcardMatch('x/*?partner=b', 'x/index.html?partner=a&x=?partner=b')).toBe(true);
    expect(wildcardMatch('*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
  });

  it('agrees with a regular-expression reading on random inputs', () => {
    const toRegex = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]')}$`);
    const alpha = fc.constantFrom('a', 'b', '?', '*', '&', '=');
    fc.assert(
      fc.property(fc.array(alpha, { maxLength: 8 }), fc.array(fc.constantFrom('a', 'b', '?', '&', '='), { maxLength: 10 }), (p, t) => {
        const pattern = p.join('');
        const text = t.join('');
        expect(wildcardMatch(pattern, text)).toBe(toRegex(pattern).test(text));
      }),
    );
  });
});

// --- The gate rule -------------------------------------------------------------------------------------------

/** Runs the CloudFront Function's handler on a request target, with a KeyValueStore holding `revoked`. */
async function runHandler(target: string, revoked: ReadonlySet<string>, failKvs = false): Promise<CfRequest | CfResponse> {
  const gate = loadPartnerGate({
    exists: async (key) => {
      if (failKvs) throw new Error('KVS down');
      return revoked.has(key);
    },
  });
  return gate.handler({
    version: '1.0',
    context: { eventType: 'viewer-request', distributionDomainName: 'd111111abcdef8.cloudfront.net' },
    viewer: { ip: '192.0.2.1' },
    request: cfRequestFrom(target),
  });
}

/** What CloudFront would do with the handler's answer, in GateResult terms. */
function asGateResult(out: CfRequest | CfResponse): GateResult | { ok: true; uri: string } {
  if ('statusCode' in out) {
    return { ok: false, status: out.statusCode as 403 | 404 | 503, reason: out.headers?.['x-alertgraph-gate']?.value as never };
  }
  return { ok: true, uri: out.uri };
}

describe('the CloudFront Function source', () => {
  const source = partnerGateSource();

  it('starts with the cloudfront import, fits the 10 KB limit, and uses no syntax the 2.0 runtime lacks', () => {
    expect(source.split('\n')[0]).toBe("import cf from 'cloudfront';");
    expect(Buffer.byteLength(source)).toBeLessThan(10_240);
    const code = source.replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/\bfor\s*\([^)]*\bof\b/); // for-of
    expect(code).not.toMatch(/\.\.\./); // spread / rest
    expect(code).not.toMatch(/\b(?:const|let|var)\s*[[{]/); // destructuring
    expect(code).not.toMatch(/\bclass\s|\brequire\s*\(|\bexport\s|\bnew URL\b|\bBuffer\b|\bprocess\b/);
    expect(code).toMatch(/^async function handler\(event\)/m);
  });

  it('uses the same partner id pattern as the table', () => {
    const m = /const PARTNER_ID = \/(.+)\/;/.exec(source);
    expect(m?.[1]).toBe(ID_PATTERN.source);
  });

  it('fails closed when the KeyValueStore cannot be read', async () => {
    const url = link('cert-eu');
    const out = await runHandler(url.slice(HOST.length), new Set(), true);
    expect(asGateResult(out)).toEqual({ ok: false, status: 503, reason: 'revocation_list_unavailable' });
  });
});

describe('checkPartnerRequest and the CloudFront Function agree', () => {
  const good = link('cert-eu').slice(HOST.length);
  const bob = link('bob').slice(HOST.length);
  const sig = sigOf(good);
  const cannedSig = `&Expires=${(NOW + HOUR) / 1000}&Signature=abc~_-&Key-Pair-Id=KA`;
  const cases: [string, Partial<GateResult> & { key?: string }][] = [
    ['/', { ok: true, area: 'public', key: 'public/index.html' }],
    ['/public/alerts-daily.png', { ok: true, area: 'public', key: 'public/alerts-daily.png' }],
    ['/public/archive/2026-11-20/alerts-daily.png?v=3&x', { ok: true, area: 'public' }],
    ['/public/', { ok: false, status: 404 }],
    ['/public', { ok: false, status: 404 }],
    ['/raw/2026-11-21/s1/k.ndjson.gz', { ok: false, status: 404 }],
    ['/public/../raw/x', { ok: false, status: 404 }],
    ['/public/%2e%2e/raw/x', { ok: false, status: 404 }],
    ['/public/%2E%2E/raw/x', { ok: false, status: 404 }],
    ['/public/..%2fraw/x', { ok: false, status: 404 }],
    ['/public//raw/x', { ok: false, status: 404 }],
    ['/public/./index.html', { ok: false, status: 404 }],
    ['/public/.hidden', { ok: false, status: 404 }],
    ['/partners/../raw/x' + sig, { ok: false, status: 404 }],
    ['/partners/a\\..\\raw', { ok: false, status: 404 }],
    ['//public/index.html', { ok: false, status: 404 }],
    ['/PUBLIC/index.html', { ok: false, status: 404 }],
    ['/v1/batches', { ok: false, status: 404 }],
    [good, { ok: true, area: 'partners', key: 'partners/index.html', partnerId: 'cert-eu' }],
    [good.replace('index.html', 'top-ports.png'), { ok: true, area: 'partners', key: 'partners/top-ports.png', partnerId: 'cert-eu' }],
    [bob, { ok: false, status: 403, reason: 'revoked' }],
    [`/partners/index.html?partner=cert-eu${cannedSig}`, { ok: true, area: 'partners', partnerId: 'cert-eu' }],
    [`${good}&Hash-Algorithm=SHA256`, { ok: true, area: 'partners', partnerId: 'cert-eu' }],
    ['/partners/index.html', { ok: false, status: 403, reason: 'missing' }],
    ['/partners/index.html?partner=cert-eu', { ok: false, status: 403, reason: 'missing' }],
    [`/partners/index.html?x=1${sig}`, { ok: false, status: 403, reason: 'ambiguous_query' }],
    [`/partners/index.html?partner=${sig}`, { ok: false, status: 403, reason: 'missing' }],
    [`${good}${cannedSig}`, { ok: false, status: 403, reason: 'ambiguous_query' }],
    [`${good}&Hash-Algorithm=MD5`, { ok: false, status: 403, reason: 'malformed' }],
    [`${good}&Signature=abc`, { ok: false, status: 403, reason: 'ambiguous_query' }],
    [good.replace('partner=cert-eu', 'partner=CERT-EU'), { ok: false, status: 403, reason: 'malformed' }],
    [good.replace('partner=cert-eu', 'partner=cert%2deu'), { ok: false, status: 403, reason: 'malformed' }],
    [good.replace('Key-Pair-Id=KA', 'Key-Pair-Id=K%41'), { ok: false, status: 403, reason: 'malformed' }],
    [good.replace('partner=cert-eu', 'Partner=cert-eu'), { ok: false, status: 403, reason: 'ambiguous_query' }],
    // The smuggling attack and its variants: a revoked partner (bob) reuses his signature with another id.
    ['/partners/index.html?partner=cert-eu&x=?partner=bob' + sigOf(bob), { ok: false, status: 403, reason: 'ambiguous_query' }],
    ['/partners/index.html?partner=cert-eu&partner=bob' + sigOf(bob), { ok: false, status: 403, reason: 'ambiguous_query' }],
    ['/partners/index.html?partner=bob&partner=cert-eu' + sigOf(bob), { ok: false, status: 403, reason: 'ambiguous_query' }],
    ['/partners/index.html?partner=cert-eu%26partner=bob' + sigOf(bob), { ok: false, status: 403, reason: 'malformed' }],
    ['/partners/index.html?partner=cert-eu;x=?partner=bob' + sigOf(bob), { ok: false, status: 403, reason: 'malformed' }],
    ['/partners/index.html?partner=cert-eu&&partner=bob' + sigOf(bob), { ok: false, status: 403, reason: 'ambiguous_query' }],
    ['/partners/index.html?partner=cert-eu&=?partner=bob' + sigOf(bob), { ok: false, status: 403, reason: 'ambiguous_query' }],
    ['/partners/index.html?partner=cert-eu&__proto__=?partner=bob' + sigOf(bob), { ok: false, status: 403, reason: 'ambiguous_query' }],
    ['/partners/index.html?partner=cert-eu&constructor=?partner=bob' + sigOf(bob), { ok: false, status: 403, reason: 'ambiguous_query' }],
    ['/partners/index.html?partner=cert-eu&toString=1' + sigOf(bob), { ok: false, status: 403, reason: 'ambiguous_query' }],
    ['/partners/index.html?partner=cert-eu' + sigOf(bob) + '&Expires=?partner=bob', { ok: false, status: 403 }],
    ['/partners/index.html?partner=cert-eu' + sigOf(bob).replace('&Key-Pair-Id=KA', '&Key-Pair-Id=KA?partner=bob'), { ok: false, status: 403, reason: 'malformed' }],
    ['/partners/partner=bob/index.html?partner=cert-eu' + sigOf(bob), { ok: false, status: 404 }],
  ];
  // Per-link revocation: the link id is read once, must be a lower-case UUID, and `link:<id>` refuses it.
  const revokedLink = link('cert-eu', { linkId: 'dead0000-0000-4000-8000-000000000000' }).slice(HOST.length);
  const legacy = getSignedUrl({
    url: `${HOST}/partners/index.html?partner=cert-eu`,
    policy: partnerPolicy(partnerResource(HOST, 'cert-eu'), new Date(NOW + HOUR)),
    keyPairId: 'KA',
    privateKey: keyA.privateKeyPem,
  }).slice(HOST.length);
  const goodLink = LINK_IDS['cert-eu']!;
  cases.push(
    [revokedLink, { ok: false, status: 403, reason: 'revoked' }],
    [good.replace(`link=${goodLink}`, 'link=dead0000-0000-4000-8000-000000000000'), { ok: false, status: 403, reason: 'revoked' }],
    [good, { ok: true, area: 'partners', partnerId: 'cert-eu', linkId: goodLink }],
    [legacy, { ok: true, area: 'partners', partnerId: 'cert-eu' }],
    [good.replace(`link=${goodLink}`, 'link='), { ok: false, status: 403, reason: 'missing' }],
    [good.replace(`link=${goodLink}`, `link=${goodLink.toUpperCase()}`), { ok: false, status: 403, reason: 'malformed' }],
    [good.replace(`link=${goodLink}`, `link=${goodLink}%26`), { ok: false, status: 403, reason: 'malformed' }],
    [good.replace(`link=${goodLink}`, `link=${goodLink}&link=${goodLink}`), { ok: false, status: 403, reason: 'ambiguous_query' }],
    [good.replace(`link=${goodLink}`, 'link=cert-eu'), { ok: false, status: 403, reason: 'malformed' }],
  );
  const revoked = new Set(['bob', 'link:dead0000-0000-4000-8000-000000000000']);

  it.each(cases)('%s', async (target, expected) => {
    const local = checkPartnerRequest(target, revoked);
    expect(local).toMatchObject(expected);
    // The same answer from the handler CloudFront runs, with a KeyValueStore holding the same list.
    const edge = asGateResult(await runHandler(target, revoked));
    if (local.ok) expect(edge).toEqual({ ok: true, uri: `/${local.key}` });
    else expect(edge).toEqual(local);
    // A predicate is as good as a set.
    expect(checkPartnerRequest(target, (id) => revoked.has(id))).toEqual(local);
  });

  it('reads a URL object as CloudFront reads the request (WHATWG has already resolved dot segments)', () => {
    expect(checkPartnerRequest(new URL(`${HOST}${good}`), revoked)).toMatchObject({ ok: true, partnerId: 'cert-eu' });
    expect(checkPartnerRequest(new URL(`${HOST}/public/../raw/x`), revoked)).toMatchObject({ ok: false, status: 404 });
    expect(cfRequestFrom('/p?a=1&a=2&b').querystring).toEqual({ a: { value: '1', multiValue: [{ value: '1' }, { value: '2' }] }, b: { value: '' } });
  });
});

describe('the smuggling attack, generally', () => {
  // Random query strings built from the pieces an attacker has: other ids, separators, wildcard characters,
  // encodings, and a real signature for "bob" (revoked). Whatever the shape, a request that passes both the
  // signature check and the gate is for the partner the signature names: never for anyone else.
  const bobUrl = link('bob');
  const bobSig = sigOf(bobUrl).slice(1).split('&');
  // CloudFront accepts bob's signature only on a query (minus signing parameters) that ends in
  // "partner=bob&link=<bob's link>", so the attacker's queries end so; before that, parameters and joints of
  // every kind, including other link ids (the attacker wants another, unrevoked link id read by the gate).
  const bobLink = LINK_IDS.bob!;
  const otherLink = LINK_IDS['cert-eu']!;
  const name = fc.constantFrom('partner', 'partner', 'link', 'link', 'x', 'Partner', '', '__proto__', 'Expires');
  const value = fc.constantFrom('cert-eu', 'bob', '', 'x', 'cert-eu%26', 'cert-eu;x=', '?', '*', otherLink, bobLink);
  const param = fc.tuple(name, value).map(([n, v]) => `${n}=${v}`);
  const joint = fc.constantFrom('&', '&x=?', '&x=', '?', '%26', ';', '', '&=', '&Partner=', '&partner=', '&link=');
  const query = fc.tuple(fc.array(param, { maxLength: 3 }), joint).map(([ps, j]) => `${ps.join('&')}${j}partner=bob&link=${bobLink}`);

  it('passing both checks means the signed partner', () => {
    let smuggled = 0;
    fc.assert(
      fc.property(query, fc.array(fc.nat(6), { minLength: 3, maxLength: 3 }), (q, at) => {
        const parts = q.split('&');
        // Put the three signing parameters anywhere among the attacker's parts.
        bobSig.forEach((p, i) => parts.splice(Math.min(at[i] ?? 0, parts.length), 0, p));
        const target = `/partners/index.html?${parts.join('&')}`;
        let url: URL;
        try {
          url = new URL(`${HOST}${target}`);
        } catch {
          return;
        }
        // What CloudFront decides (it knows nothing of partners), then what the gate decides.
        const cloudfront = verifyCloudFrontUrl({ url, publicKeys: keys, now: NOW });
        const gate = decideGate(url);
        const others = [
          ...url.searchParams.getAll('partner').filter((p) => p !== 'bob'),
          ...url.searchParams.getAll('link').filter((l) => l !== bobLink),
        ];
        if (cloudfront.ok && others.length > 0) smuggled++;
        if (cloudfront.ok && gate.ok) {
          expect(gate.area === 'partners' && [gate.partnerId, gate.linkId]).toEqual(['bob', bobLink]);
          // And the local CDN's verifier reads the same single partner and link.
          expect(verifySignedRequest({ url, publicKeys: keys, now: NOW })).toMatchObject({ ok: true, partnerId: 'bob', linkId: bobLink });
        }
      }),
      { numRuns: 3000 },
    );
    // The generator does find URLs that CloudFront's own check accepts for another id.
    expect(smuggled).toBeGreaterThan(0);
  });

  it('the CloudFront check alone is not enough: it accepts the smuggled URL for another partner', () => {
    const smuggled = bobUrl.replace('?partner=bob', '?partner=cert-eu&x=?partner=bob');
    expect(verifyAt(smuggled)).toEqual({ ok: true, partnerId: 'cert-eu', linkId: LINK_IDS.bob, expiresAt: NOW + HOUR });
    expect(checkPartnerRequest(new URL(smuggled), new Set(['bob']))).toEqual({ ok: false, status: 403, reason: 'ambiguous_query' });
    // The same for a revoked link: another link id before bob's own passes CloudFront, not the gate.
    const otherLink = bobUrl.replace('?partner=bob&', `?link=${LINK_IDS['cert-eu']}&x=?partner=bob&`);
    expect(verifyCloudFrontUrl({ url: new URL(otherLink), publicKeys: keys, now: NOW })).toMatchObject({ ok: true });
    expect(checkPartnerRequest(new URL(otherLink), new Set([`link:${LINK_IDS.bob}`]))).toEqual({ ok: false, status: 403, reason: 'ambiguous_query' });
  });
});

describe('partner page asset signing', () => {
  it('copies the page query string onto every marked src and href', () => {
    const html = signedAssetScript();
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(html).toContain('<noscript>');
    const el = (attrs: Record<string, string>) => ({
      attrs: { ...attrs },
      getAttribute(n: string) {
        return this.attrs[n] ?? null;
      },
      setAttribute(n: string, v: string) {
        this.attrs[n] = v;
      },
    });
    const img = el({ 'data-signed-src': 'top-ports.png' });
    const a = el({ 'data-signed-href': 'partner-daily.csv' });
    const q = '?partner=cert-eu&Policy=abc&Key-Pair-Id=KA&Signature=x~_-';
    vm.runInNewContext(script!, {
      window: { location: { search: q } },
      document: { readyState: 'complete', querySelectorAll: () => [img, a], addEventListener: () => undefined },
    });
    expect(img.attrs.src).toBe(`top-ports.png${q}`);
    expect(a.attrs.href).toBe(`partner-daily.csv${q}`);
  });

  it('marks assets with plain relative paths only, and keeps the Referer off', () => {
    expect(signedAsset('src', 'top-ports.png')).toBe('data-signed-src="top-ports.png"');
    expect(() => signedAsset('src', '"><script>')).toThrow();
    expect(() => signedAsset('href', '../public/x.png')).toThrow();
    expect(() => signedAsset('href', 'https://evil.example/x')).toThrow();
    expect(partnerPageHeadTags()).toContain('no-referrer');
  });
});
