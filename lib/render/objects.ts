/**
 * The objects a render publishes (DESIGN §8): the public graphs, their data and page, the day's archive copy,
 * the partner charts (PNG, JSON, CSV each) with their page, and the monthly reports. Pure but for drawing: data
 * in, objects out.
 */
import type { PartnerChartData, PublicChartData, SeriesPoint } from '../charts/model.js';
import { PARTNER_CHARTS, partnerSpecs, publicDailySpec, publicNoScanSpec, type PartnerChartName, type Spec } from '../charts/specs.js';
import { portBinLabel, statisticsSpecs } from '../charts/statistics-specs.js';
import { chartRenderer } from '../charts/load.js';
import type { renderChart } from '../charts/render.js';
import { archiveKey, CACHE, PARTNER_INDEX, PUBLIC_KEYS, reportKey } from '../publish/layout.js';
import { partnerIndexHtml, publicIndexHtml, type PartnerFigure, type ScanShare } from '../publish/pages.js';
import type { PublishedObject } from '../publish/publish.js';
import { reportPageHtml, renderReportFigures } from '../publish/report-page.js';
import type { PartnerStatistics, PeriodReport } from '../lake/report.js';
import { serviceName } from '../ports/index.js';
import type { SensorProfile } from '../store/registry.js';
import type { HistoryDay } from '../store/summaries.js';
import { publicChartData, toCsv, WINDOW_DAYS } from './figures.js';
import { mapLimit } from '../util/map-limit.js';
import type { Warning } from '../warnings/model.js';
import type { WarningSettings } from '../config.js';
import { partnerWarnings, partnerWarningObjects } from '../warnings/publish.js';

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

/**
 * The public graph without scan alerts and its data (DESIGN §14: "the scan share drawn distinctly, so one scan
 * day does not flatten the graph"). `alerts-daily.json` keeps its shape; the scan share has a JSON of its own.
 */
export const PUBLIC_NOSCAN_KEYS = {
  png: 'public/alerts-daily-noscan.png',
  svg: 'public/alerts-daily-noscan.svg',
  json: 'public/alerts-daily-noscan.json',
  csv: 'public/alerts-daily-noscan.csv',
} as const;

/** What a partner chart is drawn from: the history (whole-history series) and the window's statistics. */
export interface PartnerChartInput {
  partner: PartnerChartData;
  statistics: PartnerStatistics;
}

export interface PartnerChart extends PartnerFigure {
  name: PartnerChartName;
  /** The published JSON (for window charts: the matching fields of the window's `report --json`) and CSV. */
  data: (input: PartnerChartInput) => { json: unknown; csv: string };
}

const pick = <T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> =>
  Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;
const service = (port: string) => serviceName(port) ?? '';

function seriesChart(
  name: PartnerChartName,
  title: string,
  description: string,
  points: (d: PartnerChartData) => SeriesPoint[],
): PartnerChart {
  return {
    name,
    title,
    description,
    section: 'history',
    data: ({ partner }) => {
      const p = points(partner);
      return { json: { generatedAt: partner.generatedAt, points: p }, csv: toCsv(['date', 'series', 'value'], p.map((x) => [x.date, x.series, x.value])) };
    },
  };
}

