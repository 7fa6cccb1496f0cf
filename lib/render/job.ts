/**
 * The render job (DESIGN §§6, 8): rolls up the days that changed, closes finished days (exact distinct and new
 * sources from the raw archive), renders the public and partner charts and publishes them.
 *
 * Which days are rolled up in a run:
 *  - today, always ("today so far");
 *  - every day after the last closed one up to the day being closed now (the previous day, once the daily
 *    time has passed) — on the very first run, the whole history;
 *  - every past day a late batch marked (dirty marks written by ingest).
 * Rollups and summaries are whole overwrites, so running the job twice, or after a crash, is harmless.
 */
import type { PartnerChartData, PublicChartData, SeriesPoint } from '../charts/model.js';
import { partnerSpecs, publicDailySpec, type PartnerChartName } from '../charts/specs.js';
import { renderChart } from '../charts/render.js';
import { sumAggregates, type DayAggregate } from '../counting/aggregate.js';
import type { Log } from '../log.js';
import { archiveKey, CACHE, PARTNER_INDEX, PUBLIC_KEYS } from '../publish/layout.js';
import { partnerIndexHtml, publicIndexHtml, type PartnerFigure } from '../publish/pages.js';
import type { PublishedObject, Publisher } from '../publish/publish.js';
import { daysBetween, mapLimit } from '../stats/daily.js';
import type { DynamoBatchLedger, StoredContribution } from '../store/ledger.js';
import type { SensorProfile, SensorRegistry } from '../store/registry.js';
import type { DaySummary, HistoryDay, SummaryStore } from '../store/summaries.js';
import { addDays, DAY_MS, utcDay } from '../util/days.js';
import { collectDaySources, type RawReader } from './sources.js';
import { historyDay, partnerChartData, publicChartData, toCsv, WINDOW_DAYS, DEFAULT_WATCHED_PORTS, firstDay } from './figures.js';

export interface RenderDeps {
  registry: Pick<SensorRegistry, 'listSensors'>;
  ledger: Pick<DynamoBatchLedger, 'readSensorDay'>;
  summaries: SummaryStore;
  raw: RawReader;
  publisher: Publisher;
  pseudonymKey: Uint8Array;
  clock: () => number;
  log: Log;
  /** Minutes after UTC midnight from which the previous day is closed (late batches get this long). */
  closeAfterMinutes: number;
  watchedPorts?: string[];
  /** Absolute base URL of the public CDN path, for the embed snippet. */
  publicBaseUrl: string;
  /** Chart renderer; a seam for tests that make a render fail. */
  renderChart?: typeof renderChart;
}

export interface RenderReport {
  today: string;
  closedThrough?: string;
  rolledUp: string[];
  published: number;
  ms: number;
}

/** The day that may be closed at `now`: yesterday once the daily time has passed, else the day before. */
export function closableDay(now: number, closeAfterMinutes: number): string {
  const today = utcDay(now);
  const minutes = Math.floor((now % DAY_MS) / 60_000);
  return addDays(today, minutes >= closeAfterMinutes ? -1 : -2);
}

interface RolledDay {
  summary: DaySummary;
  contributions: { sensor: string; items: StoredContribution[] }[];
}

async function rollUpDay(deps: RenderDeps, sensors: readonly string[], day: string, at: string): Promise<RolledDay> {
  const bySensor: Record<string, number> = {};
  const counts: Record<string, number> = {};
  const aggregates: DayAggregate[] = [];
  const contributions: { sensor: string; items: StoredContribution[] }[] = [];
  await mapLimit(sensors, 8, async (sensor) => {
    const sd = await deps.ledger.readSensorDay(sensor, day);
    const live = sd.contributions.length;
    let agg: DayAggregate | undefined;
    if (live > 0) {
      agg = sumAggregates(sd.contributions.map((c) => c.aggregate));
      if (!sd.rollup || sd.rollup.contributions !== live) await deps.summaries.putSensorDayRollup(sensor, day, agg, live, at);
      contributions.push({ sensor, items: sd.contributions });
    } else if (sd.rollup) {
      // Contributions are gone once the day is past the horizon; the rollup is then the record.
      agg = sd.rollup.aggregate;
    }
    if (agg) {
      bySensor[sensor] = agg.total;
      counts[sensor] = live || (sd.rollup?.contributions ?? 0);
      aggregates.push(agg);
    }
  });
  return { summary: { day, aggregate: sumAggregates(aggregates), bySensor, contributions: counts, computedAt: at }, contributions };
}

