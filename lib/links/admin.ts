/**
 * Partner administration (DESIGN §10): revoke a partner or one link, reinstate a partner, list issued links.
 *
 * Two places know about a revocation: the registry (partner status, link audit: what `partner list` and
 * `partner links` show) and, on a deployed stack, the edge's revocation list (the CloudFront KeyValueStore the
 * partner gate reads: what actually refuses requests). They cannot be written in one transaction, so the order
 * is chosen so that a failure between the two writes leaves the harmless state, and running the same command
 * again completes it (both writes are idempotent):
 *
 * - revoke (partner or link): edge first, then registry. A failure in between leaves links refused while the
 *   registry still shows them active: never "shown revoked while its links still work".
 * - reinstate: registry first, then edge. A failure in between leaves the partner shown active while its links
 *   are still refused (an operator sees the failure and retries; nobody gets in who should not). The other
 *   order could leave a partner shown revoked whose links work again.
 *
 * Locally there is no separate edge list (`edge` undefined): the local CDN reads the registry itself.
 */
import { linkRevocationEntry, revocationEntry } from './revocation.js';
import { LinkError, type LinkRecord, type PartnerProfile, type PartnerRegistry } from './partners.js';

/** Writes the edge revocation list (the KeyValueStore on AWS). Both calls are idempotent. */
export interface RevocationWriter {
  put(key: string, value: string): Promise<void>;
  /** Removes a key; a key that is not there is not an error. */
  remove(key: string): Promise<void>;
}

export interface AdminDeps {
  registry: PartnerRegistry;
  /** The edge revocation list; undefined on the local stack. */
  edge?: RevocationWriter;
}

async function partnerOrFail(registry: PartnerRegistry, partnerId: string): Promise<PartnerProfile> {
  const partner = await registry.getPartner(partnerId);
  if (!partner) throw new LinkError('unknown_partner', `no partner "${partnerId}" (see alertgraph partner list)`);
  return partner;
}

export interface PartnerRevocation {
  id: string;
  status: 'revoked';
  revokedAt: string;
}

/** Revokes a partner: every link of it is refused. Edge first (see the module comment). */
export async function revokePartner(deps: AdminDeps, partnerId: string, at: string): Promise<PartnerRevocation> {
  const partner = await partnerOrFail(deps.registry, partnerId);
  // A repeated revoke (e.g. the retry after a failure) keeps the first time, at the edge as in the registry.
  const revokedAt = partner.revokedAt ?? at;
  if (deps.edge) {
    const entry = revocationEntry(partnerId, revokedAt);
    await deps.edge.put(entry.key, entry.value);
  }
  if (!(await deps.registry.revokePartner(partnerId, revokedAt))) {
    throw new LinkError('unknown_partner', `no partner "${partnerId}"`);
  }
  return { id: partnerId, status: 'revoked', revokedAt };
}

export interface LinkRevocation {
  id: string;
  partner: string;
  revokedAt: string;
  revokedBy: string;
}

/** Revokes one link of a partner; the partner's other links keep working. Edge first. */
export async function revokeLink(deps: AdminDeps, partnerId: string, linkId: string, at: string, by: string): Promise<LinkRevocation> {
  await partnerOrFail(deps.registry, partnerId);
  const link = await deps.registry.findLink(partnerId, linkId);
  if (!link) {
    throw new LinkError('unknown_link', `partner ${partnerId} has no link "${linkId}" (see alertgraph partner links ${partnerId})`);
  }
  if (!link.linkInUrl) {
    throw new LinkError(
      'link_not_revocable',
      `link ${linkId} was issued before links carried their id, so it can only end with its partner ` +
        `(alertgraph partner revoke ${partnerId}) or when it expires (${link.expiresAt})`,
    );
  }
  const revokedAt = link.revokedAt ?? at;
  const revokedBy = link.revokedBy ?? by;
  if (deps.edge) {
    const entry = linkRevocationEntry(linkId, revokedAt);
    await deps.edge.put(entry.key, entry.value);
  }
  await deps.registry.revokeLink(link, revokedAt, revokedBy);
  return { id: linkId, partner: partnerId, revokedAt, revokedBy };
}

export interface PartnerReinstatement {
  id: string;
  status: 'active';
  /** False when the partner was active already (nothing changed but the edge list was cleaned again). */
  wasRevoked: boolean;
}

/** Makes a revoked partner active again. Links revoked one by one stay revoked. Registry first. */
export async function reinstatePartner(deps: AdminDeps, partnerId: string, at: string): Promise<PartnerReinstatement> {
  const partner = await partnerOrFail(deps.registry, partnerId);
  if (!(await deps.registry.reinstatePartner(partnerId, at))) {
    throw new LinkError('unknown_partner', `no partner "${partnerId}"`);
  }
  // Removed even when the registry said active already: that is the retry after a failed removal.
  if (deps.edge) await deps.edge.remove(revocationEntry(partnerId, at).key);
  return { id: partnerId, status: 'active', wasRevoked: partner.status === 'revoked' };
}

/** One issued link as `partner links` shows it (DESIGN §10: id, partner, issuer, issued, expires, revoked). */
export interface IssuedLinkView {
  id: string;
  partner: string;
  issuer: string;
  issued: string;
  expires: string;
  /** Refused now because of a revocation: of this link, or of its partner. */
  revoked: boolean;
  /** What revoked it: the link itself, its partner, or both; null when not revoked. */
  revokedBy: 'link' | 'partner' | 'link+partner' | null;
  /** When this one link was revoked (a partner's revocation time is in `partner list`). */
  linkRevokedAt: string | null;
  expired: boolean;
  path: string;
  /** Whether the link can be revoked on its own (its URL carries its id). */
  revocable: boolean;
}

export function linkView(link: LinkRecord, partner: PartnerProfile | undefined, now: number): IssuedLinkView {
  const byLink = link.revokedAt !== undefined;
  const byPartner = partner?.status === 'revoked';
  return {
    id: link.linkId,
    partner: link.partnerId,
    issuer: link.issuer,
    issued: link.issuedAt,
    expires: link.expiresAt,
    revoked: byLink || byPartner,
    revokedBy: byLink && byPartner ? 'link+partner' : byLink ? 'link' : byPartner ? 'partner' : null,
    linkRevokedAt: link.revokedAt ?? null,
    expired: Date.parse(link.expiresAt) <= now,
    path: link.path,
    revocable: link.linkInUrl === true,
  };
}

/** The issued links of one partner (unknown id → unknown_partner), or of every partner; oldest first per partner. */
export async function listIssuedLinks(registry: PartnerRegistry, partnerId: string | undefined, now: number): Promise<IssuedLinkView[]> {
  const partners = partnerId === undefined ? await registry.listPartners() : [await partnerOrFail(registry, partnerId)];
  const perPartner = await Promise.all(partners.map(async (p) => (await registry.listLinks(p.id)).map((l) => linkView(l, p, now))));
  return perPartner.flat();
}
