/**
 * Daily figures for `stats` (DESIGN §10), live from the counters: for each day and sensor, the rollup when it
 * is current, otherwise the sum of the sensor-day's contributions.
 */
import { addAggregate, emptyAggregate, sumAggregates, type DayAggregate } from '../counting/aggregate.js';
import type { SensorDay } from '../store/ledger.js';
import { daysBetween } from '../util/days.js';


export interface DayStats {
  date: string;
  total: number;
  /** Sensors that reported that day (a heartbeat counts, with 0); a sensor that sent nothing is absent. */
  bySensor: Record<string, number>;
  byProto: { tcp: number; udp: number; icmp: number; other: number };
  byPort: Record<string, number>;
  /** Distinct source addresses; null until the day's job has computed them. */
  sources: number | null;
  newSources: number | null;
  /** Scan alerts (by behaviour or signature, DESIGN §14) and new sources of unknown traffic; null until closed. */
  scanAlerts: number | null;
  newUnknownSources: number | null;
}

export interface SensorDayReader {
  /** Sensor-days keyed `<day>/<sensor>`; a sensor-day with no items may be absent. */
  readSensorDays(sensors: readonly string[], days: readonly string[]): Promise<ReadonlyMap<string, SensorDay>>;
}

/** A rollup is current when it summed exactly the contributions that exist (or they have all expired). */
export function currentAggregate(sd: SensorDay): { aggregate: DayAggregate; reported: boolean; fromRollup: boolean } {
  const live = sd.contributions.length;
  if (sd.rollup && (live === 0 || live === sd.rollup.contributions)) {
    return { aggregate: sd.rollup.aggregate, reported: true, fromRollup: true };
  }
  if (live === 0) return { aggregate: emptyAggregate(), reported: false, fromRollup: false };
  return { aggregate: sumAggregates(sd.contributions.map((c) => c.aggregate)), reported: true, fromRollup: false };
}

export { daysBetween };


function sortedCounts(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) out[k] = v;
  return out;
}

/** What the render job knows of a closed day: its summary, for `stats` to use instead of re-reading counters. */
export interface ClosedDay {
  aggregate: DayAggregate;
  bySensor: Record<string, number>;
  sources?: number;
  newSources?: number;
  scanAlerts?: number;
  newUnknownSources?: number;
}

/**
 * What the render job has settled for a range: the day summaries it wrote, and which days are closed (on or
 * before the last day it closed, and not re-opened by a late batch since). A closed day's summary is current,
 * and a closed day without a summary had no data. Every other day is read live from the counters.
 */
export interface SettledDays {
  summaries: ReadonlyMap<string, ClosedDay>;
  /** Closed and not re-opened since. */
  isClosed: (day: string) => boolean;
}

export async function dailyStats(
  reader: SensorDayReader,
  sensors: readonly string[],
  from: string,
  to: string,
  settledDays?: (days: readonly string[]) => Promise<SettledDays>,
): Promise<{ days: DayStats[] }> {
  const days = daysBetween(from, to);
  const settled: SettledDays = settledDays ? await settledDays(days) : { summaries: new Map(), isClosed: () => false };
  // Ten years of history costs one summary per day; only open and re-opened days cost a read per sensor.
  const open = days.filter((day) => !settled.isClosed(day));
  const sensorDays = open.length > 0 ? await reader.readSensorDays(sensors, open) : new Map<string, SensorDay>();
  const read = open.flatMap((day) => sensors.map((sensor) => ({ day, sensor, sd: sensorDays.get(`${day}/${sensor}`) ?? { contributions: [] } })));
  const byDay = new Map<string, { agg: DayAggregate; bySensor: Record<string, number> }>();
  for (const day of days) {
    const summary = settled.isClosed(day) ? settled.summaries.get(day) : undefined;
    byDay.set(day, summary ? { agg: summary.aggregate, bySensor: { ...summary.bySensor } } : { agg: emptyAggregate(), bySensor: {} });
  }
  for (const { day, sensor, sd } of read) {
    const { aggregate, reported } = currentAggregate(sd);
    if (!reported) continue;
    const entry = byDay.get(day)!;
    entry.bySensor[sensor] = aggregate.total;
    addAggregate(entry.agg, aggregate);
  }
  return {
    days: days.map((date) => {
      const { agg, bySensor } = byDay.get(date)!;
      // Source figures and scans come from the daily close on the lake (not counted at ingest).
      const c = settled.summaries.get(date);
      return {
        date,
        total: agg.total,
        bySensor,
        byProto: { ...agg.byProto },
        byPort: sortedCounts(agg.byPort),
        sources: c?.sources ?? null,
        newSources: c?.newSources ?? null,
        scanAlerts: c?.scanAlerts ?? null,
        newUnknownSources: c?.newUnknownSources ?? null,
      };
    }),
  };
}