export async function runRenderJob(deps: RenderDeps, opts: { date?: string; all?: boolean } = {}): Promise<RenderReport> {
  const started = Date.now();
  const now = deps.clock();
  const realToday = utcDay(now);
  const today = opts.date && opts.date < realToday ? opts.date : realToday;
  const at = new Date(now).toISOString();
  const closeThrough = opts.date && opts.date < realToday ? opts.date : closableDay(now, deps.closeAfterMinutes);
  const watched = deps.watchedPorts ?? DEFAULT_WATCHED_PORTS;

  const sensors = await deps.registry.listSensors();
  const ids = sensors.map((s) => s.id);
  const state = await deps.summaries.getRenderState();
  const history = new Map(await deps.summaries.readHistory());
  const dirty = (await deps.summaries.listDirty()).filter((m) => m.day < realToday);

  // Days to roll up, oldest first (new sources must be decided in day order).
  const start = firstDay(sensors, history, today);
  const fromClosed = opts.all || !state.lastClosedDay ? start : addDays(state.lastClosedDay, 1);
  const days = new Set<string>();
  if (fromClosed <= today) for (const d of daysBetween(fromClosed, today)) days.add(d);
  for (const m of dirty) if (m.day <= today) days.add(m.day);
  days.add(today);
  const ordered = [...days].sort();

  const previous = await deps.summaries.getDaySummaries(ordered.filter((d) => d <= closeThrough));
  for (const day of ordered) {
    const { summary, contributions } = await rollUpDay(deps, ids, day, at);
    const old = previous.get(day);
    if (day <= closeThrough) {
      const live = contributions.reduce((n, c) => n + c.items.length, 0);
      if (live > 0) {
        const found = await collectDaySources(deps.raw, day, contributions, deps.pseudonymKey);
        summary.sources = found.pseudonyms.size;
        summary.newSources = await deps.summaries.recordFirstSeen(day, [...found.pseudonyms]);
        summary.signatureNames = found.signatureNames;
      } else if (old) {
        // Past the horizon the raw batches are no longer read: keep what was computed when the day closed.
        summary.sources = old.sources;
        summary.newSources = old.newSources;
        summary.signatureNames = old.signatureNames;
      }
    }
    if (Object.keys(summary.bySensor).length > 0 || old) await deps.summaries.putDaySummary(summary);
    if (Object.keys(summary.bySensor).length > 0) history.set(day, historyDay(summary, watched));
    else history.delete(day);
  }

  // Rewrite the history months that hold a rolled-up day.
  const months = new Set(ordered.map((d) => d.slice(0, 7)));
  for (const month of months) {
    const entries: Record<string, HistoryDay> = {};
    for (const [d, h] of history) if (d.startsWith(month)) entries[d] = h;
    await deps.summaries.putHistoryMonth(month, entries);
  }

  const windowDays = daysBetween(addDays(closeThrough, -(WINDOW_DAYS - 1)), closeThrough);
  const window = await deps.summaries.getDaySummaries(windowDays);
  const publicData = publicChartData({ generatedAt: at, today, sensors, history });
  const partnerData = partnerChartData({ generatedAt: at, today, lastClosedDay: closeThrough, sensors, history, window, watchedPorts: watched });
  // The closed day's own graph is archived once; later runs (and re-opened days) leave it as it was.
  const archiveDay = closeThrough >= start && !(await deps.publisher.has(archiveKey(closeThrough))) ? closeThrough : undefined;
  const objects = await renderObjects(deps, publicData, partnerData, sensors, { archiveDay, closedHistory: history });
  const { written } = await deps.publisher.publish(objects);

  for (const m of dirty) await deps.summaries.clearDirty(m);
  const closedThrough = !state.lastClosedDay || closeThrough > state.lastClosedDay ? closeThrough : state.lastClosedDay;
  if (!opts.date) await deps.summaries.putRenderState({ lastClosedDay: closedThrough, lastRenderAt: at });
  const report = { today, closedThrough, rolledUp: ordered, published: written, ms: Date.now() - started };
  deps.log.info('render', { today, closedThrough, days: ordered.length, published: written, ms: report.ms });
  return report;
}

