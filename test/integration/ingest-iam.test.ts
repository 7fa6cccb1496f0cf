/**
 * The ingest function's grant is exactly wide enough: a real ingest (the same service the Lambda runs) takes a
 * new batch reaching back to a past day, its retry, and a batch from an unknown sensor, on DynamoDB Local and the
 * S3 emulator; every request it sends is recorded from the SDK clients and checked against the synthesized
 * stack's policies (the ingest role's statements and the bucket policy). DynamoDB Local and s3rver check no IAM,
 * so this is what says, before a deploy, that a narrower grant has not broken ingest on AWS — and a new kind of
 * request (another command, another partition) fails here rather than in production.
 */
import { ingestConfigWithDefaults } from '../../lib/config.js';
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { apiRequestFromEvent } from '../../lib/http/apigw.js';
import { createIngestApi } from '../../lib/ingest/service.js';
import { localDynamoClient, localS3Client } from '../../lib/local/aws-clients.js';
import { startGateway, type Gateway } from '../../lib/local/gateway.js';
import { ensureBucket, ensureTable } from '../../lib/local/provision.js';
import { silentLog } from '../../lib/log.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../../lib/signing/keys.js';
import { DynamoSensorRegistry } from '../../lib/store/registry.js';
import { allows, bucketPolicyStatements, functionId, roleStatements, type AccessRequest, type Statement } from '../cdk/policies.js';
import { synthesize } from '../cdk/synth.js';
import { eveAlert } from '../helpers/eve.js';
import { ndjsonBatch, postBatch, TEST_PSEUDONYM_KEY, type TestSensor } from '../helpers/harness.js';

const DAY = 86_400_000;
const ROLE_ARN = 'arn:aws:iam::123456789012:role/ingest';

interface Recorded {
  command: string;
  input: Record<string, any>;
}

/** Records every command a client sends, before it is signed or sent. */
function record<T extends DynamoDBClient | S3Client>(client: T, into: Recorded[]): T {
  const stack = client.middlewareStack as unknown as {
    add(mw: (next: (args: { input: object }) => Promise<unknown>, context: { commandName?: string }) => (args: { input: object }) => Promise<unknown>, options: object): void;
  };
  stack.add(
    (next, context) => async (args) => {
      into.push({ command: String(context.commandName), input: args.input as Record<string, any> });
      return next(args);
    },
    { step: 'initialize', name: 'recordForIamCheck' },
  );
  return client;
}

/** The partition keys a DynamoDB request touches (IAM's `dynamodb:LeadingKeys`). */
function leadingKeys(r: Recorded): string[] {
  const i = r.input;
  switch (r.command) {
    case 'PutItemCommand':
      return [i.Item.pk.S];
    case 'GetItemCommand':
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
      return [i.Key.pk.S];
    case 'BatchGetItemCommand':
      return Object.values(i.RequestItems as Record<string, { Keys: any[] }>).flatMap((t) => t.Keys.map((k) => k.pk.S));
    case 'QueryCommand':
      return [i.ExpressionAttributeValues[':pk'].S];
    default:
      throw new Error(`no leading-key reading for ${r.command}: teach this test the new request`);
  }
}

/** The IAM view of a recorded DynamoDB request. */
function dynamoRequest(r: Recorded, tableId: string): AccessRequest {
  return {
    action: `dynamodb:${r.command.replace(/Command$/, '')}`,
    resource: `<${tableId}.Arn>`,
    context: { 'dynamodb:LeadingKeys': leadingKeys(r), 'aws:PrincipalArn': ROLE_ARN },
  };
}

