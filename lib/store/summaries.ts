/**
 * What the render job writes and reads (key schema in table.ts):
 *  - sensor-day rollups     `DAY#<day>#SENSOR#<id>` / `ROLLUP`  — sum of that sensor-day's contributions
 *  - day summaries          `DAY#<day>` / `SUMMARY`            — all sensors' sum, per-sensor totals, sources
 *  - history months         `HISTORY` / `<YYYY-MM>`            — the few figures per day the long charts need,
 *                                                                 so ten years are 120 items in one Query
 *  - dirty marks            `DIRTY` / `<day>`                  — a batch arrived for a day already closed
 *  - close lease            `RENDER` / `LEASE`                 — held by the one job closing days (DESIGN §13)
 *  - render state           `RENDER` / `STATE`
 * All are written whole by the render job (idempotent overwrites), never incremented; only dirty marks are
 * written by ingest, one per day, unconditionally.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { batchGet, batchPut, queryPartition } from './dynamo.js';
import { emptyAggregate, type DayAggregate } from '../counting/aggregate.js';
import { withStorage } from './errors.js';
import { packAggregate, unpackAggregate } from './ledger.js';
import { DIRTY_PK, ROLLUP_SK, sensorDayPk } from './table.js';

export const DAY_SUMMARY_SK = 'SUMMARY';
export const HISTORY_PK = 'HISTORY';
export const RENDER_STATE = { pk: 'RENDER', sk: 'STATE' } as const;
export const LEASE = { pk: 'RENDER', sk: 'LEASE' } as const;

export function daySummaryPk(day: string): string {
  return `DAY#${day}`;
}

export interface DaySummary {
  day: string;
  aggregate: DayAggregate;
  /** Sensor id → alerts that day; a sensor that reported (even 0) is listed. */
  bySensor: Record<string, number>;
  /** Sensor id → contributions summed; tells a stale summary from a current one. */
  contributions: Record<string, number>;
  /** Distinct source addresses (pseudonyms) that day, all sensors; undefined until the day is closed. */
  sources?: number;
  newSources?: number;
  /** Scan alerts (DESIGN §14: scan source-days and scan signatures) and new sources of unknown traffic, closed days only. */
  scanAlerts?: number;
  newUnknownSources?: number;
  /** Distinct sources per sensor and per port (`tcp/445`), closed days only. */
  sourcesBySensor?: Record<string, number>;
  sourcesByPort?: Record<string, number>;
  /** Signature key → text, for labels, from the facts (closed days only). */
  signatureNames?: Record<string, string>;
  computedAt: string;
}

/** One day in a history month: what the whole-history charts draw. */
export interface HistoryDay {
  /** total */
  t: number;
  /** per sensor */
  s: Record<string, number>;
  /** ICMP alerts */
  i: number;
  /** scan alerts (DESIGN §14) of a closed day; before the day closes, the alerts whose signature or category names a scan */
  x: number;
  /** whether `x` is the closed day's full figure (behaviour and signature) */
  xc?: boolean;
  /** new sources of unknown traffic, closed days */
  nu?: number;
  /** watched ports (`tcp/445` → n) */
  w: Record<string, number>;
  /** distinct and new sources, when known */
  src?: number;
  nw?: number;
}

export interface DirtyMark {
  /** The mark's sort key. */
  key: string;
  day: string;
  /** When the last batch marked it: a mark is cleared only if no batch marked it again since it was read. */
  at: string;
}

export interface SensorDayRollupWrite {
  sensor: string;
  day: string;
  aggregate: DayAggregate;
  contributions: number;
  at: string;
}

export interface RenderState {
  /** The last day whose sources were computed and summary closed. */
  lastClosedDay?: string;
  lastRenderAt?: string;
  /** The last day whose rollups are written (render job: sealed SEAL_MARGIN_DAYS before the horizon). */
  lastSealedDay?: string;
}

