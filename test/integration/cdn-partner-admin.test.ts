/**
 * Partner administration (issue 11 item 11) with the registry and link audit in DynamoDB Local:
 * - through the local CDN over HTTP: revoke one link, revoke the partner, reinstate it, and what
 *   `partner links` shows at each step;
 * - the order of the two writes on a deployed stack (edge revocation list, registry), with a failure injected
 *   between them. There is no CloudFront KeyValueStore emulator, so the edge is an in-memory store behind the
 *   real writer (lib/admin/deployed-stack.ts, through a fake SDK client) and read by the real CloudFront Function source;
 *   the registry is DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listIssuedLinks, reinstatePartner, revokeLink, revokePartner, type RevocationWriter } from '../../lib/links/admin.js';
import { issuePartnerLink, registryRevocations } from '../../lib/links/partners.js';
import { DynamoPartnerRegistry } from '../../lib/store/partners.js';
import { cfRequestFrom, loadPartnerGate } from '../../lib/links/revocation.js';
import { generateLinkKeyPair, partnerPolicy, partnerResource, verifySignedRequest } from '../../lib/links/signed-url.js';
import type { AdminContext } from '../../lib/admin/context.js';
import { edgeRevocationWriter, type StackClients } from '../../lib/admin/deployed-stack.js';
import { localDynamoClient, localS3Client } from '../../lib/local/aws-clients.js';
import { createLocalCdn } from '../../lib/local/cdn.js';
import { startGateway, type Gateway } from '../../lib/local/gateway.js';
import { ensureBucket, ensureTable } from '../../lib/local/provision.js';
import { silentLog } from '../../lib/log.js';
import { CACHE } from '../../lib/publish/layout.js';

const suffix = randomUUID().slice(0, 8);
const bucket = `admin-${suffix}`;
const table = `admin-${suffix}`;
const s3 = localS3Client(inject('s3Endpoint'));
const dynamo = localDynamoClient(inject('dynamoEndpoint'));
const registry = new DynamoPartnerRegistry(dynamo, table);
const key = generateLinkKeyPair();
const KEY_ID = 'KLOCALDEV';
const HOUR = 3_600_000;
const now = Date.now();
let gateway: Gateway;

function get(path: string): Promise<{ status: number; reason: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gateway.port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: res.headers['x-alertgraph-gate'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function issue(partnerId: string, baseUrl = gateway.url): Promise<{ path: string; url: string; linkId: string }> {
  const out = await issuePartnerLink({
    registry,
    partnerId,
    issuer: 'ana',
    expiresAt: new Date(now + HOUR),
    baseUrl,
    keyPairId: KEY_ID,
    privateKeyPem: key.privateKeyPem,
    now,
  });
  return { path: out.url.slice(baseUrl.length), url: out.url, linkId: out.linkId };
}

const flags = async (partnerId?: string) =>
  Object.fromEntries((await listIssuedLinks(registry, partnerId, now)).map((l) => [l.id, [l.partner, l.revoked, l.revokedBy]]));

beforeAll(async () => {
  await ensureBucket(s3, bucket);
  await ensureTable(dynamo, table);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'partners/index.html', Body: '<h1>p</h1>', ContentType: 'text/html', CacheControl: CACHE.private }));
  const cdn = createLocalCdn({
    s3,
    bucket,
    publicKeys: new Map([[KEY_ID, key.publicKeyPem]]),
    isRevoked: registryRevocations(registry),
    clock: () => now,
  });
  gateway = await startGateway({ port: 0, api: async () => ({ statusCode: 200, body: 'api' }), cdn, log: silentLog });
});

afterAll(async () => {
  await gateway?.close();
  await dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
});

describe('partner administration through the local CDN', () => {
  it('one link revoked, then the partner, then the partner reinstated; partner links shows each state', async () => {
    await registry.addPartner({ id: 'carol', name: 'Carol CERT' });
    await registry.addPartner({ id: 'dave' });
    const first = await issue('carol');
    const second = await issue('carol');
    const daves = await issue('dave');
    expect(first.linkId).not.toBe(second.linkId);
    for (const l of [first, second, daves]) expect((await get(l.path)).status).toBe(200);
    expect(await flags('carol')).toEqual({ [first.linkId]: ['carol', false, null], [second.linkId]: ['carol', false, null] });

    // One link: that one 403, the other 200, the partner still active.
    const r1 = await revokeLink({ registry }, 'carol', first.linkId, new Date(now).toISOString(), 'ben');
    expect(r1).toMatchObject({ id: first.linkId, partner: 'carol', revokedBy: 'ben' });
    expect(await get(first.path)).toEqual({ status: 403, reason: 'revoked' });
    expect((await get(second.path)).status).toBe(200);
    expect((await registry.getPartner('carol'))?.status).toBe('active');
    expect(await flags('carol')).toEqual({ [first.linkId]: ['carol', true, 'link'], [second.linkId]: ['carol', false, null] });
    // The audit records who revoked it and when.
    expect(await registry.findLink('carol', first.linkId)).toMatchObject({ revokedAt: new Date(now).toISOString(), revokedBy: 'ben' });

    // The partner: both 403; another partner's link unaffected.
    await revokePartner({ registry }, 'carol', new Date(now + 1000).toISOString());
    expect(await get(first.path)).toEqual({ status: 403, reason: 'revoked' });
    expect(await get(second.path)).toEqual({ status: 403, reason: 'revoked' });
    expect((await get(daves.path)).status).toBe(200);
    expect(await flags('carol')).toEqual({ [first.linkId]: ['carol', true, 'link+partner'], [second.linkId]: ['carol', true, 'partner'] });

    // Reinstated: the link revoked on its own stays refused, the other works again.
    expect(await reinstatePartner({ registry }, 'carol', new Date(now + 2000).toISOString())).toEqual({ id: 'carol', status: 'active', wasRevoked: true });
    expect(await get(first.path)).toEqual({ status: 403, reason: 'revoked' });
    expect((await get(second.path)).status).toBe(200);
    expect(await registry.getPartner('carol')).toMatchObject({ status: 'active', reinstatedAt: new Date(now + 2000).toISOString() });
    expect((await registry.getPartner('carol'))?.revokedAt).toBeUndefined();
    expect(await flags('carol')).toEqual({ [first.linkId]: ['carol', true, 'link'], [second.linkId]: ['carol', false, null] });
    // All partners when no id: dave's link too.
    expect(await flags()).toMatchObject({ [daves.linkId]: ['dave', false, null], [second.linkId]: ['carol', false, null] });
    // Reinstating an active partner changes nothing.
    expect(await reinstatePartner({ registry }, 'carol', new Date(now + 3000).toISOString())).toMatchObject({ wasRevoked: false });
    expect((await registry.getPartner('carol'))?.reinstatedAt).toBe(new Date(now + 2000).toISOString());
  });

  it('the revoked link id cannot be dropped or swapped for another one over HTTP', async () => {
    await registry.addPartner({ id: 'erin' });
    const revoked = await issue('erin');
    const kept = await issue('erin');
    await revokeLink({ registry }, 'erin', revoked.linkId, new Date(now).toISOString(), 'ana');
    expect((await get(revoked.path.replace(`&link=${revoked.linkId}`, ''))).status).toBe(403);
    expect((await get(revoked.path.replace(revoked.linkId, kept.linkId))).status).toBe(403);
    expect((await get(revoked.path.replace(`partner=erin&link=${revoked.linkId}`, `link=${kept.linkId}&x=?partner=erin&link=${revoked.linkId}`))).status).toBe(403);
    expect((await get(kept.path)).status).toBe(200);
  });

  it('unknown partner or link, another partner\'s link, and links issued without an id are refused with their codes', async () => {
    await registry.addPartner({ id: 'frank' });
    await registry.addPartner({ id: 'gina' });
    const ginas = await issue('gina');
    const at = new Date(now).toISOString();
    await expect(revokeLink({ registry }, 'frank', randomUUID(), at, 'ana')).rejects.toMatchObject({ code: 'unknown_link' });
    await expect(revokeLink({ registry }, 'frank', ginas.linkId, at, 'ana')).rejects.toMatchObject({ code: 'unknown_link' });
    await expect(revokeLink({ registry }, 'nobody', ginas.linkId, at, 'ana')).rejects.toMatchObject({ code: 'unknown_partner' });
    await expect(revokePartner({ registry }, 'nobody', at)).rejects.toMatchObject({ code: 'unknown_partner' });
    await expect(reinstatePartner({ registry }, 'nobody', at)).rejects.toMatchObject({ code: 'unknown_partner' });
    await expect(listIssuedLinks(registry, 'nobody', now)).rejects.toMatchObject({ code: 'unknown_partner' });
    expect((await get(ginas.path)).status).toBe(200);

    // A link in the format issued before per-link revocation: still opens, cannot be revoked alone, ends with its partner.
    const legacyId = randomUUID();
    await registry.recordLink({ partnerId: 'frank', linkId: legacyId, issuer: 'ana', issuedAt: at, expiresAt: new Date(now + HOUR).toISOString(), path: 'partners/index.html' });
    const legacy = getSignedUrl({
      url: `${gateway.url}/partners/index.html?partner=frank`,
      policy: partnerPolicy(partnerResource(gateway.url, 'frank'), new Date(now + HOUR)),
      keyPairId: KEY_ID,
      privateKey: key.privateKeyPem,
    }).slice(gateway.url.length);
    expect((await get(legacy)).status).toBe(200);
    await expect(revokeLink({ registry }, 'frank', legacyId, at, 'ana')).rejects.toMatchObject({ code: 'link_not_revocable' });
    expect((await listIssuedLinks(registry, 'frank', now))[0]).toMatchObject({ id: legacyId, revocable: false, revoked: false });
    await revokePartner({ registry }, 'frank', at);
    expect(await get(legacy)).toEqual({ status: 403, reason: 'revoked' });
  });
});

// --- The order of the two writes on a deployed stack -----------------------------------------------------------

const KVS_ARN = 'arn:aws:cloudfront::123456789012:key-value-store/00000000-0000-4000-8000-000000000000';

/** An in-memory KeyValueStore behind the SDK's command names, with one injected failure on demand. */
function memoryKvs() {
  const entries = new Map<string, string>();
  let etag = 0;
  const failNext: { put?: boolean; delete?: boolean } = {};
  const client = {
    send: async (cmd: { constructor: { name: string }; input: { Key?: string; Value?: string; IfMatch?: string } }) => {
      const { name } = cmd.constructor;
      if (name === 'DescribeKeyValueStoreCommand') return { ETag: `E${etag}` };
      if (cmd.input.IfMatch !== `E${etag}`) throw Object.assign(new Error('etag'), { name: 'ConflictException' });
      const down = (what: 'put' | 'delete') => {
        if (!failNext[what]) return;
        failNext[what] = false;
        throw Object.assign(new Error('edge down'), { name: 'InternalServerException' });
      };
      if (name === 'PutKeyCommand') {
        down('put');
        entries.set(cmd.input.Key!, cmd.input.Value!);
      } else if (name === 'DeleteKeyCommand') {
        down('delete');
        if (!entries.delete(cmd.input.Key!)) throw Object.assign(new Error('no such key'), { name: 'ResourceNotFoundException' });
      } else {
        throw new Error(`unexpected ${name}`);
      }
      etag++;
      return { ETag: `E${etag}` };
    },
  };
  return { entries, failNext, client: client as unknown as NonNullable<StackClients['keyValueStore']> };
}

