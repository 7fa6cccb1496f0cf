/**
 * The analysts' charts (DESIGN §14): the public graph's scan share, the partner charts of the history and of the
 * window, the partner page and the period report's figures. Specs must be valid Vega that renders; each window
 * chart's published JSON must equal the matching fields of the window's report (`report --json`); ports are
 * labelled with their service names; no two charts share a title.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from 'vega';
import { beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../lib/charts/dates.js';
import { renderSvg } from '../../lib/charts/render.js';
import {
  LEGEND_NO_FIGURE,
  LEGEND_SCANS,
  NOSCAN_TITLE,
  PARTNER_CHARTS,
  PARTNER_HISTORY_CHARTS,
  PARTNER_STATISTICS_CHARTS,
  publicDailySpec,
  publicNoScanSpec,
  type PartnerChartName,
} from '../../lib/charts/specs.js';
import { isCoarseNetwork, MATRIX_ROWS, matrixCells, portBinLabel, statisticsSpecs } from '../../lib/charts/statistics-specs.js';
import type { PartnerStatistics, PeriodReport } from '../../lib/lake/report.js';
import { serviceName } from '../../lib/ports/index.js';
import { partnerIndexHtml } from '../../lib/publish/pages.js';
import { inlineSvg, renderReportFigures, reportFigureSpecs, reportPageHtml, writeReportPage } from '../../lib/publish/report-page.js';
import type { PublishedObject } from '../../lib/publish/publish.js';
import { partnerChartData, publicChartData } from '../../lib/render/figures.js';
import { PARTNER_FIGURES, partnerChartSpecs, publicNoScanJson, PUBLIC_NOSCAN_KEYS, renderObjects, type PartnerChartInput } from '../../lib/render/objects.js';
import type { SensorProfile } from '../../lib/store/registry.js';
import { statisticsFixture } from '../fixtures/charts/statistics.js';

// ---- a consistent world: history of 90 days, statistics of its last 30 closed days ---------------------------

const TODAY = '2026-11-22';
const LAST_CLOSED = addDays(TODAY, -1);
const sensors: SensorProfile[] = [
  { id: 'vie-1', name: 'Vienna 1', deployedAt: addDays(TODAY, -90) },
  { id: 'lis-1', name: 'Lisbon 1', deployedAt: addDays(TODAY, -60) },
  { id: 'lis-2', name: 'Lisbon 2', deployedAt: addDays(TODAY, -60) },
  { id: 'osl-1', name: 'Oslo 1', deployedAt: addDays(TODAY, -20) },
].map((s) => ({ ...s, publicKey: 'x', status: 'active', createdAt: `${s.deployedAt}T00:00:00Z` }) as SensorProfile);
const { statistics, history: windowHistory } = statisticsFixture({ to: LAST_CLOSED, sensors: sensors.map((s) => s.id) });
const report = statistics.report;

/** The window's days as the fixture has them, earlier days closed too, today still open (no full scan figure). */
function worldHistory() {
  const history = new Map(windowHistory);
  for (let i = 31; i <= 90; i++) {
    const date = addDays(TODAY, -i);
    history.set(date, { t: 1000 + i, s: { 'vie-1': 1000 + i }, i: 40, x: 300, xc: true, nu: 12, w: { 'tcp/445': 200 }, src: 90, nw: 20 });
  }
  history.set(TODAY, { t: 700, s: { 'vie-1': 400, 'osl-1': 300 }, i: 30, x: 25, w: { 'tcp/445': 100 } });
  return history;
}
const history = worldHistory();
const pub = publicChartData({ generatedAt: `${TODAY}T14:05:00Z`, today: TODAY, sensors, history });
const partner = partnerChartData({ generatedAt: `${TODAY}T14:05:00Z`, today: TODAY, lastClosedDay: LAST_CLOSED, sensors, history, window: new Map() });
const input: PartnerChartInput = { partner, statistics };
const specs = partnerChartSpecs(input);

/** What `report --json` prints, and what a chart's JSON becomes on the wire. */
const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const pick = <K extends keyof PeriodReport>(...keys: K[]) => wire(Object.fromEntries(keys.map((k) => [k, report[k]])));