/** The partner charts, in the order of the page (`PARTNER_CHARTS`), with what the page says about each. */
export const PARTNER_FIGURES: readonly PartnerChart[] = [
  seriesChart('per-sensor', 'Alerts per sensor', 'Alerts per UTC day, stacked by sensor; dashed lines mark when each sensor was deployed.', (d) => d.perSensor),
  {
    name: 'scans',
    title: 'Scan alerts per day',
    description:
      'Alerts of sources that touched 20 or more ports or addresses in a day (over all sensors), plus alerts whose signature or category names a scan, against all alerts; closed days only.',
    section: 'history',
    data: ({ partner }) => ({
      json: { generatedAt: partner.generatedAt, days: partner.scans },
      csv: toCsv(['date', 'alerts', 'scanAlerts'], partner.scans.map((d) => [d.date, d.alerts, d.scanAlerts])),
    }),
  },
  seriesChart(
    'icmp',
    'Alerts by protocol: ICMP and the rest',
    'ICMP alerts per day against TCP, UDP and all other alerts. This counts alerts by protocol; "ICMP and non-ICMP sources" below counts sources.',
    (d) => d.icmp,
  ),
  seriesChart('watched-ports', 'Watched ports per day', 'Alerts per day on each watched destination port (all sensors).', (d) => d.watchedPorts),
  seriesChart(
    'sources',
    'Source addresses per day',
    'Distinct source addresses per day, and those never seen before by any sensor; known once a day is closed.',
    (d) => d.sources,
  ),
  {
    name: 'new-unknown-sources',
    title: 'New sources of unknown traffic per day',
    description:
      'Sources first seen that day (by any sensor) with at least one alert that is not a scan alert: new actors doing something other than scanning. Closed days only.',
    section: 'history',
    data: ({ partner }) => ({
      json: { generatedAt: partner.generatedAt, days: partner.newUnknownSources },
      csv: toCsv(['date', 'newUnknownSources'], partner.newUnknownSources.map((d) => [d.date, d.newUnknownSources])),
    }),
  },
  {
    name: 'top-ports-day',
    title: 'Top destination ports, last closed day',
    description: 'The 14 destination ports (protocol/port and registered service) with most alerts on the last complete UTC day.',
    section: 'window',
    data: ({ partner: d }) => ({
      json: d.topPortsDay,
      csv: toCsv(['port', 'service', 'alerts'], d.topPortsDay.rows.map((r) => [r.key, service(r.key), r.count])),
    }),
  },
  {
    name: 'top-ports-30d',
    title: `Top destination ports, last ${WINDOW_DAYS} closed days`,
    description: `The 14 destination ports with most alerts over the last ${WINDOW_DAYS} complete UTC days.`,
    section: 'window',
    data: ({ partner: d }) => ({
      json: d.topPortsWindow,
      csv: toCsv(['port', 'service', 'alerts'], d.topPortsWindow.rows.map((r) => [r.key, service(r.key), r.count])),
    }),
  },
  {
    name: 'port-sources',
    title: 'Distinct sources per port',
    description:
      'The ports reached by most distinct source addresses (among the 100 with most alerts), beside their alerts: many sources is a campaign or worm, many alerts from few sources a scanner.',
    section: 'window',
    data: ({ statistics: s }) => ({
      json: pick(s.report, ['from', 'to', 'ports']),
      csv: toCsv(['port', 'service', 'class', 'alerts', 'sources'], s.report.ports.map((p) => [p.port, p.service, p.class, p.alerts, p.sources])),
    }),
  },
  {
    name: 'icmp-sources',
    title: 'ICMP and non-ICMP sources',
    description:
      'Sources that sent at least one ICMP alert against those that sent none: how many, their alerts over all protocols, and alerts per source.',
    section: 'window',
    data: ({ statistics: s }) => ({
      json: pick(s.report, ['from', 'to', 'icmpSources', 'otherSources']),
      csv: toCsv(
        ['class', 'sources', 'alerts', 'alertsPerSource'],
        [
          ['icmp', s.report.icmpSources.sources, s.report.icmpSources.alerts, s.report.icmpSources.alertsPerSource],
          ['other', s.report.otherSources.sources, s.report.otherSources.alerts, s.report.otherSources.alertsPerSource],
        ],
      ),
    }),
  },
  {
    name: 'activity-ports',
    title: 'Top ports by source activity',
    description:
      'Sources grouped by how many days they were seen on (exactly 1, 10 or more, 100 or more), each group with the 14 ports its alerts went to most: one-day visitors against persistent sources.',
    section: 'window',
    data: ({ statistics: s }) => ({
      json: pick(s.report, ['from', 'to', 'activity']),
      csv: toCsv(
        ['minDays', 'maxDays', 'sources', 'port', 'service', 'alerts'],
        s.report.activity.flatMap((a) =>
          a.topPorts.length === 0 ? [[a.minDays, a.maxDays, a.sources, null, null, null]] : a.topPorts.map((p) => [a.minDays, a.maxDays, a.sources, p.port, service(p.port), p.alerts]),
        ),
      ),
    }),
  },
  {
    name: 'watched-sensors',
    title: 'Watched ports per sensor, ICMP and non-ICMP sources',
    description: 'Alerts on each watched port, per sensor, split into those from ICMP sources and from the others.',
    section: 'window',
    data: ({ statistics: s }) => ({
      json: { from: s.report.from, to: s.report.to, watched: s.watched },
      csv: toCsv(['sensor', 'port', 'service', 'icmpSources', 'alerts'], s.watched.map((w) => [w.sensor, w.port, service(w.port), String(w.icmpSources), w.alerts])),
    }),
  },
  {
    name: 'matrix',
    title: 'Source networks × port ranges: all alerts',
    description:
      'Alerts by source network (IPv4 /8, IPv6 /16) and destination port range of 1,024 ports; darker is more (log scale). Shows who targets which part of the port space.',
    section: 'window',
    data: ({ statistics: s }) => ({
      json: { from: s.report.from, to: s.report.to, matrix: s.matrix },
      csv: toCsv(['srcNet', 'portBin', 'ports', 'alerts'], s.matrix.filter((c) => c.alerts > 0).map((c) => [c.srcNet, c.portBin, portBinLabel(c.portBin), c.alerts])),
    }),
  },
  {
    name: 'matrix-scans',
    title: 'Source networks × port ranges: scan alerts only',
    description: 'The same matrix for scan alerts only: where the scanning comes from and which port ranges it sweeps.',
    section: 'window',
    data: ({ statistics: s }) => ({
      json: { from: s.report.from, to: s.report.to, matrix: s.matrix },
      csv: toCsv(
        ['srcNet', 'portBin', 'ports', 'scanAlerts'],
        s.matrix.filter((c) => c.scanAlerts > 0).map((c) => [c.srcNet, c.portBin, portBinLabel(c.portBin), c.scanAlerts]),
      ),
    }),
  },
  {
    name: 'port-classes',
    title: 'Port classes',
    description: 'Alerts and distinct destination ports by class: ports known trojans and backdoors listen on, ports with a registered service, and the rest.',
    section: 'window',
    data: ({ statistics: s }) => ({
      json: { from: s.report.from, to: s.report.to, portClasses: s.portClasses },
      csv: toCsv(['class', 'alerts', 'ports'], s.portClasses.map((c) => [c.class, c.alerts, c.ports])),
    }),
  },
  {
    name: 'signatures',
    title: 'Top signatures',
    description: 'The IDS signatures that fired most, by alerts.',
    section: 'window',
    data: ({ statistics: s }) => ({
      json: { from: s.report.from, to: s.report.to, signatures: s.signatures },
      csv: toCsv(['key', 'name', 'alerts'], s.signatures.map((g) => [g.key, g.name, g.alerts])),
    }),
  },
  {
    name: 'categories',
    title: 'Alert categories',
    description: 'Alerts by the category the sensors gave them.',
    section: 'window',
    data: ({ statistics: s }) => ({
      json: { from: s.report.from, to: s.report.to, categories: s.categories },
      csv: toCsv(['category', 'alerts'], s.categories.map((c) => [c.category, c.alerts])),
    }),
  },
];

