/**
 * The local CDN over real HTTP (the local gateway on 127.0.0.1) and the shared s3rver, with partners and
 * links in DynamoDB Local: public objects, signed partner links, expiry, revocation, and paths that must never
 * reach an object outside public/ and partners/.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { issuePartnerLink, registryRevocations } from '../../lib/links/partners.js';
import { DynamoPartnerRegistry } from '../../lib/store/partners.js';
import { generateLinkKeyPair } from '../../lib/links/signed-url.js';
import { localDynamoClient, localS3Client } from '../../lib/local/aws-clients.js';
import { createLocalCdn } from '../../lib/local/cdn.js';
import { startGateway, type Gateway } from '../../lib/local/gateway.js';
import { ensureBucket, ensureTable } from '../../lib/local/provision.js';
import { silentLog } from '../../lib/log.js';
import { CACHE } from '../../lib/publish/layout.js';

const suffix = randomUUID().slice(0, 8);
const bucket = `cdn-${suffix}`;
const table = `cdn-${suffix}`;
const s3 = localS3Client(inject('s3Endpoint'));
const dynamo = localDynamoClient(inject('dynamoEndpoint'));
const registry = new DynamoPartnerRegistry(dynamo, table);
const key = generateLinkKeyPair();
const KEY_ID = 'KLOCALDEV';
const HOUR = 3_600_000;
const SECRET = 'raw alert batch: must never be served';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
let now = Date.now();
let gateway: Gateway;
let failing: Gateway;

async function put(Key: string, Body: string | Buffer, ContentType: string, CacheControl?: string) {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ContentType, CacheControl }));
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** An HTTP request with the path sent exactly as given: fetch() would resolve `..` and `%2e` first. */
function raw(path: string, o: { method?: string; headers?: Record<string, string>; base?: Gateway } = {}): Promise<RawResponse> {
  const g = o.base ?? gateway;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: g.port, path, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function linkFor(partnerId: string, expiresInMs = HOUR, base = gateway): Promise<string> {
  const out = await issuePartnerLink({
    registry,
    partnerId,
    issuer: 'test',
    expiresAt: new Date(now + expiresInMs),
    baseUrl: base.url,
    keyPairId: KEY_ID,
    privateKeyPem: key.privateKeyPem,
    now,
  });
  expect(out.url.startsWith(`${base.url}/partners/index.html?partner=${partnerId}&`)).toBe(true);
  return out.url.slice(base.url.length);
}

beforeAll(async () => {
  await ensureBucket(s3, bucket);
  await ensureTable(dynamo, table);
  await put('public/index.html', '<h1>alertgraph</h1>', 'text/html; charset=utf-8', CACHE.short);
  await put('public/alerts-daily.png', PNG, 'image/png', CACHE.short);
  await put('partners/index.html', '<h1>partners</h1>', 'text/html; charset=utf-8', CACHE.private);
  await put('partners/x.png', PNG, 'image/png', CACHE.private);
  await put('raw/secret', SECRET, 'text/plain');
  await put('secret', SECRET, 'text/plain');
  await registry.addPartner({ id: 'alice', name: 'Alice CERT' });
  await registry.addPartner({ id: 'bob', name: 'Bob CSIRT' });

  const cdnOptions = {
    s3,
    bucket,
    publicKeys: new Map([[KEY_ID, key.publicKeyPem]]),
    isRevoked: registryRevocations(registry),
    clock: () => now,
  };
  const api = async () => ({ statusCode: 200, body: 'api' });
  gateway = await startGateway({ port: 0, api, cdn: createLocalCdn(cdnOptions), log: silentLog });
  failing = await startGateway({
    port: 0,
    api,
    cdn: createLocalCdn({ ...cdnOptions, isRevoked: () => Promise.reject(new Error('registry down')) }),
    log: silentLog,
  });
});

afterAll(async () => {
  await gateway?.close();
  await failing?.close();
  await dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
});

describe('public objects', () => {
  it('/ is the public page', async () => {
    const res = await raw('/');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('<h1>alertgraph</h1>');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe(CACHE.short);
  });

  it('serves objects with their stored Content-Type and Cache-Control, and answers If-None-Match with 304', async () => {
    const res = await raw('/public/alerts-daily.png?embed=1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(PNG);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['cache-control']).toBe(CACHE.short);
    const etag = res.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    const again = await raw('/public/alerts-daily.png', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect((await raw('/public/alerts-daily.png', { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
  });

  it('HEAD gives the headers without the body; other methods are refused', async () => {
    const head = await raw('/public/index.html', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('19');
    expect(head.body.length).toBe(0);
    expect((await raw('/public/index.html', { method: 'POST' })).status).toBe(403);
    expect((await raw('/public/index.html', { method: 'DELETE' })).status).toBe(403);
  });

  it('404 for a missing object', async () => {
    const res = await raw('/public/nothing-here.png');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('the API paths still reach the API handler', async () => {
    expect((await raw('/healthz')).body.toString()).toBe('api');
  });
});

describe('partner links', () => {
  it('the page opens with a valid link, and its image with the same signature', async () => {
    const link = await linkFor('alice');
    const page = await raw(link);
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe('<h1>partners</h1>');
    expect(page.headers['cache-control']).toBe(CACHE.private);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const img = await raw(link.replace('/partners/index.html', '/partners/x.png'));
    expect(img.status).toBe(200);
    expect(img.body).toEqual(PNG);
    expect(img.headers['content-type']).toBe('image/png');
    expect((await raw(link.replace('/partners/index.html', '/partners/missing.png'))).status).toBe(404);
  });

  it('is refused without a link, or with a tampered one', async () => {
    const link = await linkFor('alice');
    const sig = new URLSearchParams(link.split('?')[1]).get('Signature')!;
    const cases = {
      none: '/partners/index.html',
      'partner only': '/partners/index.html?partner=alice',
      'other partner': link.replace('partner=alice', 'partner=bob'),
      signature: link.replace(sig, sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11)),
      policy: link.replace(/Policy=[^&]+/, 'Policy=eyJTdGF0ZW1lbnQiOltdfQ__'),
      'unknown key': link.replace(`Key-Pair-Id=${KEY_ID}`, 'Key-Pair-Id=KOTHER'),
      'extra parameter': `${link}&x=1`,
    };
    for (const [what, path] of Object.entries(cases)) {
      const res = await raw(path);
      expect(res.status, what).toBe(403);
      expect(res.headers['content-type'], what).toBe('text/plain; charset=utf-8');
      expect(res.body.toString(), what).not.toContain('partners</h1>');
    }
  });

  it('is refused once expired', async () => {
    const link = await linkFor('alice', 60_000);
    expect((await raw(link)).status).toBe(200);
    now += 60_000;
    try {
      const res = await raw(link);
      expect(res.status).toBe(403);
      expect(res.headers['x-alertgraph-gate']).toBe('expired');
    } finally {
      now -= 60_000;
    }
  });

  it('revoking one partner ends its links and only its links', async () => {
    const bobs = await linkFor('bob');
    const alices = await linkFor('alice');
    expect((await raw(bobs)).status).toBe(200);
    expect(await registry.revokePartner('bob', new Date(now).toISOString())).toBe(true);
    const res = await raw(bobs);
    expect(res.status).toBe(403);
    expect(res.headers['x-alertgraph-gate']).toBe('revoked');
    expect((await raw(bobs.replace('/partners/index.html', '/partners/x.png'))).status).toBe(403);
    expect((await raw(alices)).status).toBe(200);
    // Bob's signature cannot be passed off as Alice's: the smuggling attack, over HTTP.
    const smuggled = bobs.replace('?partner=bob', '?partner=alice&x=?partner=bob');
    expect((await raw(smuggled)).status).toBe(403);
    expect((await raw(bobs.replace('?partner=bob', '?partner=alice&partner=bob'))).status).toBe(403);
    await expect(linkFor('bob')).rejects.toMatchObject({ code: 'partner_revoked' });
  });

  it('fails closed when the revocation list cannot be read', async () => {
    const link = await linkFor('alice', HOUR, failing);
    const res = await raw(link, { base: failing });
    expect(res.status).toBe(503);
    // A link names its origin: on another port the same link is not covered.
    expect((await raw(link)).headers['x-alertgraph-gate']).toBe('not_covered');
    expect((await raw('/public/index.html', { base: failing })).status).toBe(200);
  });
});

describe('nothing outside public/ and partners/', () => {
  it('raw/, traversal and encodings never reach an object', async () => {
    const link = await linkFor('alice');
    const query = link.slice(link.indexOf('?'));
    const paths = [
      '/raw/secret',
      '/secret',
      '/public/../raw/secret',
      '/public/../secret',
      '/public/%2e%2e/raw/secret',
      '/public/%2E%2E/raw/secret',
      '/public/..%2fraw%2fsecret',
      '/public/%2e%2e%2fraw%2fsecret',
      '/public/.%2e/raw/secret',
      '/public//../raw/secret',
      '/public/..\\raw\\secret',
      '/public/%5c..%5craw%5csecret',
      '//raw/secret',
      '/./raw/secret',
      '/raw/secret?x=/public/',
      `/partners/../raw/secret${query}`,
      `/partners/%2e%2e/raw/secret${query}`,
      `/partners/..%2fsecret${query}`,
      '/public',
      '/partners',
      'http://127.0.0.1/raw/secret',
    ];
    for (const path of paths) {
      const res = await raw(path);
      expect(res.status, path).not.toBe(200);
      expect([403, 404], path).toContain(res.status);
      expect(res.body.toString(), path).not.toContain(SECRET);
    }
  });
});