type Json = Record<string, unknown>;
const asJson = (spec: Spec): Json => wire(spec) as unknown as Json;
const titleOf = (spec: Spec) => (asJson(spec).title as Json).text as string;
const texts = (svg: string) =>
  [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => (m[1] ?? '').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));

// ---- published objects ---------------------------------------------------------------------------------------

let objects: PublishedObject[];
const body = (key: string) => {
  const o = objects.find((x) => x.key === key);
  if (!o) throw new Error(`no object ${key}`);
  return typeof o.body === 'string' ? o.body : Buffer.from(o.body as Uint8Array).toString();
};
const json = (key: string) => JSON.parse(body(key)) as unknown;

beforeAll(async () => {
  // Drawing is stubbed here (every spec is rendered for real below): this is about what is published.
  const stub = async (spec: Spec) => ({ svg: `<svg id="s"><clipPath id="clip1"/><g clip-path="url(#clip1)"><text>${titleOf(spec)}</text></g></svg>`, png: Buffer.from('png') });
  objects = await renderObjects({ publicBaseUrl: 'https://cdn.example', renderChart: stub as never }, pub, partner, sensors, {
    analysis: { statistics, reports: [report], months: ['2026-09', '2026-10'] },
  });
});

describe('partner chart JSON', () => {
  it('equals the matching fields of the window report, for every window chart', () => {
    const expected: Record<(typeof PARTNER_STATISTICS_CHARTS)[number], unknown> = {
      'icmp-sources': pick('from', 'to', 'icmpSources', 'otherSources'),
      'port-sources': pick('from', 'to', 'ports'),
      'activity-ports': pick('from', 'to', 'activity'),
      'watched-sensors': { ...pick('from', 'to'), watched: wire(statistics.watched) },
      matrix: { ...pick('from', 'to'), matrix: wire(statistics.matrix) },
      'matrix-scans': { ...pick('from', 'to'), matrix: wire(statistics.matrix) },
      'port-classes': { ...pick('from', 'to'), portClasses: wire(statistics.portClasses) },
      signatures: { ...pick('from', 'to'), signatures: wire(statistics.signatures) },
      categories: { ...pick('from', 'to'), categories: wire(statistics.categories) },
    };
    for (const name of PARTNER_STATISTICS_CHARTS) expect(json(`partners/${name}.json`), name).toEqual(expected[name]);
  });

  it('of the daily scan and new-unknown-source charts equals the report per day over the window', () => {
    const inWindow = <T extends { date: string }>(days: T[]) => days.filter((d) => d.date >= report.from && d.date <= report.to);
    const scans = json('partners/scans.json') as { days: { date: string; alerts: number; scanAlerts: number }[] };
    expect(inWindow(scans.days)).toEqual(report.perDay.map(({ date, alerts, scanAlerts }) => ({ date, alerts, scanAlerts })));
    const fresh = json('partners/new-unknown-sources.json') as { days: { date: string; newUnknownSources: number }[] };
    expect(inWindow(fresh.days)).toEqual(report.perDay.map(({ date, newUnknownSources }) => ({ date, newUnknownSources })));
    // Whole history, closed days only: today (no full figure yet) is not there.
    expect(scans.days[0]!.date).toBe(addDays(TODAY, -90));
    expect(scans.days.some((d) => d.date === TODAY)).toBe(false);
  });

  it('comes with a CSV of the same rows for every chart', () => {
    for (const name of PARTNER_CHARTS) {
      const csv = body(`partners/${name}.csv`);
      expect(csv.split('\r\n')[0], name).toMatch(/^\w+(,\w+)+$/);
      // a header, the rows (the top ports have none here: no day summary in this world), and the final CRLF
      if (!name.startsWith('top-ports')) expect(csv.split('\r\n').length, name).toBeGreaterThan(2);
    }
    expect(body('partners/icmp-sources.csv').split('\r\n')[1]).toBe(
      `icmp,${report.icmpSources.sources},${report.icmpSources.alerts},${report.icmpSources.alertsPerSource}`,
    );
    expect(body('partners/port-sources.csv')).toContain('tcp/445,microsoft-ds,service,41200,3910');
  });
});

