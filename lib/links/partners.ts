/**
 * Partner registry and link audit in DynamoDB (DESIGN §9), and issuing a partner link.
 *
 * Items (the one table of lib/store/table.ts):
 *
 * | pk                     | sk                         | what                                                  |
 * |------------------------|----------------------------|-------------------------------------------------------|
 * | `REGISTRY#PARTNER`     | `<partnerId>`              | partner profile: name, status, createdAt, revokedAt, reinstatedAt |
 * | `LINKS#<partnerId>`    | `<issuedAt>#<linkId>`      | one issued link: issuer, issuedAt, expiresAt, path, keyPairId, linkInUrl, revokedAt, revokedBy |
 *
 * `issuedAt` is ISO 8601 UTC with milliseconds, so a partner's links sort by issue time within their
 * partition and `listLinks` is one Query. Link items carry no `ttl`: the audit outlives the links.
 * The audit never holds the link's Signature or Policy, or any key material: a recorded link cannot be
 * replayed from the table. `linkInUrl` marks links whose URL carries their id (signed), the ones that can be
 * revoked one by one; links issued before that have no such attribute. `revokedAt`/`revokedBy` record a
 * revocation of that one link (`partner revoke <id> --link <link id>`).
 */
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { PARTNER_INDEX } from '../publish/layout.js';
import { markRevoked, queryPartition } from '../store/dynamo.js';
import { withStorage } from '../store/errors.js';
import { ID_PATTERN, REGISTRY_PARTNER_PK } from '../store/table.js';
import { parseRevocationKey } from './revocation.js';
import { issuePartnerUrl, LINK_ID_PATTERN, type HashAlgorithm } from './signed-url.js';

export const LINKS_PK_PREFIX = 'LINKS#';

export function linksPk(partnerId: string): string {
  return `${LINKS_PK_PREFIX}${partnerId}`;
}

export function linkSk(issuedAt: string, linkId: string): string {
  return `${issuedAt}#${linkId}`;
}

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

function partnerFromItem(item: Record<string, AttributeValue>): PartnerProfile {
  const s = (name: string) => item[name]?.S;
  const profile: PartnerProfile = {
    id: s('sk') ?? '',
    name: s('name') ?? s('sk') ?? '',
    status: s('status') === 'revoked' ? 'revoked' : 'active',
    createdAt: s('createdAt') ?? '',
  };
  const revokedAt = s('revokedAt');
  if (revokedAt) profile.revokedAt = revokedAt;
  const reinstatedAt = s('reinstatedAt');
  if (reinstatedAt) profile.reinstatedAt = reinstatedAt;
  return profile;
}

function linkToItem(link: LinkRecord): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    pk: { S: linksPk(link.partnerId) },
    sk: { S: linkSk(link.issuedAt, link.linkId) },
    partnerId: { S: link.partnerId },
    linkId: { S: link.linkId },
    issuer: { S: link.issuer },
    issuedAt: { S: link.issuedAt },
    expiresAt: { S: link.expiresAt },
    path: { S: link.path },
  };
  if (link.keyPairId) item.keyPairId = { S: link.keyPairId };
  if (link.linkInUrl) item.linkInUrl = { BOOL: true };
  return item;
}

function linkFromItem(item: Record<string, AttributeValue>): LinkRecord {
  const s = (name: string) => item[name]?.S ?? '';
  const link: LinkRecord = {
    partnerId: s('partnerId'),
    linkId: s('linkId'),
    issuer: s('issuer'),
    issuedAt: s('issuedAt'),
    expiresAt: s('expiresAt'),
    path: s('path'),
  };
  if (item.keyPairId?.S) link.keyPairId = item.keyPairId.S;
  if (item.linkInUrl?.BOOL === true) link.linkInUrl = true;
  if (item.revokedAt?.S) link.revokedAt = item.revokedAt.S;
  if (item.revokedBy?.S) link.revokedBy = item.revokedBy.S;
  return link;
}

export class DynamoPartnerRegistry implements PartnerRegistry {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async addPartner(p: { id: string; name?: string }, at = new Date().toISOString()): Promise<PartnerProfile> {
    if (!ID_PATTERN.test(p.id)) {
      throw new LinkError('invalid_partner_id', `partner id ${JSON.stringify(p.id)} must match ${ID_PATTERN.source}`);
    }
    const profile: PartnerProfile = { id: p.id, name: p.name?.trim() || p.id, status: 'active', createdAt: at };
    try {
      await withStorage(() =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              pk: { S: REGISTRY_PARTNER_PK },
              sk: { S: profile.id },
              name: { S: profile.name },
              status: { S: profile.status },
              createdAt: { S: profile.createdAt },
            },
            // Re-adding must not quietly lift a revocation.
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new LinkError('partner_exists', `partner ${p.id} already exists`);
      throw err;
    }
    return profile;
  }

  async getPartner(id: string): Promise<PartnerProfile | undefined> {
    const out = await withStorage(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: REGISTRY_PARTNER_PK }, sk: { S: id } },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? partnerFromItem(out.Item) : undefined;
  }

  async listPartners(): Promise<PartnerProfile[]> {
    return (await this.queryAll(REGISTRY_PARTNER_PK)).map(partnerFromItem);
  }

  async revokePartner(id: string, at: string): Promise<boolean> {
    return markRevoked(this.client, this.tableName, { pk: { S: REGISTRY_PARTNER_PK }, sk: { S: id } }, at);
  }

  async reinstatePartner(id: string, at: string): Promise<boolean> {
    try {
      await withStorage(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: REGISTRY_PARTNER_PK }, sk: { S: id } },
            // Reinstating an active partner changes nothing: its reinstatedAt says when it last came back.
            UpdateExpression: 'SET #s = :active, reinstatedAt = :at REMOVE revokedAt',
            ConditionExpression: 'attribute_exists(pk) AND #s = :revoked',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':active': { S: 'active' }, ':revoked': { S: 'revoked' }, ':at': { S: at } },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return (await this.getPartner(id)) !== undefined;
      throw err;
    }
  }

  async findLink(partnerId: string, linkId: string): Promise<LinkRecord | undefined> {
    // A partner has tens of links, not thousands: one Query of its partition is cheaper than an index.
    return (await this.listLinks(partnerId)).find((l) => l.linkId === linkId);
  }

  async revokeLink(link: Pick<LinkRecord, 'partnerId' | 'linkId' | 'issuedAt'>, at: string, by: string): Promise<void> {
    await withStorage(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: linksPk(link.partnerId) }, sk: { S: linkSk(link.issuedAt, link.linkId) } },
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at), revokedBy = if_not_exists(revokedBy, :by)',
          // Never creates an audit entry for a link that was not issued.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': { S: at }, ':by': { S: by } },
        }),
      ),
    );
  }

  async recordLink(link: LinkRecord): Promise<void> {
    await withStorage(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: linkToItem(link),
          // An audit entry is written once; a colliding id must not overwrite an earlier record.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async listLinks(partnerId: string): Promise<LinkRecord[]> {
    return (await this.queryAll(linksPk(partnerId))).map(linkFromItem);
  }

  private queryAll(pk: string): Promise<Record<string, AttributeValue>[]> {
    return queryPartition(this.client, this.tableName, pk, { consistent: true });
  }
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
