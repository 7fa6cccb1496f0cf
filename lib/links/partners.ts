/**
 * Partners and their links (DESIGN §9): the registry's port (`PartnerRegistry`; its DynamoDB adapter is
 * lib/store/partners.ts, where the items are documented), the refusals, issuing a partner link and the local
 * revocation check read from the registry.
 */
import { randomUUID } from 'node:crypto';
import { PARTNER_INDEX } from '../publish/layout.js';
import { parseRevocationKey } from './revocation.js';
import { issuePartnerUrl, LINK_ID_PATTERN, type HashAlgorithm } from './signed-url.js';

/** Longest link lifetime: a link that outlives a year is more likely a typo than an intent. */
export const MAX_LINK_LIFETIME_MS = 366 * 86_400_000;

export type PartnerStatus = 'active' | 'revoked';

export interface PartnerProfile {
  id: string;
  name: string;
  status: PartnerStatus;
  createdAt: string;
  revokedAt?: string;
  /** When the partner was last made active again after a revocation. */
  reinstatedAt?: string;
}

export interface LinkRecord {
  partnerId: string;
  linkId: string;
  /** Free-text operator name (e.g. the OS user who ran `partner link`). */
  issuer: string;
  issuedAt: string;
  expiresAt: string;
  /** The object key the link opens. */
  path: string;
  /** Which CloudFront public key signed it: tells which links a key rotation ends. */
  keyPairId?: string;
  /** The URL carries the link id inside the signed part, so the link can be revoked on its own. */
  linkInUrl?: boolean;
  /** Set when this one link was revoked (the partner's status is separate). */
  revokedAt?: string;
  /** Who revoked this one link (free-text operator name). */
  revokedBy?: string;
}

export type LinkErrorCode =
  | 'unknown_partner'
  | 'partner_revoked'
  | 'partner_exists'
  | 'invalid_partner_id'
  | 'invalid_expiry'
  | 'unknown_link'
  | 'link_not_revocable';

/** A refusal to register a partner or issue a link; `code` is stable for the CLI and its --json output. */
export class LinkError extends Error {
  constructor(
    readonly code: LinkErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LinkError';
  }
}

export interface PartnerRegistry {
  addPartner(p: { id: string; name?: string }, at?: string): Promise<PartnerProfile>;
  getPartner(id: string): Promise<PartnerProfile | undefined>;
  listPartners(): Promise<PartnerProfile[]>;
  /** Returns false when there is no such partner. Revoking twice keeps the first revocation time. */
  revokePartner(id: string, at: string): Promise<boolean>;
  /** Makes a revoked partner active again; false when there is no such partner. Its links' own revocations stay. */
  reinstatePartner(id: string, at: string): Promise<boolean>;
  recordLink(link: LinkRecord): Promise<void>;
  /** A partner's links, oldest first. */
  listLinks(partnerId: string): Promise<LinkRecord[]>;
  /** One of a partner's links by its id; undefined when that partner issued no such link. */
  findLink(partnerId: string, linkId: string): Promise<LinkRecord | undefined>;
  /** Marks one recorded link revoked; revoking twice keeps the first time and operator. */
  revokeLink(link: Pick<LinkRecord, 'partnerId' | 'linkId' | 'issuedAt'>, at: string, by: string): Promise<void>;
}

export interface IssuePartnerLinkInput {
  registry: PartnerRegistry;
  partnerId: string;
  /** Operator name for the audit (free text, passed in by the CLI). */
  issuer: string;
  expiresAt: Date;
  path?: string;
  /** CDN origin the link points at (the distribution, or the local gateway). */
  baseUrl: string;
  keyPairId: string;
  privateKeyPem: string;
  algorithm?: HashAlgorithm;
  /** Epoch ms; defaults to the system clock. */
  now?: number;
}

export interface IssuedLink {
  url: string;
  expiresAt: string;
  linkId: string;
}

/**
 * Issues a signed link for an active partner and records it. The record is written before the URL is
 * returned, so no link exists that the audit does not show.
 */
export async function issuePartnerLink(input: IssuePartnerLinkInput): Promise<IssuedLink> {
  const now = input.now ?? Date.now();
  const expiresMs = input.expiresAt.getTime();
  if (Number.isNaN(expiresMs) || expiresMs <= now) throw new LinkError('invalid_expiry', 'link expiry must be in the future');
  if (expiresMs - now > MAX_LINK_LIFETIME_MS) {
    throw new LinkError('invalid_expiry', `links may last at most ${MAX_LINK_LIFETIME_MS / 86_400_000} days`);
  }
  const partner = await input.registry.getPartner(input.partnerId);
  if (!partner) throw new LinkError('unknown_partner', `no partner ${input.partnerId}`);
  if (partner.status === 'revoked') throw new LinkError('partner_revoked', `partner ${input.partnerId} is revoked`);

  const path = input.path ?? PARTNER_INDEX;
  // CloudFront's policy has whole seconds; the audit shows the expiry the link really has.
  const expiresAt = new Date(Math.floor(expiresMs / 1000) * 1000);
  const linkId = randomUUID();
  const url = issuePartnerUrl({
    baseUrl: input.baseUrl,
    partnerId: input.partnerId,
    linkId,
    path,
    expiresAt,
    keyPairId: input.keyPairId,
    privateKeyPem: input.privateKeyPem,
    ...(input.algorithm ? { algorithm: input.algorithm } : {}),
  });
  const link: LinkRecord = {
    partnerId: input.partnerId,
    linkId,
    issuer: input.issuer,
    issuedAt: new Date(now).toISOString(),
    expiresAt: expiresAt.toISOString(),
    path,
    keyPairId: input.keyPairId,
    linkInUrl: true,
  };
  await input.registry.recordLink(link);
  return { url, expiresAt: link.expiresAt, linkId: link.linkId };
}

/**
 * The local stand-in for the edge's revocation list, read from the registry: a partner key is revoked when the
 * partner's status is, a `link:<id>` key when the audit records that link revoked. The local CDN asks with the
 * request's partner, since links are stored per partner. No cache: a revocation or reinstatement is seen by the
 * next request.
 */
export function registryRevocations(registry: Pick<PartnerRegistry, 'getPartner' | 'findLink'>) {
  return async (key: string, request: { partnerId: string }): Promise<boolean> => {
    const parsed = parseRevocationKey(key);
    if (parsed.kind === 'partner') return (await registry.getPartner(parsed.partnerId))?.status === 'revoked';
    if (!LINK_ID_PATTERN.test(parsed.linkId)) return false;
    return (await registry.findLink(request.partnerId, parsed.linkId))?.revokedAt !== undefined;
  };
}