describe('partner charts', () => {
  it('has one spec and one page entry per chart, in the page order', () => {
    expect(Object.keys(specs).sort()).toEqual([...PARTNER_CHARTS].sort());
    expect(PARTNER_FIGURES.map((f) => f.name)).toEqual([...PARTNER_CHARTS]);
    expect(PARTNER_FIGURES.filter((f) => f.section === 'history').map((f) => f.name)).toEqual(
      PARTNER_HISTORY_CHARTS.filter((n) => !n.startsWith('top-ports')),
    );
  });

  it('titles no two charts alike, on the images or on the page', () => {
    const titles = PARTNER_CHARTS.map((n) => titleOf(specs[n]));
    expect(new Set(titles).size).toBe(titles.length);
    const headings = PARTNER_FIGURES.map((f) => f.title);
    expect(new Set(headings).size).toBe(headings.length);
    // The two ICMP charts cannot be taken for each other.
    expect(titleOf(specs.icmp)).toBe('Alerts by protocol: ICMP and the rest');
    expect(titleOf(specs['icmp-sources'])).toMatch(/^ICMP and non-ICMP sources, /);
  });

  it('names the window in the title of every window chart', () => {
    for (const name of PARTNER_STATISTICS_CHARTS) expect(titleOf(specs[name]), name).toContain(`${report.from} to ${report.to}`);
    expect(titleOf(specs['top-ports-30d'])).toMatch(/\d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}$/);
  });

  it('marks deployments on every time series, a shared day on one marker', () => {
    for (const name of PARTNER_HISTORY_CHARTS.filter((n) => !n.startsWith('top-ports'))) {
      const deployments = (asJson(specs[name]).data as Json[]).find((d) => d.name === 'deployments')!.values as { ids: string[]; name: string }[];
      expect(deployments.flatMap((d) => d.ids).sort(), name).toEqual(sensors.map((s) => s.id).sort());
      expect(deployments.map((d) => d.name), name).toContain('Lisbon 1, Lisbon 2');
      const marks = (asJson(specs[name]).marks as Json[]).map((m) => m.name);
      expect(marks, name).toEqual(expect.arrayContaining(['deploymentRules', 'deploymentLabels']));
    }
  });

  it('starts every time series at the first deployment and ends it at the last full day', () => {
    for (const name of PARTNER_HISTORY_CHARTS.filter((n) => !n.startsWith('top-ports'))) {
      const x = ((asJson(specs[name]).scales as Json[]).find((s) => s.name === 'x')!.domain) as number[];
      expect(new Date(x[0]!).toISOString().slice(0, 10), name).toBe(addDays(TODAY, -90));
      expect(new Date(x[1]!).toISOString().slice(0, 10), name).toBe(TODAY);
    }
  });

  it('is valid Vega that renders, every chart titled, every port with its service name', async () => {
    const portCharts: PartnerChartName[] = ['top-ports-day', 'top-ports-30d', 'watched-ports', 'port-sources', 'activity-ports', 'watched-sensors'];
    const withDay = partnerChartSpecs({
      partner: { ...partner, topPortsDay: { date: LAST_CLOSED, rows: [{ key: 'tcp/445', count: 9 }, { key: 'udp/137', count: 4 }, { key: 'tcp/60001', count: 1 }] }, topPortsWindow: { from: report.from, to: LAST_CLOSED, rows: [{ key: 'tcp/22', count: 40 }] } },
      statistics,
    });
    for (const name of PARTNER_CHARTS) {
      const svg = await renderSvg(withDay[name]);
      const t = texts(svg);
      expect(t, name).toContain(titleOf(withDay[name]));
      if (!portCharts.includes(name)) continue;
      const ports = t.filter((x) => /^(tcp|udp)\/\d+\b/.test(x));
      expect(ports.length, name).toBeGreaterThan(0);
      for (const label of ports) {
        const port = /^(tcp|udp)\/\d+/.exec(label)![0];
        const service = serviceName(port);
        expect(label, name).toBe(service ? `${port} ${service}` : port);
      }
    }
  }, 60_000);

  it('draws the matrix by /8 (or IPv6 /16) networks and port ranges, the rest of the networks summed', () => {
    expect(portBinLabel(0)).toBe('0–1023');
    expect(portBinLabel(63)).toBe('64512–65535');
    for (const measure of ['alerts', 'scanAlerts'] as const) {
      const { nets, cells } = matrixCells(statistics.matrix, measure);
      expect(nets.length).toBeLessThanOrEqual(MATRIX_ROWS);
      expect(nets.at(-1)).toMatch(/^other networks \(\d+\)$/);
      expect(nets.slice(0, -1).every(isCoarseNetwork)).toBe(true);
      const total = statistics.matrix.reduce((n, c) => n + c[measure], 0);
      expect(cells.reduce((n, c) => n + c.value, 0)).toBe(total);
    }
    // A finer network than /8 never gets a row of its own.
    const finer: PartnerStatistics['matrix'] = [{ srcNet: '192.0.2.0/24', portBin: 0, alerts: 5, scanAlerts: 0 }];
    expect(matrixCells(finer, 'alerts').nets).toEqual(['other networks (1)']);
  });

  it('says so when a cohort or the whole window is empty, rather than failing', async () => {
    const empty: PartnerStatistics = {
      report: { ...report, alerts: 0, sources: 0, activity: report.activity.map((a) => ({ ...a, sources: 0, topPorts: [] })), ports: [], perDay: [] },
      matrix: [],
      watched: [],
      portClasses: statistics.portClasses.map((c) => ({ ...c, alerts: 0, ports: 0 })),
      signatures: [],
      categories: [],
    };
    const built = statisticsSpecs(empty, sensors);
    for (const [name, spec] of Object.entries(built)) expect(texts(await renderSvg(spec)).length, name).toBeGreaterThan(1);
    expect(texts(await renderSvg(built['activity-ports']))).toContain('no such source in this period');
  }, 30_000);
});

