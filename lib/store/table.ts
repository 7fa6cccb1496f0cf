/**
 * The one DynamoDB table, shared by the CDK stack and the local stack.
 *
 * Key schema (all keys are strings; `pk` partition key, `sk` sort key, `ttl` epoch seconds):
 *
 * | pk                               | sk                    | what                                               |
 * |----------------------------------|-----------------------|----------------------------------------------------|
 * | `REGISTRY#SENSOR`                | `<sensorId>`          | sensor profile: public key, name, deployedAt, status |
 * | `REGISTRY#PARTNER`               | `<partnerId>`         | partner profile                                    |
 * | `BATCH#<sensorId>#<key>`         | `CLAIM`               | idempotency claim of one batch: digest, days, receipt |
 * | `DAY#<day>#SENSOR#<sensorId>`    | `BATCH#<key>`         | one batch's contribution to one day (its aggregate)|
 * | `DAY#<day>#SENSOR#<sensorId>`    | `ROLLUP`              | sum of its contributions, written when the day is sealed (render job) |
 * | `DAY#<day>`                      | `SUMMARY`             | all sensors' sum for the day, sources (render job) |
 * | `HISTORY`                        | `<YYYY-MM>`           | per-day figures of a month for the long charts     |
 * | `DIRTY`                          | `<day>`               | a batch arrived for a past day: re-roll it         |
 * | `SEEN#<sensorId>`                | `LAST`                | when the sensor last sent a batch (silent warning) |
 * | `RENDER`                         | `STATE`               | the last day the render job closed, and sealed     |
 * | `RENDER`                         | `LEASE`               | the close lease: one render job at a time          |
 *
 * The first day each source was seen is not here but in the lake (`lake/first-seen/`, one Parquet object per
 * first day, folded per month; DESIGN §13): a close writes its new sources as one object, far cheaper than one
 * item per address.
 *
 * Why no item is hot:
 * - Every counting write during ingest creates a *new* item with a conditional put; nothing is
 *   read-modify-written, so concurrent batches never contend for one item, and no counted item is ever written
 *   by two sensors. The one exception is the dirty mark of a past day: an unconditional overwrite (whoever
 *   writes last wins, and any mark means the same), written once per batch that reaches back to that day.
 * - Contribution items are bounded by one batch's aggregate (a few KB), so they never grow; the rollup is
 *   rewritten whole by one job, not incremented.
 * - Partitions are per sensor-day and per batch, so write traffic spreads over as many partitions as there are
 *   sensors; a day's reads are one Query per sensor.
 * - The two registry partitions are written only by operators and read by ingest through a per-process cache,
 *   so listing sensors is a Query, never a Scan over the counters.
 *
 * Contributions and claims carry `ttl` = end of the day's horizon (+ a margin): as long as a day still accepts
 * alerts, a replayed batch for it is recognised; afterwards TTL removes them and the rollup remains.
 */

export const KEY_ATTRIBUTES = { partitionKey: 'pk', sortKey: 'sk', ttl: 'ttl' } as const;

export const REGISTRY_SENSOR_PK = 'REGISTRY#SENSOR';
export const REGISTRY_PARTNER_PK = 'REGISTRY#PARTNER';
export const CLAIM_SK = 'CLAIM';
export const ROLLUP_SK = 'ROLLUP';
export const DIRTY_PK = 'DIRTY';
export const SEEN_SK = 'LAST';

export function seenPk(sensorId: string): string {
  return `SEEN#${sensorId}`;
}

export function claimPk(sensorId: string, idempotencyKey: string): string {
  return `BATCH#${sensorId}#${idempotencyKey}`;
}

export function sensorDayPk(day: string, sensorId: string): string {
  return `DAY#${day}#SENSOR#${sensorId}`;
}

export function contributionSk(idempotencyKey: string): string {
  return `BATCH#${idempotencyKey}`;
}

/** What one function may do to the table: IAM actions, on items whose partition key matches one of the patterns. */
export interface ItemAccess {
  actions: readonly string[];
  /** IAM `StringLike` patterns over the partition key (`*` any run, `?` one character). */
  partitions: readonly string[];
}

/** A claim's or a contribution's partition of any sensor, batch or day, as a `StringLike` pattern. */
const ANY_DAY = '????-??-??';
const CLAIM_PARTITIONS = claimPk('*', '*');
const SENSOR_DAY_PARTITIONS = sensorDayPk(ANY_DAY, '*');

/**
 * Everything the ingest function does to the table (lib/ingest, through lib/store): it reads a sensor's registry
 * entry (GetItem) and, on a retry, which days already hold the batch's contribution (BatchGetItem); it writes
 * the batch's claim and its per-day contributions as puts of new items, the dirty mark of a past day, and its
 * sensor's last-seen mark (a conditional put, newest time wins). It
 * never updates or deletes, and never touches the day summaries (`DAY#<day>` alone), the history, the render
 * state, the partner registry or the link audit. The CDK grants exactly this; a test replays a real ingest
 * against DynamoDB Local and checks every request it sends against the synthesized grant.
 */
export const INGEST_ITEM_ACCESS: { read: ItemAccess; write: ItemAccess } = {
  read: { actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], partitions: [REGISTRY_SENSOR_PK, SENSOR_DAY_PARTITIONS] },
  write: { actions: ['dynamodb:PutItem'], partitions: [CLAIM_PARTITIONS, SENSOR_DAY_PARTITIONS, DIRTY_PK, seenPk('*')] },
};

/** Days after the horizon a contribution is still kept, so that clock skew never lets a replay through. */
export const TTL_MARGIN_DAYS = 2;

/** Epoch seconds at which items for `day` may be removed, given the alert horizon. */
export function expiryForDay(day: string, horizonDays: number): number {
  const start = Date.parse(`${day}T00:00:00Z`);
  return Math.floor(start / 1000) + (horizonDays + 1 + TTL_MARGIN_DAYS) * 86_400;
}

/** Parameters for CreateTable in the local stack and tests; the CDK stack declares the same schema. */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: KEY_ATTRIBUTES.partitionKey, AttributeType: 'S' as const },
      { AttributeName: KEY_ATTRIBUTES.sortKey, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: KEY_ATTRIBUTES.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: KEY_ATTRIBUTES.sortKey, KeyType: 'RANGE' as const },
    ],
  };
}

/** Sensor and partner ids: short, URL- and key-safe. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** DESIGN §4: 1–128 chars of [A-Za-z0-9._:-]. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
