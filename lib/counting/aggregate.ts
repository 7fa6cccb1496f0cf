/**
 * Counting is pure: a batch of alerts becomes one aggregate per UTC day it touches. The store writes each
 * aggregate as one contribution item; rollups and statistics are sums of aggregates. Because a sum of
 * aggregates is independent of how alerts were split into batches, any split of a log counts the same.
 */
import type { Alert, Proto } from '../alerts/types.js';

export interface DayAggregate {
  total: number;
  byProto: Record<Proto, number>;
  /** Destination `<proto>/<port>` → alerts. Alerts without a destination port are not listed. */
  byPort: Record<string, number>;
  /** Signature key (the numeric id, or `msg:<text>` when there is none) → alerts. */
  bySignature: Record<string, number>;
  /** Signature key → the last text seen for it, for labels. */
  signatureNames: Record<string, string>;
  byCategory: Record<string, number>;
  /** Alerts whose category or signature says "scan". */
  scan: number;
}

export function emptyAggregate(): DayAggregate {
  return {
    total: 0,
    byProto: { tcp: 0, udp: 0, icmp: 0, other: 0 },
    byPort: {},
    bySignature: {},
    signatureNames: {},
    byCategory: {},
    scan: 0,
  };
}

const DAY_MS = 86_400_000;
const dayNames = new Map<number, string>();

/** The UTC date (YYYY-MM-DD) of an instant in ms. Cached per day number: called once per alert. */
export function utcDay(ms: number): string {
  const n = Math.floor(ms / DAY_MS);
  let name = dayNames.get(n);
  if (name === undefined) {
    name = new Date(n * DAY_MS).toISOString().slice(0, 10);
    if (dayNames.size > 10_000) dayNames.clear();
    dayNames.set(n, name);
  }
  return name;
}

const SCAN = /scan/i;

export function isScan(alert: Pick<Alert, 'category' | 'signature'>): boolean {
  return (alert.category !== undefined && SCAN.test(alert.category)) ||
    (alert.signature !== undefined && SCAN.test(alert.signature));
}

function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/** Counting maps are created without a prototype, so keys taken from alerts can never reach Object.prototype. */
function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function freshAggregate(): DayAggregate {
  const agg = emptyAggregate();
  agg.byPort = dict();
  agg.bySignature = dict();
  agg.signatureNames = dict();
  agg.byCategory = dict();
  return agg;
}

/** Counts a batch's alerts per UTC day, in time order of first appearance of each day. */
export function countBatch(alerts: readonly Alert[]): Map<string, DayAggregate> {
  const days = new Map<string, DayAggregate>();
  for (const alert of alerts) {
    const day = utcDay(alert.time);
    let agg = days.get(day);
    if (agg === undefined) {
      agg = freshAggregate();
      days.set(day, agg);
    }
    agg.total++;
    agg.byProto[alert.proto]++;
    if (alert.dstPort !== undefined && alert.proto !== 'icmp') bump(agg.byPort, `${alert.proto}/${alert.dstPort}`);
    if (alert.sigId !== undefined || alert.signature !== undefined) {
      const key = alert.sigId !== undefined ? String(alert.sigId) : `msg:${alert.signature}`;
      bump(agg.bySignature, key);
      if (alert.signature !== undefined) agg.signatureNames[key] = alert.signature;
    }
    if (alert.category !== undefined) bump(agg.byCategory, alert.category);
    if (isScan(alert)) agg.scan++;
  }
  return days;
}

/** Adds `add` into `into` (mutates and returns `into`). */
export function addAggregate(into: DayAggregate, add: DayAggregate): DayAggregate {
  into.total += add.total;
  for (const p of Object.keys(add.byProto) as Proto[]) into.byProto[p] += add.byProto[p];
  for (const [k, v] of Object.entries(add.byPort)) bump(into.byPort, k, v);
  for (const [k, v] of Object.entries(add.bySignature)) bump(into.bySignature, k, v);
  for (const [k, v] of Object.entries(add.signatureNames)) into.signatureNames[k] = v;
  for (const [k, v] of Object.entries(add.byCategory)) bump(into.byCategory, k, v);
  into.scan += add.scan;
  return into;
}

export function sumAggregates(aggs: Iterable<DayAggregate>): DayAggregate {
  const total = freshAggregate();
  for (const agg of aggs) addAggregate(total, agg);
  return total;
}

/**
 * Compact encoding for storage: DynamoDB bills writes by item size, so the aggregate is kept as one short
 * JSON string with one-letter members rather than a nested map (which costs bytes per entry and per name).
 */
export function encodeAggregate(agg: DayAggregate): string {
  const p = agg.byProto;
  return JSON.stringify({
    t: agg.total,
    p: [p.tcp, p.udp, p.icmp, p.other],
    d: agg.byPort,
    s: agg.bySignature,
    n: agg.signatureNames,
    c: agg.byCategory,
    x: agg.scan,
  });
}

function counts(value: unknown): Record<string, number> {
  const out = dict<number>();
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'number') out[k] = v;
  }
  return out;
}

export function decodeAggregate(text: string): DayAggregate {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const p = Array.isArray(raw.p) ? (raw.p as unknown[]).map((v) => (typeof v === 'number' ? v : 0)) : [];
  const names = dict<string>();
  if (raw.n && typeof raw.n === 'object') {
    for (const [k, v] of Object.entries(raw.n)) if (typeof v === 'string') names[k] = v;
  }
  return {
    total: typeof raw.t === 'number' ? raw.t : 0,
    byProto: { tcp: p[0] ?? 0, udp: p[1] ?? 0, icmp: p[2] ?? 0, other: p[3] ?? 0 },
    byPort: counts(raw.d),
    bySignature: counts(raw.s),
    signatureNames: names,
    byCategory: counts(raw.c),
    scan: typeof raw.x === 'number' ? raw.x : 0,
  };
}