/** What the partner page says about each chart (the specs come from `partnerSpecs`, under the same names). */
const PARTNER_FIGURES: (PartnerFigure & { name: PartnerChartName; data: (d: PartnerChartData) => { json: unknown; csv: string } })[] = [
  {
    name: 'top-ports-day',
    title: 'Top 14 destination ports, last closed day',
    description: 'Alerts per destination port and protocol on the last complete UTC day.',
    data: (d) => ({ json: d.topPortsDay, csv: toCsv(['port', 'alerts'], d.topPortsDay.rows.map((r) => [r.key, r.count])) }),
  },
  {
    name: 'top-ports-30d',
    title: 'Top 14 destination ports, last 30 days',
    description: 'Alerts per destination port and protocol over the last 30 complete UTC days.',
    data: (d) => ({ json: d.topPortsWindow, csv: toCsv(['port', 'alerts'], d.topPortsWindow.rows.map((r) => [r.key, r.count])) }),
  },
  seriesFigure('watched-ports', 'Watched ports', 'Alerts per day on the watched destination ports.', (d) => d.watchedPorts),
  seriesFigure('per-sensor', 'Alerts per sensor', 'Alerts per day, stacked by sensor.', (d) => d.perSensor),
  seriesFigure('sources', 'Source addresses', 'Distinct source addresses per day, and those never seen before by any sensor (closed days only).', (d) => d.sources),
  seriesFigure('icmp', 'ICMP and other protocols', 'Alerts per day: ICMP against all other protocols.', (d) => d.icmp),
  seriesFigure('scans', 'Scan alerts', 'Alerts per day whose category or signature names a scan.', (d) => d.scans),
];

function seriesFigure(name: PartnerChartName, title: string, description: string, pick: (d: PartnerChartData) => SeriesPoint[]) {
  return {
    name,
    title,
    description,
    data: (d: PartnerChartData) => {
      const points = pick(d);
      return { json: { generatedAt: d.generatedAt, points }, csv: toCsv(['date', 'series', 'value'], points.map((p) => [p.date, p.series, p.value])) };
    },
  };
}

async function renderObjects(
  deps: RenderDeps,
  pub: PublicChartData,
  partner: PartnerChartData,
  sensors: readonly SensorProfile[],
  opts: { archiveDay?: string; closedHistory: ReadonlyMap<string, HistoryDay> },
): Promise<PublishedObject[]> {
  const objects: PublishedObject[] = [];
  const render = deps.renderChart ?? renderChart;
  const main = await render(publicDailySpec(pub));
  const publicJson = {
    generatedAt: pub.generatedAt,
    sensors: pub.sensors,
    days: pub.days.map((d) => ({ date: d.date, total: d.total })),
  };
  objects.push(
    { key: PUBLIC_KEYS.png, body: main.png, contentType: 'image/png', cacheControl: CACHE.short },
    { key: PUBLIC_KEYS.svg, body: main.svg, contentType: 'image/svg+xml', cacheControl: CACHE.short },
    { key: PUBLIC_KEYS.json, body: JSON.stringify(publicJson), contentType: 'application/json', cacheControl: CACHE.short },
    { key: PUBLIC_KEYS.csv, body: toCsv(['date', 'total'], pub.days.map((d) => [d.date, d.total])), contentType: 'text/csv; charset=utf-8', cacheControl: CACHE.short },
    {
      key: PUBLIC_KEYS.index,
      body: publicIndexHtml({ generatedAt: pub.generatedAt, sensors: pub.sensors, publicBaseUrl: deps.publicBaseUrl }),
      contentType: 'text/html; charset=utf-8',
      cacheControl: CACHE.short,
    },
  );
  if (opts.archiveDay) {
    // The day's own graph: the history up to and including that day, complete.
    const archived = opts.archiveDay === pub.today
      ? main
      : await render(publicDailySpec(publicChartData({ generatedAt: pub.generatedAt, today: opts.archiveDay, sensors, history: opts.closedHistory })));
    objects.push({ key: archiveKey(opts.archiveDay), body: archived.png, contentType: 'image/png', cacheControl: CACHE.immutable, writeOnce: true });
  }
  const specs = partnerSpecs(partner);
  for (const f of PARTNER_FIGURES) {
    const built = f.data(partner);
    const chart = await render(specs[f.name]);
    objects.push(
      { key: `partners/${f.name}.png`, body: chart.png, contentType: 'image/png', cacheControl: CACHE.private },
      { key: `partners/${f.name}.json`, body: JSON.stringify(built.json), contentType: 'application/json', cacheControl: CACHE.private },
      { key: `partners/${f.name}.csv`, body: built.csv, contentType: 'text/csv; charset=utf-8', cacheControl: CACHE.private },
    );
  }
  objects.push({
    key: PARTNER_INDEX,
    body: partnerIndexHtml({ generatedAt: partner.generatedAt, sensors: partner.sensors, figures: PARTNER_FIGURES }),
    contentType: 'text/html; charset=utf-8',
    cacheControl: CACHE.private,
  });
  return objects;
}
