/** The few DynamoDB access patterns the stores share, written once. */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { withStorage } from './errors.js';

export type Item = Record<string, AttributeValue>;

/** Every item of one partition, in sort-key order, following pagination. */
export async function queryPartition(client: DynamoDBClient, tableName: string, pk: string, opts: { consistent?: boolean } = {}): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await withStorage(() =>
      client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          ConsistentRead: opts.consistent,
          ExclusiveStartKey: start,
        }),
      ),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Every item whose partition key starts with `pkPrefix`, by a parallel Scan of `segments` segments (each
 * following its own pagination). A Scan reads the whole table, so it pays only when the caller needs a large
 * share of it anyway (the render job's first run over a long history).
 */
export async function scanByPkPrefix(client: DynamoDBClient, tableName: string, pkPrefix: string, segments = 4): Promise<Item[]> {
  const parts = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      const items: Item[] = [];
      let start: Item | undefined;
      do {
        const out = await withStorage(() =>
          client.send(
            new ScanCommand({
              TableName: tableName,
              Segment: segment,
              TotalSegments: segments,
              FilterExpression: 'begins_with(pk, :p)',
              ExpressionAttributeValues: { ':p': { S: pkPrefix } },
              ExclusiveStartKey: start,
            }),
          ),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
      return items;
    }),
  );
  return parts.flat();
}

/** BatchGetItem over any number of keys: 100 per call, unprocessed keys retried with backoff. */
export async function batchGet(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly Item[],
  projection?: { expression: string; names: Record<string, string> },
  consistent = false,
): Promise<Item[]> {
  const found: Item[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Item[] | undefined = keys.slice(i, i + 100);
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      const request = {
        Keys: pending,
        ...(consistent ? { ConsistentRead: true } : {}),
        ...(projection ? { ProjectionExpression: projection.expression, ExpressionAttributeNames: projection.names } : {}),
      };
      const res = await withStorage(() => client.send(new BatchGetItemCommand({ RequestItems: { [tableName]: request } })));
      found.push(...(res.Responses?.[tableName] ?? []));
      pending = res.UnprocessedKeys?.[tableName]?.Keys as Item[] | undefined;
    }
  }
  return found;
}

/**
 * Puts items (whole overwrites, no condition) 25 per request, retrying what DynamoDB leaves unprocessed: for
 * the render job's rollups, which are many small idempotent writes.
 */
export async function batchPut(client: DynamoDBClient, tableName: string, items: readonly Item[]): Promise<void> {
  const requests: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) requests.push(items.slice(i, i + 25));
  await Promise.all(
    requests.map(async (chunk) => {
      let pending: { PutRequest: { Item: Item } }[] | undefined = chunk.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const res = await withStorage(() => client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending! } })));
        pending = res.UnprocessedItems?.[tableName] as { PutRequest: { Item: Item } }[] | undefined;
      }
    }),
  );
}

/**
 * Puts `item` only if no item has its key. Returns the write units consumed and, when the item was already
 * there, that item (DynamoDB returns it with the failed condition, so no extra read is needed).
 */
export async function putIfAbsent(client: DynamoDBClient, tableName: string, item: Item): Promise<{ created: boolean; existing?: Item; writeUnits: number }> {
  try {
    const out = await withStorage(() =>
      client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnConsumedCapacity: 'TOTAL',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
    return { created: true, writeUnits: out.ConsumedCapacity?.CapacityUnits ?? 0 };
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
    // A failed condition is billed too; the SDK carries the figure only on the raw error.
    const consumed = (err as unknown as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
    return { created: false, existing: err.Item ?? {}, writeUnits: consumed?.CapacityUnits ?? 1 };
  }
}

/** One registry item by its key, read consistently (a revocation must be seen by the next read); undefined when absent. */
export async function getRegistryItem(client: DynamoDBClient, tableName: string, key: Item): Promise<Item | undefined> {
  const out = await withStorage(() => client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true })));
  return out.Item;
}

/** Marks a registry item revoked (keeping the first revocation time). False when there is no such item. */
export async function markRevoked(client: DynamoDBClient, tableName: string, key: Item, at: string): Promise<boolean> {
  try {
    await withStorage(() =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET #s = :revoked, revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':revoked': { S: 'revoked' }, ':at': { S: at } },
        }),
      ),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}
