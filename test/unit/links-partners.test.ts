/** issuePartnerLink's rules over an in-memory registry (the DynamoDB one is tested in test/integration/). */
import { describe, expect, it } from 'vitest';
import { issuePartnerLink, LinkError, MAX_LINK_LIFETIME_MS, type LinkRecord, type PartnerProfile, type PartnerRegistry } from '../../lib/links/partners.js';
import { generateLinkKeyPair, verifySignedRequest } from '../../lib/links/signed-url.js';

const NOW = Date.parse('2026-11-21T10:00:00Z');
const DAY = 86_400_000;
const key = generateLinkKeyPair();

function memoryRegistry(partners: PartnerProfile[]): PartnerRegistry & { links: LinkRecord[] } {
  const links: LinkRecord[] = [];
  return {
    links,
    addPartner: async () => {
      throw new Error('not used');
    },
    getPartner: async (id) => partners.find((p) => p.id === id),
    listPartners: async () => partners,
    revokePartner: async () => false,
    reinstatePartner: async () => false,
    recordLink: async (l) => {
      links.push(l);
    },
    listLinks: async (id) => links.filter((l) => l.partnerId === id),
    findLink: async (id, linkId) => links.find((l) => l.partnerId === id && l.linkId === linkId),
    revokeLink: async () => {
      throw new Error('not used');
    },
  };
}

const active: PartnerProfile = { id: 'cert-eu', name: 'CERT EU', status: 'active', createdAt: '2026-01-01T00:00:00.000Z' };
const revoked: PartnerProfile = { id: 'old-team', name: 'Old', status: 'revoked', createdAt: '2026-01-01T00:00:00.000Z', revokedAt: '2026-06-01T00:00:00.000Z' };

function issue(registry: PartnerRegistry, partnerId: string, expiresAt = new Date(NOW + 30 * DAY + 123)) {
  return issuePartnerLink({
    registry,
    partnerId,
    issuer: 'operator-ana',
    expiresAt,
    baseUrl: 'https://d111111abcdef8.cloudfront.net',
    keyPairId: 'K2EXAMPLE',
    privateKeyPem: key.privateKeyPem,
    now: NOW,
  });
}

describe('issuePartnerLink', () => {
  it('signs a link for an active partner and records who issued it, without any secret', async () => {
    const registry = memoryRegistry([active]);
    const out = await issue(registry, 'cert-eu');
    expect(out.expiresAt).toBe(new Date(NOW + 30 * DAY).toISOString());
    const verdict = verifySignedRequest({ url: new URL(out.url), publicKeys: new Map([['K2EXAMPLE', key.publicKeyPem]]), now: NOW });
    // The link id the audit records is the one signed into the URL.
    expect(verdict).toEqual({ ok: true, partnerId: 'cert-eu', linkId: out.linkId, expiresAt: NOW + 30 * DAY });
    expect(new URL(out.url).searchParams.get('link')).toBe(out.linkId);
    expect(registry.links).toEqual([
      {
        partnerId: 'cert-eu',
        linkId: out.linkId,
        issuer: 'operator-ana',
        issuedAt: new Date(NOW).toISOString(),
        expiresAt: out.expiresAt,
        path: 'partners/index.html',
        keyPairId: 'K2EXAMPLE',
        linkInUrl: true,
      },
    ]);
    const stored = JSON.stringify(registry.links);
    const sig = new URL(out.url).searchParams.get('Signature')!;
    expect(stored).not.toContain(sig);
    expect(stored).not.toContain('Policy');
    expect(stored).not.toContain('PRIVATE KEY');
  });

  it('refuses unknown and revoked partners, and records nothing', async () => {
    const registry = memoryRegistry([active, revoked]);
    await expect(issue(registry, 'nobody')).rejects.toMatchObject({ code: 'unknown_partner' });
    await expect(issue(registry, 'old-team')).rejects.toMatchObject({ code: 'partner_revoked' });
    await expect(issue(registry, 'old-team')).rejects.toBeInstanceOf(LinkError);
    expect(registry.links).toEqual([]);
  });

  it('refuses expiries in the past or beyond the maximum lifetime', async () => {
    const registry = memoryRegistry([active]);
    await expect(issue(registry, 'cert-eu', new Date(NOW))).rejects.toMatchObject({ code: 'invalid_expiry' });
    await expect(issue(registry, 'cert-eu', new Date(NOW + MAX_LINK_LIFETIME_MS + 1000))).rejects.toMatchObject({ code: 'invalid_expiry' });
    await expect(issue(registry, 'cert-eu', new Date(Number.NaN))).rejects.toMatchObject({ code: 'invalid_expiry' });
    expect(registry.links).toEqual([]);
  });
});
