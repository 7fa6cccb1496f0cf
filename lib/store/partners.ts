/**
 * Partner registry and link audit in DynamoDB (DESIGN §9): the storage adapter behind `PartnerRegistry`
 * (lib/links/partners.ts, where the link policy and issuing live).
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
import {
  ConditionalCheckFailedException,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { LinkError, type LinkRecord, type PartnerProfile, type PartnerRegistry } from '../links/partners.js';
import { getRegistryItem, markRevoked, queryPartition } from './dynamo.js';
import { withStorage } from './errors.js';
import { ID_PATTERN, REGISTRY_PARTNER_PK } from './table.js';

export const LINKS_PK_PREFIX = 'LINKS#';

export function linksPk(partnerId: string): string {
  return `${LINKS_PK_PREFIX}${partnerId}`;
}

export function linkSk(issuedAt: string, linkId: string): string {
  return `${issuedAt}#${linkId}`;
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
    const item = await getRegistryItem(this.client, this.tableName, { pk: { S: REGISTRY_PARTNER_PK }, sk: { S: id } });
    return item ? partnerFromItem(item) : undefined;
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
