/**
 * The batch ledger: idempotency claims and per-day contributions (key schema in table.ts).
 *
 * Exactly once without transactions: every write is a conditional put of a new item, so a retry of any
 * step is harmless, and a batch is counted when its contribution items exist — each exactly once.
 */
import { ConditionalCheckFailedException, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decodeAggregate, encodeAggregate, type DayAggregate } from '../counting/aggregate.js';
import { CLAIM_SK, claimPk, contributionSk, DIRTY_PK, expiryForDay, ROLLUP_SK, SEEN_SK, seenPk, sensorDayPk } from './table.js';
import { batchGet, putIfAbsent, queryPartition, scanByPkPrefix, type Item } from './dynamo.js';
import { withStorage } from './errors.js';
import { mapLimit } from '../util/map-limit.js';

export interface BatchClaim {
  sensor: string;
  idempotencyKey: string;
  /** Content-Digest (sha-256, base64) of the body as sent. */
  digest: string;
  days: string[];
  receivedAt: string;
  /** The receipt given when the batch was first accepted, returned again for duplicates. */
  receipt: string;
}

export interface Contribution {
  sensor: string;
  idempotencyKey: string;
  day: string;
  digest: string;
  /** The day's aggregate in its stored form (`packAggregate`): packed once, where its size is also checked. */
  packed: Uint8Array;
  /** The day the raw batch is archived under (its earliest day); stored only when it differs from `day`. */
  rawDay: string;
}

export interface PutOutcome<T> {
  created: boolean;
  /** The item that was already there when `created` is false. */
  existing?: T;
  writeUnits: number;
}

export interface StoredContribution {
  idempotencyKey: string;
  digest: string;
  aggregate: DayAggregate;
  rawDay: string;
}

export interface SensorDayRollup {
  aggregate: DayAggregate;
  /** How many contributions were summed; compared with the live count to tell a stale rollup. */
  contributions: number;
  computedAt: string;
  sources?: number;
  newSources?: number;
}

export interface SensorDay {
  contributions: StoredContribution[];
  rollup?: SensorDayRollup;
}

/** What the ingest path needs from storage. Small on purpose: tests wrap it to inject failures. */
export interface BatchLedger {
  claimBatch(claim: BatchClaim): Promise<PutOutcome<BatchClaim>>;
  putContribution(contribution: Contribution): Promise<PutOutcome<{ digest: string }>>;
  /** Tells the render job that a day it may already have closed received a batch. */
  markDayChanged(day: string, sensor: string, at: string): Promise<number>;
  /**
   * Of `days`, those that already hold this batch's contribution (a strongly consistent read). Asked only on
   * a retry, so that a batch already counted writes no facts again.
   */
  countedDays(sensor: string, idempotencyKey: string, days: readonly string[]): Promise<Set<string>>;
  /**
   * Records when a sensor last sent a batch (any accepted batch, a heartbeat or a duplicate included), for the
   * silent-sensor warning (DESIGN §15). Optional so that test wrappers need not forward it.
   */
  markSeen?(sensor: string, at: string): Promise<number>;
}

/** DynamoDB rejects items over 400 KB; a packed aggregate leaves room for keys and other attributes. */
export const MAX_PACKED_AGGREGATE_BYTES = 380 * 1024;

/**
 * Aggregates are stored deflated: a write costs one unit per KB of item, and port and signature counts
 * compress 3–4×, which is what brings a typical 1,000-alert batch down to one unit for its contribution.
 */
export function packAggregate(agg: DayAggregate): Uint8Array {
  return deflateRawSync(encodeAggregate(agg));
}

export function unpackAggregate(value: AttributeValue | undefined): DayAggregate | undefined {
  if (value?.B !== undefined) return decodeAggregate(inflateRawSync(value.B).toString('utf8'));
  return undefined;
}

function units(out: { ConsumedCapacity?: { CapacityUnits?: number } }): number {
  return out.ConsumedCapacity?.CapacityUnits ?? 0;
}