/** A registry on DynamoDB Local whose next write of the named kind fails: the injected failure between the writes. */
class FlakyRegistry extends DynamoPartnerRegistry {
  fail: 'revokePartner' | 'revokeLink' | 'reinstatePartner' | undefined;
  private check(what: NonNullable<FlakyRegistry['fail']>) {
    if (this.fail === what) {
      this.fail = undefined;
      throw new Error(`injected: ${what} failed`);
    }
  }
  override async revokePartner(id: string, at: string) {
    this.check('revokePartner');
    return super.revokePartner(id, at);
  }
  override async revokeLink(...args: Parameters<DynamoPartnerRegistry['revokeLink']>) {
    this.check('revokeLink');
    return super.revokeLink(...args);
  }
  override async reinstatePartner(id: string, at: string) {
    this.check('reinstatePartner');
    return super.reinstatePartner(id, at);
  }
}

describe('with --stack: the edge revocation list and the registry, in the order that fails safe', () => {
  const CDN = 'https://d111111abcdef8.cloudfront.net';
  const flaky = new FlakyRegistry(dynamo, table);
  const kvs = memoryKvs();
  let edge: RevocationWriter;
  // What a partner gets at the edge: CloudFront's signature check, then the partner gate with the KVS.
  const gate = loadPartnerGate({ exists: async (k) => kvs.entries.has(k) });
  const works = async (url: string) => {
    const signed = verifySignedRequest({ url: new URL(url), publicKeys: new Map([[KEY_ID, key.publicKeyPem]]), now });
    const out = await gate.handler({ version: '1.0', context: {}, viewer: { ip: '192.0.2.1' }, request: cfRequestFrom(new URL(url)) });
    return signed.ok && !('statusCode' in out);
  };
  /** The state a failure may leave: shown revoked in the registry while a link still works is the one never allowed. */
  const shown = async (partnerId: string, linkId: string) => {
    const view = (await listIssuedLinks(flaky, partnerId, now)).find((l) => l.id === linkId)!;
    return view.revoked;
  };

  beforeAll(async () => {
    const ctx = { stack: { revocationStoreArn: KVS_ARN } } as unknown as AdminContext;
    edge = (await edgeRevocationWriter(ctx, { keyValueStore: kvs.client, importer: async () => undefined }))!;
    await flaky.addPartner({ id: 'hal' });
  });

  it('revoke: the edge is written first; a registry failure leaves links refused, never shown revoked while working; a retry completes', async () => {
    const link = await issue('hal', CDN);
    expect(await works(link.url)).toBe(true);
    const t1 = new Date(now).toISOString();

    // Failure between the writes.
    flaky.fail = 'revokePartner';
    await expect(revokePartner({ registry: flaky, edge }, 'hal', t1)).rejects.toThrow('injected');
    expect(kvs.entries.get('hal')).toBe(t1);
    expect((await flaky.getPartner('hal'))?.status).toBe('active');
    expect(await works(link.url)).toBe(false);
    expect(await shown('hal', link.linkId)).toBe(false);

    // A failing edge write stops before the registry: shown active, and working, which is consistent.
    kvs.entries.delete('hal');
    kvs.failNext.put = true;
    await expect(revokePartner({ registry: flaky, edge }, 'hal', t1)).rejects.toThrow('edge down');
    expect((await flaky.getPartner('hal'))?.status).toBe('active');
    expect(await works(link.url)).toBe(true);

    // The retry completes both, with one revocation time.
    const done = await revokePartner({ registry: flaky, edge }, 'hal', t1);
    expect(done.revokedAt).toBe(t1);
    expect(await flaky.getPartner('hal')).toMatchObject({ status: 'revoked', revokedAt: t1 });
    expect(kvs.entries.get('hal')).toBe(t1);
    expect(await works(link.url)).toBe(false);
    expect(await shown('hal', link.linkId)).toBe(true);
    // A later repeat keeps the first time at the edge too.
    await revokePartner({ registry: flaky, edge }, 'hal', new Date(now + 5000).toISOString());
    expect(kvs.entries.get('hal')).toBe(t1);
  });

  it('reinstate: the registry is written first; an edge failure leaves the partner shown active while its links still fail; a retry completes', async () => {
    // hal is revoked (previous test); a link of it revoked on its own too, which must stay so.
    const t = new Date(now + 10_000).toISOString();
    await flaky.reinstatePartner('hal', t); // only to issue links; the edge still lists hal
    const keep = await issue('hal', CDN);
    const single = await issue('hal', CDN);
    await revokeLink({ registry: flaky, edge }, 'hal', single.linkId, t, 'ana');
    await revokePartner({ registry: flaky, edge }, 'hal', t);
    expect(await works(keep.url)).toBe(false);

    kvs.failNext.delete = true;
    await expect(reinstatePartner({ registry: flaky, edge }, 'hal', t)).rejects.toThrow('edge down');
    expect((await flaky.getPartner('hal'))?.status).toBe('active');
    expect(kvs.entries.has('hal')).toBe(true);
    expect(await works(keep.url)).toBe(false); // shown active while failing: the less harmful state

    // Retrying: the registry says active already, the edge entry goes.
    expect(await reinstatePartner({ registry: flaky, edge }, 'hal', t)).toMatchObject({ status: 'active', wasRevoked: false });
    expect(kvs.entries.has('hal')).toBe(false);
    expect(await works(keep.url)).toBe(true);
    expect(await works(single.url)).toBe(false);
    expect(kvs.entries.has(`link:${single.linkId}`)).toBe(true);
    expect(await shown('hal', single.linkId)).toBe(true);
    expect(await shown('hal', keep.linkId)).toBe(false);

    // A registry failure on reinstate leaves both as they were: still revoked and refused.
    await revokePartner({ registry: flaky, edge }, 'hal', t);
    flaky.fail = 'reinstatePartner';
    await expect(reinstatePartner({ registry: flaky, edge }, 'hal', t)).rejects.toThrow('injected');
    expect((await flaky.getPartner('hal'))?.status).toBe('revoked');
    expect(await works(keep.url)).toBe(false);
  });

  it('revoke --link: the edge first; a registry failure leaves the link refused but shown active; a retry completes', async () => {
    await reinstatePartner({ registry: flaky, edge }, 'hal', new Date(now).toISOString());
    const link = await issue('hal', CDN);
    flaky.fail = 'revokeLink';
    await expect(revokeLink({ registry: flaky, edge }, 'hal', link.linkId, new Date(now).toISOString(), 'ana')).rejects.toThrow('injected');
    expect(kvs.entries.has(`link:${link.linkId}`)).toBe(true);
    expect(await works(link.url)).toBe(false);
    expect(await shown('hal', link.linkId)).toBe(false);
    await revokeLink({ registry: flaky, edge }, 'hal', link.linkId, new Date(now + 1).toISOString(), 'ana');
    expect(await shown('hal', link.linkId)).toBe(true);
    expect(kvs.entries.get(`link:${link.linkId}`)).toBe(new Date(now + 1).toISOString());
  });
});