/** The IAM view of a recorded S3 request (each object of a multi-object delete is its own). */
function s3Requests(r: Recorded, bucketId: string): AccessRequest[] {
  const object = (action: string, key: string, extra: AccessRequest['context'] = {}): AccessRequest => ({
    action,
    resource: `<${bucketId}.Arn>/${key}`,
    context: { 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3', 'aws:PrincipalArn': ROLE_ARN, ...extra },
  });
  const i = r.input;
  switch (r.command) {
    case 'PutObjectCommand':
      return [object('s3:PutObject', i.Key, { 's3:ObjectCreationOperation': 'true', 's3:if-none-match': i.IfNoneMatch })];
    case 'GetObjectCommand':
    case 'HeadObjectCommand':
      return [object('s3:GetObject', i.Key)];
    case 'DeleteObjectCommand':
      return [object('s3:DeleteObject', i.Key)];
    case 'DeleteObjectsCommand':
      return (i.Delete.Objects as { Key: string }[]).map((o) => object('s3:DeleteObject', o.Key));
    case 'ListObjectsV2Command':
      return [{ action: 's3:ListBucket', resource: `<${bucketId}.Arn>`, context: { 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3', 'aws:PrincipalArn': ROLE_ARN } }];
    default:
      throw new Error(`no IAM reading for ${r.command}: teach this test the new request`);
  }
}

let identity: Statement[];
let bucketPolicy: Statement[];
let tableId: string;
let bucketId: string;
let gateway: Gateway;
let sensor: TestSensor;
const dynamoCalls: Recorded[] = [];
const s3Calls: Recorded[] = [];

beforeAll(async () => {
  const { template } = synthesize({ bundle: false });
  identity = roleStatements(template, functionId(template, 'IngestHandler'));
  bucketPolicy = bucketPolicyStatements(template);
  tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0]!;
  bucketId = Object.keys(template.findResources('AWS::S3::Bucket'))[0]!;

  const suffix = randomUUID().slice(0, 8);
  const dynamoEndpoint = inject('dynamoEndpoint');
  const s3Endpoint = inject('s3Endpoint');
  const config = ingestConfigWithDefaults({
    tableName: `iam-${suffix}`,
    bucketName: `iam-${suffix}`,
    sensorCacheTtlMs: 0,
    pseudonymKey: TEST_PSEUDONYM_KEY,
    dynamoEndpoint,
    s3Endpoint,
  });
  const admin = localDynamoClient(dynamoEndpoint);
  await ensureTable(admin, config.tableName);
  await ensureBucket(localS3Client(s3Endpoint), config.bucketName);
  const pair = generateSensorKeyPair();
  await new DynamoSensorRegistry(admin, config.tableName).putSensor({
    id: 'iam-s1',
    publicKey: pair.publicKey,
    name: 'iam-s1',
    deployedAt: '2020-01-01',
    status: 'active',
    createdAt: new Date().toISOString(),
  });
  sensor = { id: 'iam-s1', privateKey: privateKeyFromPem(pair.privateKeyPem), publicKey: pair.publicKey };

  const api = createIngestApi(config, silentLog, {
    clients: {
      dynamo: record(localDynamoClient(dynamoEndpoint), dynamoCalls),
      s3: record(localS3Client(s3Endpoint), s3Calls),
    },
  });
  gateway = await startGateway({
    port: 0,
    api: async (event: APIGatewayProxyEventV2) => {
      const res = await api.handle(apiRequestFromEvent(event));
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    },
    log: silentLog,
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
});

describe('the ingest role allows every request a real ingest sends', () => {
  it('accepts a batch reaching back two days, its retry as a duplicate, and refuses an unknown sensor', async () => {
    const now = Date.now();
    const lines = [eveAlert({ time: now - 60_000 }), eveAlert({ time: now - 2 * DAY }), eveAlert({ time: now - 2 * DAY + 1000, dstPort: 139 })];
    const batch = ndjsonBatch(sensor.id, lines);
    expect((await postBatch(gateway.url, sensor, batch)).status).toBe(202);
    expect((await postBatch(gateway.url, sensor, batch)).status).toBe(200);
    const stranger: TestSensor = { ...sensor, id: 'iam-unknown' };
    expect((await postBatch(gateway.url, stranger, ndjsonBatch(stranger.id, lines.slice(0, 1)))).status).toBe(401);
  });

  it('sent the reads and writes the grant is about (so the check below is not empty)', () => {
    expect(new Set(dynamoCalls.map((c) => c.command))).toEqual(new Set(['GetItemCommand', 'PutItemCommand', 'BatchGetItemCommand']));
    const partitions = new Set(dynamoCalls.flatMap(leadingKeys).map((pk) => pk.replace(/\d{4}-\d\d-\d\d/, 'D').replace(/#[^#]*$/, '#…')));
    expect(partitions).toEqual(new Set(['REGISTRY#…', 'BATCH#iam-s1#…', 'DAY#D#SENSOR#…', 'DIRTY', 'SEEN#…']));
    expect(s3Calls.map((c) => `${c.command} ${String(c.input.Key).split('/')[0]}`).sort()).toEqual(['PutObjectCommand raw', 'PutObjectCommand raw', 'PutObjectCommand staging']);
  });

  it('every DynamoDB request is allowed by the synthesized policy', () => {
    const refused = dynamoCalls.map((c) => dynamoRequest(c, tableId)).filter((req) => !allows(identity, [], req));
    expect(refused).toEqual([]);
  });

  it('every S3 request is allowed by the role and not denied by the bucket policy', () => {
    const refused = s3Calls.flatMap((c) => s3Requests(c, bucketId)).filter((req) => !allows(identity, bucketPolicy, req));
    expect(refused).toEqual([]);
  });

  it('the same check refuses what ingest must not do (the check can fail)', () => {
    const put = (pk: string): AccessRequest => ({ action: 'dynamodb:PutItem', resource: `<${tableId}.Arn>`, context: { 'dynamodb:LeadingKeys': [pk] } });
    expect(allows(identity, [], put('LINKS#pa'))).toBe(false);
    expect(allows(identity, [], put('DAY#2026-01-01'))).toBe(false);
    expect(allows(identity, [], { ...put('DAY#2026-01-01#SENSOR#s1'), action: 'dynamodb:UpdateItem' })).toBe(false);
    const rawPut = s3Requests({ command: 'PutObjectCommand', input: { Key: 'raw/2026-01-01/s1/k.ndjson.gz' } }, bucketId)[0]!;
    expect(allows(identity, bucketPolicy, rawPut)).toBe(false);
    expect(allows(identity, bucketPolicy, { ...rawPut, context: { ...rawPut.context, 's3:if-none-match': '*' } })).toBe(true);
  });
});