export class DynamoBatchLedger implements BatchLedger {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly horizonDays: number,
  ) {}

  async claimBatch(claim: BatchClaim): Promise<PutOutcome<BatchClaim>> {
    const lastDay = [...claim.days].sort().at(-1) ?? claim.receivedAt.slice(0, 10);
    const outcome = await putIfAbsent(this.client, this.tableName, {
      pk: { S: claimPk(claim.sensor, claim.idempotencyKey) },
      sk: { S: CLAIM_SK },
      digest: { S: claim.digest },
      days: { S: claim.days.join(',') },
      at: { S: claim.receivedAt },
      receipt: { S: claim.receipt },
      ttl: { N: String(expiryForDay(lastDay, this.horizonDays)) },
    });
    if (outcome.created || !outcome.existing) return { created: outcome.created, writeUnits: outcome.writeUnits };
    const old = outcome.existing;
    return {
      created: false,
      writeUnits: outcome.writeUnits,
      existing: {
        sensor: claim.sensor,
        idempotencyKey: claim.idempotencyKey,
        digest: old.digest?.S ?? '',
        days: (old.days?.S ?? '').split(',').filter(Boolean),
        receivedAt: old.at?.S ?? '',
        receipt: old.receipt?.S ?? '{}',
      },
    };
  }

  /** Rebuild: writes a contribution whatever is there (recomputed from the raw archive, so the same or better). */
  async replaceContribution(c: Contribution): Promise<void> {
    await withStorage(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: this.contributionItem(c) })));
  }

  private contributionItem(c: Contribution): Record<string, AttributeValue> {
    const item: Record<string, AttributeValue> = {
      pk: { S: sensorDayPk(c.day, c.sensor) },
      sk: { S: contributionSk(c.idempotencyKey) },
      digest: { S: c.digest },
      agg: { B: c.packed },
      ttl: { N: String(expiryForDay(c.day, this.horizonDays)) },
    };
    if (c.rawDay !== c.day) item.rd = { S: c.rawDay };
    return item;
  }

  async putContribution(c: Contribution): Promise<PutOutcome<{ digest: string }>> {
    const outcome = await putIfAbsent(this.client, this.tableName, this.contributionItem(c));
    return outcome.created
      ? { created: true, writeUnits: outcome.writeUnits }
      : { created: false, writeUnits: outcome.writeUnits, existing: { digest: outcome.existing?.digest?.S ?? '' } };
  }

  async countedDays(sensor: string, idempotencyKey: string, days: readonly string[]): Promise<Set<string>> {
    const keys = days.map((day) => ({ pk: { S: sensorDayPk(day, sensor) }, sk: { S: contributionSk(idempotencyKey) } }));
    const found = await batchGet(this.client, this.tableName, keys, { expression: '#p', names: { '#p': 'pk' } }, true);
    const prefix = 'DAY#';
    return new Set(found.map((item) => (item.pk?.S ?? '').slice(prefix.length, prefix.length + 10)));
  }

  /** Returns the write units consumed. */
  async markDayChanged(day: string, sensor: string, at: string): Promise<number> {
    const out = await withStorage(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          // One mark per day, whichever sensor sent the batch: the job re-rolls days, and a backfill of many
          // sensors leaves one mark per day to clear instead of one per sensor and day.
          Item: { pk: { S: DIRTY_PK }, sk: { S: day }, at: { S: at }, sensor: { S: sensor } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    return units(out);
  }

  /**
   * One item per sensor, overwritten by each of its batches (its own partition, so sensors never share one).
   * Returns the write units consumed.
   */
  async markSeen(sensor: string, at: string): Promise<number> {
    const out = await withStorage(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { pk: { S: seenPk(sensor) }, sk: { S: SEEN_SK }, at: { S: at } },
          // Batches of one sensor may finish out of order: the latest time wins.
          ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': { S: at } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    ).catch((err: unknown) => {
      // A later batch was recorded already: nothing to do (a failed condition is billed one unit).
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    });
    return out ? units(out) : 1;
  }

  /** When each of the given sensors last sent a batch (sensors that never did are absent). */
  async lastSeen(sensors: readonly string[]): Promise<Map<string, string>> {
    const found = await batchGet(this.client, this.tableName, sensors.map((id) => ({ pk: { S: seenPk(id) }, sk: { S: SEEN_SK } })));
    const out = new Map<string, string>();
    for (const item of found) {
      const pk = item.pk?.S ?? '';
      if (item.at?.S) out.set(pk.slice(seenPk('').length), item.at.S);
    }
    return out;
  }

  /** Every contribution and the rollup (if any) of one sensor-day: one Query, paginated. */
  async readSensorDay(sensor: string, day: string): Promise<SensorDay> {
    const result: SensorDay = { contributions: [] };
    for (const item of await queryPartition(this.client, this.tableName, sensorDayPk(day, sensor))) addSensorDayItem(result, item, day);
    return result;
  }

  /**
   * The sensor-days of many days at once, keyed `<day>/<sensor>` (sensor-days without items are absent).
   * One Query per sensor-day costs a round trip each: 190 days × 9 sensors made 1,719 Queries and most of a
   * first render. Past SCAN_FROM_SENSOR_DAYS the items are read with one parallel Scan of the `DAY#` partitions
   * instead (it also reads the claims and other items, about as many again — cheaper than the round trips).
   */
  async readSensorDays(sensors: readonly string[], days: readonly string[], opts: { scanFrom?: number } = {}): Promise<Map<string, SensorDay>> {
    const out = new Map<string, SensorDay>();
    const wanted = new Set(sensors);
    const daySet = new Set(days);
    if (sensors.length * days.length < (opts.scanFrom ?? SCAN_FROM_SENSOR_DAYS)) {
      await mapLimit(days.flatMap((day) => sensors.map((sensor) => ({ day, sensor }))), 16, async ({ day, sensor }) => {
        const sd = await this.readSensorDay(sensor, day);
        if (sd.rollup || sd.contributions.length > 0) out.set(`${day}/${sensor}`, sd);
      });
      return out;
    }
    for (const item of await scanByPkPrefix(this.client, this.tableName, 'DAY#')) {
      const m = /^DAY#(\d{4}-\d{2}-\d{2})#SENSOR#(.+)$/.exec(item.pk?.S ?? '');
      if (!m || !daySet.has(m[1]!) || !wanted.has(m[2]!)) continue;
      const key = `${m[1]}/${m[2]}`;
      let sd = out.get(key);
      if (!sd) out.set(key, (sd = { contributions: [] }));
      addSensorDayItem(sd, item, m[1]!);
    }
    // A Scan returns a partition's items in no promised order across segments; keep the Query's sort-key order.
    for (const sd of out.values()) sd.contributions.sort((a, b) => (a.idempotencyKey < b.idempotencyKey ? -1 : a.idempotencyKey > b.idempotencyKey ? 1 : 0));
    return out;
  }
}

/** Sensor-days read per run from which one Scan is cheaper than a Query each (measured on DynamoDB Local). */
export const SCAN_FROM_SENSOR_DAYS = 400;

function addSensorDayItem(result: SensorDay, item: Item, day: string): void {
  const sk = item.sk?.S ?? '';
  const agg = unpackAggregate(item.agg);
  if (agg === undefined) return;
  if (sk === ROLLUP_SK) {
    result.rollup = {
      aggregate: agg,
      contributions: Number(item.contributions?.N ?? 0),
      computedAt: item.at?.S ?? '',
      sources: item.sources?.N !== undefined ? Number(item.sources.N) : undefined,
      newSources: item.newSources?.N !== undefined ? Number(item.newSources.N) : undefined,
    };
  } else if (sk.startsWith('BATCH#')) {
    result.contributions.push({
      idempotencyKey: sk.slice('BATCH#'.length),
      digest: item.digest?.S ?? '',
      aggregate: agg,
      rawDay: item.rd?.S ?? day,
    });
  }
}