// Every chart the specs build has its entry, in the page's order.
if (PARTNER_FIGURES.map((f) => f.name).join() !== PARTNER_CHARTS.join()) throw new Error('PARTNER_FIGURES and PARTNER_CHARTS disagree');

/** Every partner chart's spec, by file-name stem. */
export function partnerChartSpecs(input: PartnerChartInput): Record<PartnerChartName, Spec> {
  return {
    ...partnerSpecs(input.partner),
    ...statisticsSpecs(input.statistics, input.partner.sensors, { generatedAt: input.partner.generatedAt }),
  };
}

/** The scan share of the last closed days that have the full figure, for the public page. */
export function scanShare(pub: PublicChartData, days = WINDOW_DAYS): ScanShare | undefined {
  const known = pub.days.filter((d) => d.reported && d.scanAlerts !== undefined && d.date < pub.today).slice(-days);
  if (known.length === 0) return undefined;
  return {
    from: known[0]!.date,
    to: known.at(-1)!.date,
    days: known.length,
    alerts: known.reduce((n, d) => n + d.total, 0),
    scanAlerts: known.reduce((n, d) => n + (d.scanAlerts ?? 0), 0),
  };
}

/** `public/alerts-daily-noscan.json`: every day of the public graph with its scan alerts once it is closed. */
export function publicNoScanJson(pub: PublicChartData) {
  return {
    generatedAt: pub.generatedAt,
    sensors: pub.sensors,
    days: pub.days.map((d) => {
      const known = d.reported && d.scanAlerts !== undefined;
      return { date: d.date, total: d.total, scanAlerts: known ? d.scanAlerts! : null, withoutScans: known ? d.total - d.scanAlerts! : null };
    }),
  };
}

