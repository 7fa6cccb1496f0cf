/**
 * The objects a render publishes (DESIGN §8): the public graph, its data and page, the day's archive copy, and
 * the partner charts (PNG, JSON, CSV each) with their page. Pure but for drawing: data in, objects out.
 */
import type { PartnerChartData, PublicChartData, SeriesPoint } from '../charts/model.js';
import { partnerSpecs, publicDailySpec, type PartnerChartName } from '../charts/specs.js';
import { renderChart } from '../charts/render.js';
import { archiveKey, CACHE, PARTNER_INDEX, PUBLIC_KEYS } from '../publish/layout.js';
import { partnerIndexHtml, publicIndexHtml, type PartnerFigure } from '../publish/pages.js';
import type { PublishedObject } from '../publish/publish.js';
import type { SensorProfile } from '../store/registry.js';
import type { HistoryDay } from '../store/summaries.js';
import { publicChartData, toCsv } from './figures.js';
import type { PartnerStatistics, PeriodReport } from '../lake/report.js';
import { reportPageHtml } from '../publish/report-page.js';
import { reportKey } from '../publish/layout.js';

/** The analysts' statistics of a render (lib/render/job.ts analyseClosedDays). */
export interface RenderAnalysis {
  /** The partner charts' window (the last closed days). */
  statistics: PartnerStatistics;
  /** Monthly reports computed in this run, to publish. */
  reports: PeriodReport[];
  /** Every closed month (its report is published): links on the partner page. */
  months: string[];
}

export interface RenderObjectsDeps {
  publicBaseUrl: string;
  /** Chart renderer; a seam for tests that make a render fail. */
  renderChart?: typeof renderChart;
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

export async function renderObjects(
  deps: RenderObjectsDeps,
  pub: PublicChartData,
  partner: PartnerChartData,
  sensors: readonly SensorProfile[],
  opts: { archiveDay?: string; closedHistory: ReadonlyMap<string, HistoryDay>; analysis: RenderAnalysis },
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
  for (const report of opts.analysis.reports) {
    const month = report.from.slice(0, 7);
    objects.push(
      { key: reportKey(month, 'json'), body: JSON.stringify(report), contentType: 'application/json', cacheControl: CACHE.private },
      { key: reportKey(month, 'html'), body: reportPageHtml(report), contentType: 'text/html; charset=utf-8', cacheControl: CACHE.private },
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