describe('public graph with the scan share', () => {
  it('draws each closed day\'s scan alerts over its bar, with a legend entry that says closed days', () => {
    const spec = asJson(publicDailySpec(pub));
    const days = (spec.data as Json[]).find((d) => d.name === 'days')!.values as { date: string; scan: number | null; base: number; total: number }[];
    const closed = days.find((d) => d.date === LAST_CLOSED)!;
    expect(closed.scan).toBe(history.get(LAST_CLOSED)!.x);
    expect(closed.base).toBe(closed.total - closed.scan!);
    expect((spec.marks as Json[]).map((m) => m.name)).toContain('scanAlerts');
    const legend = (spec.signals as Json[]).find((s) => s.name === 'legendEntries')!.value as string[];
    expect(legend).toContain(LEGEND_SCANS);
    expect(LEGEND_SCANS).toContain('closed days');
  });

  it('has a second graph without scan alerts, in which a day without the full figure is no figure, not zero', () => {
    const spec = asJson(publicNoScanSpec(pub));
    expect((spec.title as Json).text).toBe(NOSCAN_TITLE);
    const days = (spec.data as Json[]).find((d) => d.name === 'days')!.values as { date: string; total: number; reported: boolean }[];
    const d = days.find((x) => x.date === LAST_CLOSED)!;
    expect(d.total).toBe(history.get(LAST_CLOSED)!.t - history.get(LAST_CLOSED)!.x);
    expect((spec.data as Json[]).find((x) => x.name === 'today')!.values).toEqual([]);
    const gaps = (spec.data as Json[]).find((x) => x.name === 'gaps')!.values as { from: string }[];
    expect(gaps.map((g) => g.from)).toContain(TODAY);
    expect((spec.signals as Json[]).find((s) => s.name === 'legendEntries')!.value).toContain(LEGEND_NO_FIGURE);
  });

  it('keeps alerts-daily.json as it was and publishes the scan share apart', () => {
    const main = json('public/alerts-daily.json') as { generatedAt: string; sensors: unknown[]; days: Json[] };
    expect(Object.keys(main).sort()).toEqual(['days', 'generatedAt', 'sensors']);
    expect(main.days.every((d) => Object.keys(d).join() === 'date,total')).toBe(true);
    const scans = json(PUBLIC_NOSCAN_KEYS.json) as ReturnType<typeof publicNoScanJson>;
    expect(scans.days.find((d) => d.date === LAST_CLOSED)).toEqual({
      date: LAST_CLOSED,
      total: history.get(LAST_CLOSED)!.t,
      scanAlerts: history.get(LAST_CLOSED)!.x,
      withoutScans: history.get(LAST_CLOSED)!.t - history.get(LAST_CLOSED)!.x,
    });
    expect(scans.days.find((d) => d.date === TODAY)).toMatchObject({ scanAlerts: null, withoutScans: null });
    expect(body(PUBLIC_NOSCAN_KEYS.csv).split('\r\n')[0]).toBe('date,total,scanAlerts,withoutScans');
    for (const key of Object.values(PUBLIC_NOSCAN_KEYS)) expect(objects.find((o) => o.key === key)?.cacheControl).toMatch(/^public/);
  });

  it('says the scan share in words on the public page, and shows both graphs', () => {
    const html = body('public/index.html');
    expect(html).toContain('/public/alerts-daily.png');
    expect(html).toContain('/public/alerts-daily-noscan.png');
    const last30 = report.perDay;
    const share = last30.reduce((n, d) => n + d.scanAlerts, 0);
    expect(html).toContain(`${share.toLocaleString('en-US')} of ${report.alerts.toLocaleString('en-US')} alerts`);
    expect(html).toMatch(/\(\d+\.\d %\) were scan alerts/);
  });
});