/**
 * Charts rendered at once: sharp rasterises one on libuv's thread pool while Vega lays out the next on the main
 * thread (measured on 2 cores: 37 ms a chart one at a time, 22 with two in flight, 18 with four).
 */
const CHART_CONCURRENCY = 4;

/**
 * The archive copies' PNG level: they are written once and fetched rarely, and a first run over a long history
 * writes hundreds of them. Measured on a 1200×500 copy: level 6 encodes in 6.5 ms to 55.5 kB, level 4 in 4.4 ms
 * to 59.6 kB (adaptive filtering makes either ~5 % smaller at three times the time).
 */
const ARCHIVE_PNG_LEVEL = 4;

/**
 * The archive copies of closed days (DESIGN §8): each day's public graph as it stood when that day closed — the
 * history up to and including it. Written once (`replace: false`), or over the old copy for `render --date`.
 * The copies share the live graph's shape, so Vega draws them all on one kept view (lib/charts/render.ts).
 */
export async function archiveCopies(
  deps: Pick<RenderObjectsDeps, 'renderChart'>,
  days: readonly string[],
  sensors: readonly SensorProfile[],
  history: ReadonlyMap<string, HistoryDay>,
  generatedAt: string,
  opts: { replace: boolean },
): Promise<PublishedObject[]> {
  const render = deps.renderChart ?? (await chartRenderer()).renderChart;
  return mapLimit(days, CHART_CONCURRENCY, async (day): Promise<PublishedObject> => {
    const upTo = new Map([...history].filter(([d]) => d <= day));
    const spec = publicDailySpec(publicChartData({ generatedAt, today: day, sensors, history: upTo }));
    const chart = await render(spec, { compressionLevel: ARCHIVE_PNG_LEVEL });
    return { key: archiveKey(day), body: chart.png, contentType: 'image/png', cacheControl: CACHE.immutable, writeOnce: !opts.replace };
  });
}