export class SummaryStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** Writes sensor-day rollups, 25 per request. */
  async putSensorDayRollups(rollups: readonly SensorDayRollupWrite[]): Promise<void> {
    const items = rollups.map((r): Record<string, AttributeValue> => ({
      pk: { S: sensorDayPk(r.day, r.sensor) },
      sk: { S: ROLLUP_SK },
      agg: { B: packAggregate(r.aggregate) },
      contributions: { N: String(r.contributions) },
      at: { S: r.at },
    }));
    await batchPut(this.client, this.tableName, items);
  }

  async putDaySummary(s: DaySummary): Promise<void> {
    await withStorage(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: summaryItem(s) })));
  }

  /** Writes many day summaries, 25 per request (whole overwrites, like putDaySummary). */
  async putDaySummaries(summaries: readonly DaySummary[]): Promise<void> {
    await batchPut(this.client, this.tableName, summaries.map(summaryItem));
  }

  /** Summaries of the given days (absent days are missing from the map). */
  async getDaySummaries(days: readonly string[]): Promise<Map<string, DaySummary>> {
    const keys = days.map((d) => ({ pk: { S: daySummaryPk(d) }, sk: { S: DAY_SUMMARY_SK } }));
    const out = new Map<string, DaySummary>();
    for (const item of await batchGet(this.client, this.tableName, keys)) {
      const s = parseSummary(item);
      out.set(s.day, s);
    }
    return out;
  }

  /** For `stats`: the summaries of the given days, and which days are closed (closedDays). */
  async settledDays(days: readonly string[]) {
    const [summaries, isClosed] = await Promise.all([this.getDaySummaries(days), this.closedDays()]);
    return { summaries, isClosed };
  }

  async putHistoryMonth(month: string, days: Record<string, HistoryDay>): Promise<void> {
    await withStorage(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { pk: { S: HISTORY_PK }, sk: { S: month }, days: { S: JSON.stringify(days) } },
        }),
      ),
    );
  }

  /** Every history month, oldest first: one paginated Query. */
  async readHistory(): Promise<Map<string, HistoryDay>> {
    const out = new Map<string, HistoryDay>();
    for (const item of await queryPartition(this.client, this.tableName, HISTORY_PK)) {
      const days = JSON.parse(item.days?.S ?? '{}') as Record<string, HistoryDay>;
      for (const [d, v] of Object.entries(days)) out.set(d, v);
    }
    return out;
  }

  /** Dirty marks: one per day (`<day>`; marks written before the lake, `<day>#<sensor>`, are read too). */
  async listDirty(): Promise<DirtyMark[]> {
    return (await queryPartition(this.client, this.tableName, DIRTY_PK, { consistent: true })).map((item) => {
      const sk = item.sk?.S ?? '';
      return { key: sk, day: sk.slice(0, 10), at: item.at?.S ?? '' };
    });
  }

  /** The delete of a mark, on condition that no newer batch marked its day again (its `at` is unchanged). */
  private dirtyDelete(mark: DirtyMark) {
    return {
      TableName: this.tableName,
      Key: { pk: { S: DIRTY_PK }, sk: { S: mark.key } },
      ConditionExpression: '#at = :at',
      ExpressionAttributeNames: { '#at': 'at' },
      ExpressionAttributeValues: { ':at': { S: mark.at } },
    };
  }

  /** Clears a dirty mark unless a newer batch marked it again meanwhile. */
  private async clearDirty(mark: DirtyMark): Promise<void> {
    try {
      await withStorage(() =>
        this.client.send(new DeleteItemCommand(this.dirtyDelete(mark))),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /**
   * Clears dirty marks as clearDirty does each. Many at once (a first run after a backfill marks every day) go
   * 100 to a transaction, all or none: when a newer batch re-marked one of them meanwhile, that transaction is
   * cancelled and its marks are cleared one by one, so the re-marked one stays.
   */
  async clearDirtyMarks(marks: readonly DirtyMark[]): Promise<void> {
    // A few (the usual run: a late batch re-opened a day or two) one by one: a transaction's delete costs twice
    // the write units of a plain one (AWS, "Capacity management for transactions").
    if (marks.length < 8) {
      await Promise.all(marks.map((m) => this.clearDirty(m)));
      return;
    }
    for (let i = 0; i < marks.length; i += 100) {
      const chunk = marks.slice(i, i + 100);
      try {
        await withStorage(() =>
          this.client.send(
            new TransactWriteItemsCommand({ TransactItems: chunk.map((mark) => ({ Delete: this.dirtyDelete(mark) })) }),
          ),
        );
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        for (const m of chunk) await this.clearDirty(m);
      }
    }
  }

  /** Which days are closed: on or before the last closed day, and not reopened by a late batch since. */
  async closedDays(): Promise<(day: string) => boolean> {
    const [state, dirty] = await Promise.all([this.getRenderState(), this.listDirty()]);
    const reopened = new Set(dirty.map((m) => m.day));
    return (day) => state.lastClosedDay !== undefined && day <= state.lastClosedDay && !reopened.has(day);
  }

  async getRenderState(): Promise<RenderState> {
    const res = await withStorage(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: RENDER_STATE.pk }, sk: { S: RENDER_STATE.sk } },
          ConsistentRead: true,
        }),
      ),
    );
    return { lastClosedDay: res.Item?.lastClosedDay?.S, lastRenderAt: res.Item?.lastRenderAt?.S, lastSealedDay: res.Item?.lastSealedDay?.S };
  }

  async putRenderState(state: RenderState): Promise<void> {
    const item: Record<string, AttributeValue> = { pk: { S: RENDER_STATE.pk }, sk: { S: RENDER_STATE.sk } };
    if (state.lastClosedDay) item.lastClosedDay = { S: state.lastClosedDay };
    if (state.lastRenderAt) item.lastRenderAt = { S: state.lastRenderAt };
    if (state.lastSealedDay) item.lastSealedDay = { S: state.lastSealedDay };
    await withStorage(() => this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item })));
  }

  /**
   * The close lease (DESIGN §13): one render job at a time closes days. Taken when free or expired; `owner`
   * names the holder, so only it releases the lease. Returns the current holder when it is taken by another.
   */
  async acquireLease(owner: string, now: number, ttlMs: number): Promise<{ acquired: true } | { acquired: false; owner: string; until: string }> {
    try {
      await withStorage(() =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: { pk: { S: LEASE.pk }, sk: { S: LEASE.sk }, owner: { S: owner }, until: { N: String(now + ttlMs) } },
            ConditionExpression: 'attribute_not_exists(pk) OR #until < :now OR #owner = :owner',
            ExpressionAttributeNames: { '#until': 'until', '#owner': 'owner' },
            ExpressionAttributeValues: { ':now': { N: String(now) }, ':owner': { S: owner } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { acquired: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const item = err.Item;
      return { acquired: false, owner: item?.owner?.S ?? '?', until: new Date(Number(item?.until?.N ?? 0)).toISOString() };
    }
  }

  /** Releases the lease if `owner` holds it; with no owner, whoever holds it (the local stack at start). */
  async releaseLease(owner?: string): Promise<void> {
    try {
      await withStorage(() =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: LEASE.pk }, sk: { S: LEASE.sk } },
            ...(owner
              ? { ConditionExpression: '#owner = :owner', ExpressionAttributeNames: { '#owner': 'owner' }, ExpressionAttributeValues: { ':owner': { S: owner } } }
              : {}),
          }),
        ),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}

