/**
 * Turns stored figures (history months, day summaries, the sensor registry) into the data the charts and the
 * published JSON/CSV show. Pure: no I/O, no clock.
 */
import type { CountRow, NewUnknownDay, PartnerChartData, PublicChartData, ScanDay, SensorMark, SeriesPoint } from '../charts/model.js';
import { SERIES } from '../charts/specs.js';
import { addAggregate, emptyAggregate } from '../counting/aggregate.js';
import { DEFAULT_WATCHED_PORTS } from '../settings.js';
import { daysBetween } from '../stats/daily.js';
import type { DaySummary, HistoryDay } from '../store/summaries.js';
import type { SensorProfile } from '../store/registry.js';

// The default watched ports are a setting (lib/settings.ts); exported here too, where the render job looks.
export { DEFAULT_WATCHED_PORTS };
export const TOP_PORTS = 14;
export const WINDOW_DAYS = 30;

export function sensorMarks(sensors: readonly SensorProfile[]): SensorMark[] {
  return [...sensors]
    .sort((a, b) => a.deployedAt.localeCompare(b.deployedAt) || a.id.localeCompare(b.id))
    .map((s) => ({ id: s.id, name: s.name, deployedAt: s.deployedAt }));
}

/** The first day the graph shows: the earliest deployment, or the earliest day with data if that is earlier. */
export function firstDay(sensors: readonly SensorProfile[], history: ReadonlyMap<string, HistoryDay>, today: string): string {
  let first = today;
  for (const s of sensors) if (s.deployedAt && s.deployedAt < first) first = s.deployedAt;
  for (const d of history.keys()) if (d < first) first = d;
  return first;
}

/** A history day counts as reported when at least one sensor sent a batch (a heartbeat included). */
function reported(h: HistoryDay | undefined): boolean {
  return h !== undefined && Object.keys(h.s).length > 0;
}

export function publicChartData(input: {
  generatedAt: string;
  today: string;
  sensors: readonly SensorProfile[];
  history: ReadonlyMap<string, HistoryDay>;
}): PublicChartData {
  const days = daysBetween(firstDay(input.sensors, input.history, input.today), input.today).map((date) => {
    const h = input.history.get(date);
    // Only a closed day has the full scan figure (behaviour and signature); before, `x` is the signature part.
    return { date, total: h?.t ?? 0, reported: reported(h), ...(h?.xc ? { scanAlerts: h.x } : {}) };
  });
  return { generatedAt: input.generatedAt, today: input.today, days, sensors: sensorMarks(input.sensors) };
}

export function topRows(counts: Record<string, number>, n = TOP_PORTS): CountRow[] {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([key, count]) => ({ key, count }));
}

export function partnerChartData(input: {
  generatedAt: string;
  today: string;
  /** The last closed day (yesterday, normally). */
  lastClosedDay: string;
  sensors: readonly SensorProfile[];
  history: ReadonlyMap<string, HistoryDay>;
  /** Day summaries of the last WINDOW_DAYS days up to lastClosedDay (missing days: no data). */
  window: ReadonlyMap<string, DaySummary>;
  watchedPorts?: readonly string[];
}): PartnerChartData {
  const watched = input.watchedPorts ?? DEFAULT_WATCHED_PORTS;
  const names = new Map(input.sensors.map((s) => [s.id, s.name]));
  const all = daysBetween(firstDay(input.sensors, input.history, input.today), input.today);
  const windowDays = [...input.window.keys()].sort();
  const windowAgg = emptyAggregate();
  for (const s of input.window.values()) addAggregate(windowAgg, s.aggregate);
  const lastDay = input.window.get(input.lastClosedDay);

  const watchedPorts: SeriesPoint[] = [];
  const perSensor: SeriesPoint[] = [];
  const sources: SeriesPoint[] = [];
  const icmp: SeriesPoint[] = [];
  const scans: ScanDay[] = [];
  const newUnknownSources: NewUnknownDay[] = [];
  for (const date of all) {
    const h = input.history.get(date);
    if (!reported(h)) continue;
    for (const port of watched) watchedPorts.push({ date, series: port, value: h!.w[port] ?? 0 });
    for (const [id, n] of Object.entries(h!.s)) perSensor.push({ date, series: names.get(id) ?? id, value: n });
    if (h!.src !== undefined) sources.push({ date, series: SERIES.distinctSources, value: h!.src });
    if (h!.nw !== undefined) sources.push({ date, series: SERIES.newSources, value: h!.nw });
    icmp.push({ date, series: SERIES.icmp, value: h!.i }, { date, series: SERIES.notIcmp, value: h!.t - h!.i });
    if (h!.xc) scans.push({ date, alerts: h!.t, scanAlerts: h!.x });
    if (h!.nu !== undefined) newUnknownSources.push({ date, newUnknownSources: h!.nu });
  }
  return {
    generatedAt: input.generatedAt,
    today: input.today,
    topPortsDay: { date: input.lastClosedDay, rows: lastDay ? topRows(lastDay.aggregate.byPort) : [] },
    topPortsWindow: { from: windowDays[0] ?? input.lastClosedDay, to: input.lastClosedDay, rows: topRows(windowAgg.byPort) },
    watchedPorts,
    perSensor,
    sources,
    icmp,
    scans,
    newUnknownSources,
    sensors: sensorMarks(input.sensors),
  };
}

/** The history entry of one day, from its summary. */
export function historyDay(summary: DaySummary, watchedPorts: readonly string[] = DEFAULT_WATCHED_PORTS): HistoryDay {
  const w: Record<string, number> = {};
  for (const port of watchedPorts) w[port] = summary.aggregate.byPort[port] ?? 0;
  const h: HistoryDay = { t: summary.aggregate.total, s: { ...summary.bySensor }, i: summary.aggregate.byProto.icmp, x: summary.scanAlerts ?? summary.aggregate.scan, w };
  if (summary.scanAlerts !== undefined) h.xc = true;
  if (summary.sources !== undefined) h.src = summary.sources;
  if (summary.newSources !== undefined) h.nw = summary.newSources;
  if (summary.newUnknownSources !== undefined) h.nu = summary.newUnknownSources;
  return h;
}

/** CSV with a header row; values that need it are quoted (RFC 4180). */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const cell = (v: string | number | null | undefined) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
