/** The partner registry and link audit on DynamoDB Local (items documented in lib/store/partners.ts). */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { issuePartnerLink } from '../../lib/links/partners.js';
import { DynamoPartnerRegistry, linksPk } from '../../lib/store/partners.js';
import { generateLinkKeyPair } from '../../lib/links/signed-url.js';
import { localDynamoClient } from '../../lib/local/aws-clients.js';
import { ensureTable } from '../../lib/local/provision.js';

const table = `partners-${randomUUID().slice(0, 8)}`;
const dynamo = localDynamoClient(inject('dynamoEndpoint'));
const registry = new DynamoPartnerRegistry(dynamo, table);
const key = generateLinkKeyPair();

beforeAll(async () => ensureTable(dynamo, table));
afterAll(async () => {
  await dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
});

describe('partner registry', () => {
  it('adds, gets and lists partners; an id is registered once', async () => {
    const p = await registry.addPartner({ id: 'cert-eu', name: 'CERT-EU' }, '2026-11-01T00:00:00.000Z');
    expect(p).toEqual({ id: 'cert-eu', name: 'CERT-EU', status: 'active', createdAt: '2026-11-01T00:00:00.000Z' });
    await registry.addPartner({ id: 'csirt-b' });
    expect(await registry.getPartner('cert-eu')).toEqual(p);
    expect(await registry.getPartner('nobody')).toBeUndefined();
    expect((await registry.listPartners()).map((x) => [x.id, x.name])).toEqual([
      ['cert-eu', 'CERT-EU'],
      ['csirt-b', 'csirt-b'],
    ]);
    await expect(registry.addPartner({ id: 'cert-eu', name: 'again' })).rejects.toMatchObject({ code: 'partner_exists' });
    await expect(registry.addPartner({ id: 'Not An Id' })).rejects.toMatchObject({ code: 'invalid_partner_id' });
    // The registry item sits where table.ts says partners are.
    const item = await dynamo.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'REGISTRY#PARTNER' }, sk: { S: 'cert-eu' } } }));
    expect(item.Item?.name?.S).toBe('CERT-EU');
  });

  it('revokes; revoking again keeps the first time, and re-adding does not lift it', async () => {
    await registry.addPartner({ id: 'team-r' });
    expect(await registry.revokePartner('team-r', '2026-11-02T00:00:00.000Z')).toBe(true);
    expect(await registry.revokePartner('team-r', '2026-11-03T00:00:00.000Z')).toBe(true);
    expect(await registry.getPartner('team-r')).toMatchObject({ status: 'revoked', revokedAt: '2026-11-02T00:00:00.000Z' });
    await expect(registry.addPartner({ id: 'team-r' })).rejects.toMatchObject({ code: 'partner_exists' });
    expect(await registry.getPartner('team-r')).toMatchObject({ status: 'revoked' });
    expect(await registry.revokePartner('nobody', '2026-11-02T00:00:00.000Z')).toBe(false);
    expect(await registry.getPartner('nobody')).toBeUndefined();
  });
});

describe('link audit', () => {
  it('records every issued link, oldest first, under LINKS#<partner> and without secrets', async () => {
    await registry.addPartner({ id: 'audited' });
    const t0 = Date.parse('2026-11-21T10:00:00Z');
    const issued = [];
    for (const [i, issuer] of ['ana', 'ben', 'ana'].entries()) {
      issued.push(
        await issuePartnerLink({
          registry,
          partnerId: 'audited',
          issuer,
          expiresAt: new Date(t0 + (i + 1) * 86_400_000),
          path: i === 2 ? 'partners/top-ports.png' : undefined,
          baseUrl: 'https://d111111abcdef8.cloudfront.net',
          keyPairId: 'K2EXAMPLE',
          privateKeyPem: key.privateKeyPem,
          now: t0 + i * 1000,
        }),
      );
    }
    const links = await registry.listLinks('audited');
    expect(links.map((l) => [l.issuer, l.issuedAt, l.expiresAt, l.path, l.linkId])).toEqual([
      ['ana', '2026-11-21T10:00:00.000Z', '2026-11-22T10:00:00.000Z', 'partners/index.html', issued[0]!.linkId],
      ['ben', '2026-11-21T10:00:01.000Z', '2026-11-23T10:00:00.000Z', 'partners/index.html', issued[1]!.linkId],
      ['ana', '2026-11-21T10:00:02.000Z', '2026-11-24T10:00:00.000Z', 'partners/top-ports.png', issued[2]!.linkId],
    ]);
    expect(links.every((l) => l.partnerId === 'audited' && l.keyPairId === 'K2EXAMPLE')).toBe(true);
    expect(await registry.listLinks('cert-eu')).toEqual([]);

    const rawItems = await dynamo.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: linksPk('audited') } } }),
    );
    expect(rawItems.Items?.[0]?.sk?.S).toBe(`2026-11-21T10:00:00.000Z#${issued[0]!.linkId}`);
    const stored = JSON.stringify(rawItems.Items);
    for (const link of issued) {
      const q = new URL(link.url).searchParams;
      expect(stored).not.toContain(q.get('Signature')!);
      expect(stored).not.toContain(q.get('Policy')!);
    }
    expect(stored).not.toContain('PRIVATE KEY');
  });

  it('refuses links for unknown and revoked partners and records nothing for them', async () => {
    await registry.addPartner({ id: 'team-gone' });
    await registry.revokePartner('team-gone', new Date().toISOString());
    const base = {
      registry,
      issuer: 'ana',
      expiresAt: new Date(Date.now() + 86_400_000),
      baseUrl: 'https://d111111abcdef8.cloudfront.net',
      keyPairId: 'K2EXAMPLE',
      privateKeyPem: key.privateKeyPem,
    };
    await expect(issuePartnerLink({ ...base, partnerId: 'nobody' })).rejects.toMatchObject({ code: 'unknown_partner' });
    await expect(issuePartnerLink({ ...base, partnerId: 'team-gone' })).rejects.toMatchObject({ code: 'partner_revoked' });
    expect(await registry.listLinks('nobody')).toEqual([]);
    expect(await registry.listLinks('team-gone')).toEqual([]);
  });
});