describe('partner page', () => {
  it('shows every chart with its explanation and data links, in two parts, and links the monthly reports newest first', () => {
    const html = body('partners/index.html');
    for (const f of PARTNER_FIGURES) {
      expect(html).toContain(`data-signed-src="${f.name}.png"`);
      expect(html).toContain(`data-signed-href="${f.name}.json"`);
      expect(html).toContain(`data-signed-href="${f.name}.csv"`);
      expect(f.description.length).toBeGreaterThan(20);
    }
    const order = PARTNER_CHARTS.map((n) => html.indexOf(`data-signed-src="${n}.png"`));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html.indexOf('id="history"')).toBeLessThan(order[0]!);
    expect(html).toContain(`Last 30 closed days: ${report.from} to ${report.to}`);
    expect(html.indexOf('reports/2026-10.html')).toBeLessThan(html.indexOf('reports/2026-09.html'));
    expect(html).toContain('data-signed-href="reports/2026-10.json"');
  });

  it('refuses a month that is not YYYY-MM rather than linking it', () => {
    expect(() => partnerIndexHtml({ generatedAt: 'x', sensors: [], figures: [], months: ['../x'] })).toThrow();
  });
});

describe('period report figures', () => {
  it('are built from the report alone and render', async () => {
    const figures = await renderReportFigures(report);
    expect(figures.map((f) => f.title)).toEqual([
      'ICMP and non-ICMP sources',
      'Scan alerts per day',
      'New sources per day',
      'Top ports by source activity',
      'Distinct sources per port',
    ]);
    for (const f of figures) expect(f.svg).toMatch(/^<svg/);
    const titles = reportFigureSpecs(report).map((f) => titleOf(f.spec));
    expect(new Set(titles).size).toBe(titles.length);
    for (const t of titles) expect(t).toContain(`${report.from} to ${report.to}`);
  }, 30_000);

  it('are inlined with ids of their own, so one chart never clips by another\'s clip path', () => {
    const svg = '<svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"></g></svg>';
    const html = reportPageHtml(report, [
      { title: 'A', description: 'a', svg },
      { title: 'B', description: 'b', svg },
    ]);
    expect(html).toContain('id="f1-clip1"');
    expect(html).toContain('url(#f2-clip1)');
    expect(html).not.toContain('id="clip1"');
    expect(inlineSvg('<?xml version="1.0"?>\n<svg/>', 'p-')).toBe('<svg/>');
  });

  it('appear in the monthly report the render publishes', () => {
    const html = body(`partners/reports/${report.from.slice(0, 7)}.html`);
    expect(html).toContain('<figure><svg');
    expect(html).toContain('Scan alerts per day');
  });

  it('are drawn by writeReportPage itself when none are given (alertgraph report --out)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alertgraph-report-'));
    try {
      await writeReportPage(join(dir, 'r.html'), report);
      const html = await readFile(join(dir, 'r.html'), 'utf8');
      expect(html.match(/<figure><svg/g)).toHaveLength(5);
      expect(html).toContain('tcp/445 microsoft-ds');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
