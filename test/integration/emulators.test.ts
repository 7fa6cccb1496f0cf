/**
 * The local emulators behave like the AWS features alertgraph relies on, driven through the real AWS SDK.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { localDynamoClient, localS3Client } from '../../lib/local/aws-clients.js';
import { S3Lake } from '../../lib/lake/store.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../lib/local/emulators/dynamodb-local.js';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

async function createPkSkTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
}

describe('shared DynamoDB Local', () => {
  const dynamo = localDynamoClient(inject('dynamoEndpoint'));
  afterAll(() => dynamo.destroy());

  it('enforces conditional puts and reports consumed capacity', async () => {
    const table = uniqueName('emu');
    await createPkSkTable(dynamo, table);

    const put = new PutItemCommand({
      TableName: table,
      Item: { pk: { S: 'sensor#1' }, sk: { S: 'alert#1' }, n: { N: '1' } },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnConsumedCapacity: 'TOTAL',
    });

    const first = await dynamo.send(put);
    expect(typeof first.ConsumedCapacity?.CapacityUnits).toBe('number');
    expect(first.ConsumedCapacity?.CapacityUnits).toBeGreaterThan(0);

    await expect(dynamo.send(put)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });
});

describe('shared s3rver', () => {
  const s3 = localS3Client(inject('s3Endpoint'));
  afterAll(() => s3.destroy());

  it('round-trips a streamed gzip body byte for byte', async () => {
    const bucket = uniqueName('emu');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));

    // Random bytes make the gzip output incompressible noise, so any byte-level damage shows.
    const plain = Buffer.concat([randomBytes(200_000), Buffer.from('x'.repeat(100_000))]);
    const gz = gzipSync(plain);
    const chunks: Buffer[] = [];
    for (let i = 0; i < gz.length; i += 16_384) chunks.push(gz.subarray(i, i + 16_384));

    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'day/2024-01-01.json.gz',
        Body: Readable.from(chunks),
        ContentLength: gz.length,
        ContentType: 'application/json',
        ContentEncoding: 'gzip',
      }),
    );

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'day/2024-01-01.json.gz' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.equals(gz)).toBe(true);
    expect(gunzipSync(bytes).equals(plain)).toBe(true);

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'day/2024-01-01.json.gz' }));
    expect(head.ContentLength).toBe(gz.length);
    expect(head.ContentType).toBe('application/json');
    expect(head.ContentEncoding).toBe('gzip');
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('lists more than 1,000 keys page by page (ListObjectsV2 continuation tokens, Node ≥ 17)', async () => {
    const bucket = uniqueName('emu');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const keys = Array.from({ length: 1_205 }, (_, i) => `many/${String(i).padStart(5, '0')}.csv`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }))));
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'other/outside.csv', Body: 'x' }));

    const first = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'many/' }));
    expect(first).toMatchObject({ IsTruncated: true, KeyCount: 1000 });
    expect(first.Contents!.map((o) => o.Key)).toEqual(keys.slice(0, 1000));
    expect(first.Contents![0]!.Owner).toBeUndefined();
    const second = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'many/', ContinuationToken: first.NextContinuationToken }));
    expect(second).toMatchObject({ IsTruncated: false, KeyCount: 205, ContinuationToken: first.NextContinuationToken });
    expect(second.Contents!.map((o) => o.Key)).toEqual(keys.slice(1000));
    expect(second.NextContinuationToken).toBeUndefined();

    // Small pages, StartAfter, and the lake's own paginated listing.
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'many/', StartAfter: keys[9], MaxKeys: 3 }));
    expect(page.Contents!.map((o) => o.Key)).toEqual(keys.slice(10, 13));
    expect(page.StartAfter).toBe(keys[9]);
    const next = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'many/', MaxKeys: 3, ContinuationToken: page.NextContinuationToken }));
    expect(next.Contents!.map((o) => o.Key)).toEqual(keys.slice(13, 16));
    expect((await new S3Lake(s3, bucket).list('many/')).map((o) => o.key)).toEqual(keys);
  }, 120_000);

  // S3 answers 412 PreconditionFailed to the second put; s3rver 3.7 alone overwrites, the emulator's shim
  // refuses it as S3 does.
  it('refuses a put with If-None-Match: * of an existing key with 412, as S3 does', async () => {
    const bucket = uniqueName('emu');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const put = (body: string) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: body, IfNoneMatch: '*' }));

    await put('first');
    const refused = await put('second').catch((err: { name?: string; $metadata?: { httpStatusCode?: number } }) => err);
    expect(refused).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'once' }));
    expect(await got.Body!.transformToString()).toBe('first');
    // Without the header a put still replaces.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'third' }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'once' }))).Body!.transformToString()).toBe('third');
  });
});

describe('DynamoDB Local on a persistent dir', () => {
  let dataDir: string | undefined;
  const running: DynamoDbLocal[] = [];
  afterAll(async () => {
    await Promise.allSettled(running.map((d) => d.stop()));
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps data across a SIGKILL of the JVM and starts again on the same dir', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'alertgraph-ddb-test-'));
    const table = uniqueName('persist');
    const key = { pk: { S: 'sensor#9' }, sk: { S: 'day#1' } };

    const first = await startDynamoDbLocal({ dataDir });
    running.push(first);
    const client1 = localDynamoClient(first.endpoint);
    await createPkSkTable(client1, table);
    await client1.send(new PutItemCommand({ TableName: table, Item: { ...key, count: { N: '42' } } }));
    client1.destroy();

    // A crash, not a shutdown: the pid file stays behind and nothing is flushed.
    process.kill(first.pid, 'SIGKILL');
    await expect.poll(() => isRunning(first.pid), { timeout: 5_000 }).toBe(false);

    const second = await startDynamoDbLocal({ dataDir });
    running.push(second);
    const client2 = localDynamoClient(second.endpoint);
    const got = await client2.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    client2.destroy();
    expect(got.Item?.count).toEqual({ N: '42' });
  });
});
