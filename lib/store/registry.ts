/** Sensor registry in DynamoDB (see table.ts for the key schema). */
import { PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { getRegistryItem, markRevoked, queryPartition } from './dynamo.js';
import { REGISTRY_SENSOR_PK } from './table.js';
import { withStorage } from './errors.js';

export type SensorStatus = 'active' | 'revoked';

export interface SensorProfile {
  id: string;
  /** Ed25519 public key, raw 32 bytes in base64url. */
  publicKey: string;
  name: string;
  location?: string;
  /** YYYY-MM-DD: marked on the public graph. */
  deployedAt: string;
  status: SensorStatus;
  createdAt: string;
  revokedAt?: string;
}

export interface SensorRegistry {
  getSensor(id: string): Promise<SensorProfile | undefined>;
  listSensors(): Promise<SensorProfile[]>;
  /** Adds a sensor, or replaces its key and details (key rotation keeps the id). */
  putSensor(profile: SensorProfile): Promise<void>;
  /** Returns false when there is no such sensor. */
  revokeSensor(id: string, at: string): Promise<boolean>;
}

function toItem(p: SensorProfile): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    pk: { S: REGISTRY_SENSOR_PK },
    sk: { S: p.id },
    publicKey: { S: p.publicKey },
    name: { S: p.name },
    deployedAt: { S: p.deployedAt },
    status: { S: p.status },
    createdAt: { S: p.createdAt },
  };
  if (p.location) item.location = { S: p.location };
  if (p.revokedAt) item.revokedAt = { S: p.revokedAt };
  return item;
}

function fromItem(item: Record<string, AttributeValue>): SensorProfile {
  const s = (name: string) => item[name]?.S;
  return {
    id: s('sk') ?? '',
    publicKey: s('publicKey') ?? '',
    name: s('name') ?? s('sk') ?? '',
    location: s('location'),
    deployedAt: s('deployedAt') ?? '',
    status: s('status') === 'revoked' ? 'revoked' : 'active',
    createdAt: s('createdAt') ?? '',
    revokedAt: s('revokedAt'),
  };
}

export class DynamoSensorRegistry implements SensorRegistry {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async getSensor(id: string): Promise<SensorProfile | undefined> {
    const item = await getRegistryItem(this.client, this.tableName, { pk: { S: REGISTRY_SENSOR_PK }, sk: { S: id } });
    return item ? fromItem(item) : undefined;
  }

  async listSensors(): Promise<SensorProfile[]> {
    return (await queryPartition(this.client, this.tableName, REGISTRY_SENSOR_PK)).map(fromItem);
  }

  async putSensor(profile: SensorProfile): Promise<void> {
    await withStorage(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: toItem(profile) })));
  }

  async revokeSensor(id: string, at: string): Promise<boolean> {
    return markRevoked(this.client, this.tableName, { pk: { S: REGISTRY_SENSOR_PK }, sk: { S: id } }, at);
  }
}

export interface SensorRegistration {
  id: string;
  publicKey: string;
  deployedAt: string;
  name?: string;
  location?: string;
}

/**
 * Adds a sensor, or replaces the key and details of an existing one (key rotation): a detail not given keeps
 * its stored value, the name defaults to the id, the creation time stays, and the sensor is active again.
 */
export async function registerSensor(registry: SensorRegistry, input: SensorRegistration, now: string): Promise<{ profile: SensorProfile; replaced: boolean }> {
  const existing = await registry.getSensor(input.id);
  const profile: SensorProfile = {
    id: input.id,
    publicKey: input.publicKey,
    name: input.name ?? existing?.name ?? input.id,
    location: input.location ?? existing?.location,
    deployedAt: input.deployedAt,
    status: 'active',
    createdAt: existing?.createdAt ?? now,
  };
  await registry.putSensor(profile);
  return { profile, replaced: existing !== undefined };
}