function summaryItem(s: DaySummary): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    pk: { S: daySummaryPk(s.day) },
    sk: { S: DAY_SUMMARY_SK },
    agg: { B: packAggregate(s.aggregate) },
    bySensor: { S: JSON.stringify(s.bySensor) },
    contributions: { S: JSON.stringify(s.contributions) },
    at: { S: s.computedAt },
  };
  if (s.sources !== undefined) item.sources = { N: String(s.sources) };
  if (s.newSources !== undefined) item.newSources = { N: String(s.newSources) };
  if (s.scanAlerts !== undefined) item.scanAlerts = { N: String(s.scanAlerts) };
  if (s.newUnknownSources !== undefined) item.newUnknown = { N: String(s.newUnknownSources) };
  if (s.signatureNames) item.names = { S: JSON.stringify(s.signatureNames) };
  if (s.sourcesBySensor) item.srcSensor = { S: JSON.stringify(s.sourcesBySensor) };
  // Per-port source counts have the shape of an aggregate's ports: packed the same way, so thousands of
  // ports stay a few KB.
  if (s.sourcesByPort) item.srcPort = { B: packAggregate({ ...emptyAggregate(), byPort: s.sourcesByPort }) };
  return item;
}

function parseSummary(item: Record<string, AttributeValue>): DaySummary {
  return {
    day: (item.pk?.S ?? '').slice(4),
    aggregate: unpackAggregate(item.agg)!,
    bySensor: JSON.parse(item.bySensor?.S ?? '{}') as Record<string, number>,
    contributions: JSON.parse(item.contributions?.S ?? '{}') as Record<string, number>,
    sources: item.sources?.N !== undefined ? Number(item.sources.N) : undefined,
    newSources: item.newSources?.N !== undefined ? Number(item.newSources.N) : undefined,
    scanAlerts: item.scanAlerts?.N !== undefined ? Number(item.scanAlerts.N) : undefined,
    newUnknownSources: item.newUnknown?.N !== undefined ? Number(item.newUnknown.N) : undefined,
    signatureNames: item.names?.S ? (JSON.parse(item.names.S) as Record<string, string>) : undefined,
    sourcesBySensor: item.srcSensor?.S ? (JSON.parse(item.srcSensor.S) as Record<string, number>) : undefined,
    sourcesByPort: unpackAggregate(item.srcPort)?.byPort,
    computedAt: item.at?.S ?? '',
  };
}