export async function renderObjects(
  deps: RenderObjectsDeps,
  pub: PublicChartData,
  partner: PartnerChartData,
  sensors: readonly SensorProfile[],
  opts: {
    /** The analysts' statistics. Without them (the analysis could not run) the partner objects stay as published. */
    analysis?: RenderAnalysis;
    /** Every stored warning and the last closed day (partners get surge and new of the 90 days up to it). */
    warnings?: { list: readonly Warning[]; through: string; settings?: WarningSettings };
  },
): Promise<PublishedObject[]> {
  const objects: PublishedObject[] = [];
  const render = deps.renderChart ?? (await chartRenderer()).renderChart;
  const [main, noScan] = await Promise.all([render(publicDailySpec(pub)), render(publicNoScanSpec(pub))]);
  const publicJson = {
    generatedAt: pub.generatedAt,
    sensors: pub.sensors,
    days: pub.days.map((d) => ({ date: d.date, total: d.total })),
  };
  const noScanJson = publicNoScanJson(pub);
  objects.push(
    { key: PUBLIC_KEYS.png, body: main.png, contentType: 'image/png', cacheControl: CACHE.short },
    { key: PUBLIC_KEYS.svg, body: main.svg, contentType: 'image/svg+xml', cacheControl: CACHE.short },
    { key: PUBLIC_KEYS.json, body: JSON.stringify(publicJson), contentType: 'application/json', cacheControl: CACHE.short },
    { key: PUBLIC_KEYS.csv, body: toCsv(['date', 'total'], pub.days.map((d) => [d.date, d.total])), contentType: 'text/csv; charset=utf-8', cacheControl: CACHE.short },
    { key: PUBLIC_NOSCAN_KEYS.png, body: noScan.png, contentType: 'image/png', cacheControl: CACHE.short },
    { key: PUBLIC_NOSCAN_KEYS.svg, body: noScan.svg, contentType: 'image/svg+xml', cacheControl: CACHE.short },
    { key: PUBLIC_NOSCAN_KEYS.json, body: JSON.stringify(noScanJson), contentType: 'application/json', cacheControl: CACHE.short },
    {
      key: PUBLIC_NOSCAN_KEYS.csv,
      body: toCsv(['date', 'total', 'scanAlerts', 'withoutScans'], noScanJson.days.map((d) => [d.date, d.total, d.scanAlerts, d.withoutScans])),
      contentType: 'text/csv; charset=utf-8',
      cacheControl: CACHE.short,
    },
    {
      key: PUBLIC_KEYS.index,
      body: publicIndexHtml({ generatedAt: pub.generatedAt, sensors: pub.sensors, publicBaseUrl: deps.publicBaseUrl, scanShare: scanShare(pub) }),
      contentType: 'text/html; charset=utf-8',
      cacheControl: CACHE.short,
    },
  );
  const { analysis } = opts;
  if (!analysis) return objects;
  const input: PartnerChartInput = { partner, statistics: analysis.statistics };
  const specs = partnerChartSpecs(input);
  const figures: PartnerFigure[] = [];
  const charts = await mapLimit(PARTNER_FIGURES, CHART_CONCURRENCY, (f) => render(specs[f.name]));
  for (const [i, f] of PARTNER_FIGURES.entries()) {
    const built = f.data(input);
    const chart = charts[i]!;
    objects.push(
      { key: `partners/${f.name}.png`, body: chart.png, contentType: 'image/png', cacheControl: CACHE.private },
      { key: `partners/${f.name}.json`, body: JSON.stringify(built.json), contentType: 'application/json', cacheControl: CACHE.private },
      { key: `partners/${f.name}.csv`, body: built.csv, contentType: 'text/csv; charset=utf-8', cacheControl: CACHE.private },
    );
    figures.push({ name: f.name, title: f.title, description: f.description, section: f.section, ...pngSize(chart.png) });
  }
  for (const report of analysis.reports) {
    const month = report.from.slice(0, 7);
    const reportFigures = await renderReportFigures(report, { sensors: partner.sensors, ...(deps.renderChart ? { render: deps.renderChart } : {}) });
    objects.push(
      { key: reportKey(month, 'json'), body: JSON.stringify(report), contentType: 'application/json', cacheControl: CACHE.private },
      { key: reportKey(month, 'html'), body: reportPageHtml(report, reportFigures), contentType: 'text/html; charset=utf-8', cacheControl: CACHE.private },
    );
  }
  if (opts.warnings) {
    const { list, through, settings } = opts.warnings;
    objects.push(
      ...partnerWarningObjects(list, { generatedAt: partner.generatedAt, through, nodeName: settings?.ideaNodeName, baselineDays: settings?.baselineDays }),
    );
  }
  objects.push({
    key: PARTNER_INDEX,
    body: partnerIndexHtml({
      generatedAt: partner.generatedAt,
      sensors: partner.sensors,
      figures,
      window: { from: analysis.statistics.report.from, to: analysis.statistics.report.to },
      months: analysis.months,
      ...(opts.warnings ? { warnings: partnerWarnings(opts.warnings.list, opts.warnings.through) } : {}),
    }),
    contentType: 'text/html; charset=utf-8',
    cacheControl: CACHE.private,
  });
  return objects;
}

/** Width and height of a PNG, from its IHDR chunk, so the page reserves the image's real size. */
function pngSize(png: Buffer): { width: number; height: number } {
  if (png.length < 24 || png.subarray(1, 4).toString('latin1') !== 'PNG') return { width: 1200, height: 500 };
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
