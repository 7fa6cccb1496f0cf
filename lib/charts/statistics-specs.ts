/**
 * Vega specs of the analysts' statistics (DESIGN §14) over one period: the partner charts of the window (the last
 * closed days) and the figures of the period report. Pure functions of a `PeriodReport` or `PartnerStatistics`
 * (lib/lake/report.ts), like the other specs: no I/O, no clock.
 *
 * Most of these are bars in one or more side-by-side panels, each panel with its own scale (sources and alerts
 * differ by orders of magnitude); the source × port matrix is a heatmap. Frames are fixed (autosize "none") so that
 * label room is worked out here from the bundled font's widths and the result is plain data a test can read.
 */

import type { Mark, Scale, Spec } from 'vega';
import type { PartnerStatistics, PeriodReport } from '../lake/report.js';
import { portLabel } from '../ports/index.js';
import { formatInstantUtc } from './dates.js';
import { CHART_FONT } from './fonts.js';
import type { SensorMark } from './model.js';
import { chartTitle, noDataMark, seriesSpec, SERIES, type PartnerStatisticsChartName } from './specs.js';
import { textWidth } from './text-width.js';
import { COLORS, DEFAULT_SIZE, SERIES_PALETTE, chartConfig, type ChartSize } from './theme.js';

// ---------------------------------------------------------------------------------------------------------
// Bars in panels
// ---------------------------------------------------------------------------------------------------------

export interface BarRow {
  label: string;
  value: number;
  /** the part of a stacked bar this row is (a `colors` entry); rows with the same label stack */
  series?: string;
}

export interface BarPanel {
  heading: string;
  rows: BarRow[];
  /** x axis title */
  xTitle: string;
  /** decimals of the printed values (alerts per source); 0 for counts */
  decimals?: number;
  /** shown when the panel has no row */
  emptyText?: string;
}

export interface BarPanelsInput {
  title: string;
  subtitle: string;
  panels: BarPanel[];
  size?: ChartSize;
  /** colours of the series (stack order = domain order); a legend is drawn when `legend` is set */
  colors?: { domain: string[]; range: string[]; legend?: boolean };
  /** fill of bars without a series */
  fill?: string;
}

const PANELS_PADDING = { top: 66, left: 14, right: 22, bottom: 14 } as const;
const HEADING_HEIGHT = 26;
const X_AXIS_HEIGHT = 38;
const PANEL_GAP = 40;
const LABEL_FONT = 11;
const LEGEND_HEIGHT = 30;
/** Rows no taller than this: a panel of three bars is a short chart, not three slabs. */
const MAX_ROW_PITCH = 34;

const formatValue = (v: number, decimals: number) =>
  v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });

/** Panels of horizontal bars side by side, each with its own labels and scale, largest first as given. */
export function barPanelsSpec(input: BarPanelsInput): Spec {
  const size = input.size ?? DEFAULT_SIZE;
  const legend = input.colors?.legend === true;
  const width = size.width - PANELS_PADDING.left - PANELS_PADDING.right;
  const rows = Math.max(3, ...input.panels.map((p) => new Set(p.rows.map((r) => r.label)).size));
  const height = Math.min(
    size.height - PANELS_PADDING.top - PANELS_PADDING.bottom - (legend ? LEGEND_HEIGHT : 0),
    HEADING_HEIGHT + X_AXIS_HEIGHT + rows * MAX_ROW_PITCH,
  );
  const n = Math.max(1, input.panels.length);
  const panelWidth = (width - PANEL_GAP * (n - 1)) / n;
  const seriesOrder = input.colors?.domain ?? [];
  const data: Spec['data'] = [];
  const marks: Mark[] = [];

  input.panels.forEach((panel, i) => {
    const decimals = panel.decimals ?? 0;
    const labels = [...new Set(panel.rows.map((r) => r.label))];
    const totals = new Map<string, number>();
    for (const r of panel.rows) totals.set(r.label, (totals.get(r.label) ?? 0) + r.value);
    const max = Math.max(0, ...totals.values());
    const texts = labels.map((l) => formatValue(totals.get(l) ?? 0, decimals));
    const countRoom = Math.max(0, ...texts.map((t) => textWidth(t, LABEL_FONT))) + 10;
    const labelWidth = Math.ceil(Math.min(panelWidth * 0.55, Math.max(36, ...labels.map((l) => textWidth(l, LABEL_FONT))) + 10));
    const barWidth = Math.max(40, panelWidth - labelWidth - countRoom);
    const groupHeight = height - HEADING_HEIGHT - X_AXIS_HEIGHT;
    // Stack the parts of each bar in the order of the colour domain.
    const bars: { label: string; series: string | null; value: number; x0: number; x1: number }[] = [];
    for (const label of labels) {
      let x = 0;
      const parts = panel.rows
        .filter((r) => r.label === label)
        .sort((a, b) => seriesOrder.indexOf(a.series ?? '') - seriesOrder.indexOf(b.series ?? ''));
      for (const r of parts) {
        bars.push({ label, series: r.series ?? null, value: r.value, x0: x, x1: x + r.value });
        x += r.value;
      }
    }
    data.push(
      { name: `bars${i}`, values: bars },
      { name: `totals${i}`, values: labels.map((label, k) => ({ label, total: totals.get(label) ?? 0, text: texts[k] })) },
    );
    const x0 = i * (panelWidth + PANEL_GAP);
    const integer = decimals === 0;
    const scales: Scale[] = [
      { name: 'y', type: 'band', domain: labels, range: [0, groupHeight], paddingInner: 0.22, paddingOuter: 0.12 },
      { name: 'x', type: 'linear', domain: [0, max > 0 ? max : 1], nice: true, zero: true, range: [0, barWidth] },
    ];
    const inner: Mark[] = [
      {
        type: 'rect',
        name: `barMarks${i}`,
        from: { data: `bars${i}` },
        encode: {
          enter: {
            y: { scale: 'y', field: 'label' },
            height: { scale: 'y', band: 1 },
            x: { scale: 'x', field: 'x0' },
            x2: { scale: 'x', field: 'x1' },
            fill: input.colors ? { scale: 'color', field: 'series' } : { value: input.fill ?? COLORS.alertsBar },
          },
        },
      },
      {
        type: 'text',
        name: `counts${i}`,
        from: { data: `totals${i}` },
        encode: {
          enter: {
            y: { scale: 'y', field: 'label', band: 0.5 },
            x: { scale: 'x', field: 'total' },
            dx: { value: 4 },
            baseline: { value: 'middle' },
            text: { field: 'text' },
            font: { value: CHART_FONT },
            fontSize: { value: LABEL_FONT },
            fill: { value: COLORS.ink },
          },
        },
      },
      {
        type: 'text',
        name: `heading${i}`,
        encode: {
          enter: {
            x: { value: -labelWidth },
            y: { value: -10 },
            text: { value: panel.heading },
            font: { value: CHART_FONT },
            fontSize: { value: 13 },
            fontWeight: { value: 'bold' },
            fill: { value: COLORS.ink },
            limit: { value: panelWidth },
          },
        },
      },
    ];
    if (labels.length === 0) {
      inner.splice(0, 2);
      inner.push(emptyPanelText(panel.emptyText ?? 'none in this period', barWidth / 2 - labelWidth / 2, groupHeight / 2));
    }
    marks.push({
      type: 'group',
      name: `panel${i}`,
      encode: {
        enter: { x: { value: x0 + labelWidth }, y: { value: HEADING_HEIGHT }, width: { value: barWidth }, height: { value: groupHeight } },
      },
      scales,
      axes: labels.length === 0 ? [] : [
        {
          orient: 'left',
          scale: 'y',
          ticks: false,
          labelPadding: 6,
          labelFontSize: LABEL_FONT,
          labelLimit: labelWidth - 8,
          domainColor: COLORS.axis,
        },
        {
          orient: 'bottom',
          scale: 'x',
          grid: true,
          // The grid spans the panel's rows; left to itself it would take the whole chart's height.
          gridScale: 'y',
          tickCount: Math.max(2, Math.floor(barWidth / 75)),
          format: integer ? ',d' : `,.${decimals}f`,
          ...(integer ? { tickMinStep: 1 } : {}),
          labelFlush: true,
          title: panel.xTitle,
          zindex: 0,
        },
      ],
      marks: inner,
    });
  });

  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: input.title,
    width,
    height,
    padding: { ...PANELS_PADDING, bottom: PANELS_PADDING.bottom + (legend ? LEGEND_HEIGHT : 0) },
    autosize: 'none',
    background: '#ffffff',
    config: chartConfig(),
    title: chartTitle(input.title, input.subtitle),
    data,
    scales: input.colors ? [{ name: 'color', type: 'ordinal', domain: input.colors.domain, range: input.colors.range }] : [],
    legends: legend
      ? [{ fill: 'color', orient: 'bottom', direction: 'horizontal', offset: 14, symbolType: 'square', symbolSize: 120, columnPadding: 24 }]
      : [],
    marks,
  };
}

function emptyPanelText(text: string, x: number, y: number): Mark {
  return {
    type: 'text',
    name: 'noData',
    encode: {
      enter: {
        x: { value: x },
        y: { value: y },
        align: { value: 'center' },
        baseline: { value: 'middle' },
        text: { value: text },
        font: { value: CHART_FONT },
        fontSize: { value: 14 },
        fill: { value: COLORS.muted },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Source × port matrix
// ---------------------------------------------------------------------------------------------------------

/** Ports per bin of the matrix (DESIGN §14) and the number of bins over 0–65535. */
export const PORT_BIN = 1024;
export const PORT_BINS = 65536 / PORT_BIN;
/** Source networks drawn as rows; the rest are summed into one row. */
export const MATRIX_ROWS = 24;
export const MATRIX_SIZE: ChartSize = { width: 1200, height: 640 };

/** `0` → "0–1023", the ports of a bin. */
export function portBinLabel(bin: number): string {
  return `${bin * PORT_BIN}–${bin * PORT_BIN + PORT_BIN - 1}`;
}

/**
 * Published source networks are /8 (IPv4) or /16 (IPv6), never finer (DESIGN §13); anything else is not drawn
 * under its own name.
 */
export function isCoarseNetwork(net: string): boolean {
  return /^\d{1,3}\.0\.0\.0\/8$/.test(net) || /^[0-9a-f]{1,4}::\/16$/.test(net);
}

export interface MatrixCell {
  net: string;
  bin: string;
  value: number;
}

/** Rows (largest first, the rest summed into "other networks (N)") and the non-empty cells of one measure. */
export function matrixCells(matrix: PartnerStatistics['matrix'], measure: 'alerts' | 'scanAlerts', rows = MATRIX_ROWS): { nets: string[]; cells: MatrixCell[] } {
  const byNet = new Map<string, number>();
  for (const c of matrix) if (c[measure] > 0) byNet.set(c.srcNet, (byNet.get(c.srcNet) ?? 0) + c[measure]);
  const ordered = [...byNet].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([net]) => net);
  const named = ordered.filter(isCoarseNetwork);
  const fits = named.length <= rows && named.length === ordered.length;
  const kept = new Set(fits ? named : named.slice(0, rows - 1));
  const rest = ordered.length - kept.size;
  const others = `other networks (${rest})`;
  const sums = new Map<string, number>();
  for (const c of matrix) {
    if (c[measure] <= 0) continue;
    const net = kept.has(c.srcNet) ? c.srcNet : others;
    const key = `${net}\u0000${c.portBin}`;
    sums.set(key, (sums.get(key) ?? 0) + c[measure]);
  }
  const cells = [...sums].map(([key, value]) => {
    const [net, bin] = key.split('\u0000') as [string, string];
    return { net, bin: portBinLabel(Number(bin)), value };
  });
  return { nets: [...kept, ...(rest > 0 ? [others] : [])], cells };
}

export interface MatrixOptions {
  title: string;
  subtitle: string;
  measure: 'alerts' | 'scanAlerts';
  size?: ChartSize;
}

const MATRIX_PADDING = { top: 66, left: 150, right: 120, bottom: 96 } as const;
const MATRIX_MAX_ROW = 24;

/** The source × port matrix as a heatmap: rows are source networks, columns port ranges, colour on a log scale. */
export function matrixSpec(matrix: PartnerStatistics['matrix'], options: MatrixOptions): Spec {
  const size = options.size ?? MATRIX_SIZE;
  const width = size.width - MATRIX_PADDING.left - MATRIX_PADDING.right;
  const { nets, cells } = matrixCells(matrix, options.measure);
  // A few networks get rows of a readable height, not the whole plot: the image is then shorter.
  const height = Math.min(size.height - MATRIX_PADDING.top - MATRIX_PADDING.bottom, Math.max(6, nets.length) * MATRIX_MAX_ROW);
  const summed = nets.at(-1)?.startsWith('other networks') === true;
  const rowsNote = summed
    ? `the ${nets.length - 1} busiest source networks (IPv4 /8, IPv6 /16), the rest summed`
    : 'every source network (IPv4 /8, IPv6 /16)';
  const bins = Array.from({ length: PORT_BINS }, (_, i) => portBinLabel(i));
  const max = Math.max(1, ...cells.map((c) => c.value));
  const scan = options.measure === 'scanAlerts';
  const marks: Mark[] = [
    {
      // The empty matrix: cells without alerts are this, not white, so the grid reads as a grid.
      type: 'rect',
      name: 'background',
      encode: { enter: { x: { value: 0 }, y: { value: 0 }, width: { signal: 'width' }, height: { signal: 'height' }, fill: { value: '#f3f4f6' } } },
    },
    {
      type: 'rect',
      name: 'cellMarks',
      from: { data: 'cells' },
      encode: {
        enter: {
          x: { scale: 'x', field: 'bin' },
          width: { scale: 'x', band: 1 },
          y: { scale: 'y', field: 'net' },
          height: { scale: 'y', band: 1 },
          fill: { scale: 'color', field: 'value' },
          stroke: { value: '#ffffff' },
          strokeWidth: { value: 0.5 },
        },
      },
    },
  ];
  if (cells.length === 0) marks.push(noDataMark(scan ? 'no scan alert on a TCP or UDP port in this period' : 'no alert on a TCP or UDP port in this period'));
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: options.title,
    width,
    height,
    padding: { ...MATRIX_PADDING },
    autosize: 'none',
    background: '#ffffff',
    config: chartConfig(),
    title: chartTitle(options.title, options.subtitle.replace('{rows}', rowsNote)),
    data: [{ name: 'cells', values: cells }],
    scales: [
      { name: 'x', type: 'band', domain: bins, range: [0, width], paddingInner: 0 },
      { name: 'y', type: 'band', domain: nets.length > 0 ? nets : [''], range: [0, height], paddingInner: 0 },
      {
        name: 'color',
        type: 'log',
        domain: [1, Math.max(10, max)],
        range: scan ? ['#dfcdef', '#3b1a66'] : ['#c6dbef', '#08306b'],
        interpolate: 'hcl',
        clamp: true,
      },
    ],
    axes: [
      {
        orient: 'bottom',
        scale: 'x',
        labelAngle: -90,
        labelAlign: 'right',
        labelBaseline: 'middle',
        labelFontSize: 9,
        labelPadding: 4,
        ticks: false,
        domainColor: COLORS.axis,
        title: 'destination port range (1,024 ports each, TCP and UDP together)',
        titlePadding: 8,
      },
      {
        orient: 'left',
        scale: 'y',
        ticks: false,
        labelFontSize: LABEL_FONT,
        labelPadding: 6,
        labelLimit: MATRIX_PADDING.left - 30,
        domainColor: COLORS.axis,
        // Short: a rotated title longer than a short plot would push the chart's title out of the image.
        title: 'source network',
        titlePadding: 8,
      },
    ],
    legends: [
      {
        fill: 'color',
        type: 'gradient',
        orient: 'right',
        title: scan ? 'scan alerts' : 'alerts',
        format: ',d',
        values: logTicks(Math.max(10, max)),
        gradientLength: Math.min(height - 20, Math.max(120, height - 60)),
        gradientThickness: 14,
        offset: 16,
      },
    ],
    marks,
  };
}

/** 1, 10, 100, … up to `max`, and `max` itself: the gradient's labels, one per decade. */
function logTicks(max: number): number[] {
  const out: number[] = [];
  for (let v = 1; v <= max; v *= 10) out.push(v);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The charts
// ---------------------------------------------------------------------------------------------------------

export interface StatisticsChartOptions {
  size?: ChartSize;
  /** ISO instant, for the subtitle (absent on the report page, which says when it was made itself) */
  generatedAt?: string;
  /** How the period is named in subtitles, e.g. "last 30 closed days". */
  periodName?: string;
}

const SOURCE_CLASSES = { icmp: 'ICMP sources', other: 'non-ICMP sources' } as const;
export const SOURCE_CLASS_COLORS = { domain: [SOURCE_CLASSES.icmp, SOURCE_CLASSES.other], range: [COLORS.icmpSources, COLORS.otherSources] };

/** The subtitle: what the chart counts, the period, and when it was made. */
function subtitle(what: string, o: StatisticsChartOptions): string {
  return [what, ...(o.periodName ? [o.periodName] : []), ...(o.generatedAt ? [`generated ${formatInstantUtc(o.generatedAt)}`] : [])].join('  ·  ');
}

const period = (r: { from: string; to: string }) => `${r.from} to ${r.to}`;

export function icmpSourcesSpec(r: PeriodReport, o: StatisticsChartOptions = {}): Spec {
  const rows = (pick: (c: PeriodReport['icmpSources']) => number): BarRow[] => [
    { label: SOURCE_CLASSES.icmp, series: SOURCE_CLASSES.icmp, value: pick(r.icmpSources) },
    { label: SOURCE_CLASSES.other, series: SOURCE_CLASSES.other, value: pick(r.otherSources) },
  ];
  return barPanelsSpec({
    title: `ICMP and non-ICMP sources, ${period(r)}`,
    subtitle: subtitle('an ICMP source sent at least one ICMP alert in the period; its alerts count over all protocols', o),
    size: o.size,
    colors: SOURCE_CLASS_COLORS,
    panels: [
      { heading: 'Sources', rows: rows((c) => c.sources), xTitle: 'distinct source addresses' },
      { heading: 'Alerts (all protocols)', rows: rows((c) => c.alerts), xTitle: 'alerts' },
      { heading: 'Alerts per source', rows: rows((c) => c.alertsPerSource), xTitle: 'alerts per source', decimals: 1 },
    ],
  });
}

/** Ports with the most distinct sources (of the report's top 100 ports by alerts). */
export const TOP_SOURCE_PORTS = 20;

export function portSourcesSpec(r: PeriodReport, o: StatisticsChartOptions = {}): Spec {
  const top = [...r.ports].sort((a, b) => b.sources - a.sources || b.alerts - a.alerts || a.port.localeCompare(b.port)).slice(0, TOP_SOURCE_PORTS);
  // The report lists the 100 ports with most alerts; fewer means these are all the ports of the period.
  const which =
    r.ports.length <= TOP_SOURCE_PORTS && r.ports.length < 100
      ? 'every TCP and UDP port with alerts, by distinct sources'
      : `the ${TOP_SOURCE_PORTS} ports with most distinct sources, among the ${r.ports.length} with most alerts`;
  return barPanelsSpec({
    title: `Distinct sources per port, ${period(r)}`,
    subtitle: subtitle(which, o),
    size: o.size,
    panels: [
      { heading: 'Distinct sources', rows: top.map((p) => ({ label: portLabel(p.port), value: p.sources })), xTitle: 'distinct source addresses' },
      { heading: 'Alerts (same ports)', rows: top.map((p) => ({ label: portLabel(p.port), value: p.alerts })), xTitle: 'alerts' },
    ],
    fill: COLORS.alertsBar,
  });
}

/** "Active on exactly 1 day", "Active on 10 days or more", "Active on 2–9 days". */
export function cohortName(a: { minDays: number; maxDays: number | null }): string {
  if (a.maxDays === null) return `Active on ${a.minDays} day${a.minDays === 1 ? '' : 's'} or more`;
  if (a.minDays === a.maxDays) return `Active on exactly ${a.minDays} day${a.minDays === 1 ? '' : 's'}`;
  return `Active on ${a.minDays}–${a.maxDays} days`;
}

export const ACTIVITY_SIZE: ChartSize = { width: 1200, height: 560 };

export function activityPortsSpec(r: PeriodReport, o: StatisticsChartOptions = {}): Spec {
  return barPanelsSpec({
    title: `Top ports by source activity, ${period(r)}`,
    subtitle: subtitle('sources grouped by the number of days they were seen on; the 14 ports their alerts went to most', o),
    size: o.size ?? ACTIVITY_SIZE,
    panels: r.activity.map((a) => ({
      heading: `${cohortName(a)}: ${formatValue(a.sources, 0)} source${a.sources === 1 ? '' : 's'}`,
      rows: [...a.topPorts].sort((x, y) => y.alerts - x.alerts || x.port.localeCompare(y.port)).map((p) => ({ label: portLabel(p.port), value: p.alerts })),
      xTitle: 'alerts',
      emptyText: 'no such source in this period',
    })),
    fill: SERIES_PALETTE[3],
  });
}

/** At most this many sensors per watched-port panel; the others are summed into one row. */
export const WATCHED_SENSOR_ROWS = 15;

export function watchedSensorsSpec(s: PartnerStatistics, sensors: readonly SensorMark[], o: StatisticsChartOptions = {}): Spec {
  const names = new Map(sensors.map((m) => [m.id, m.name]));
  const ports = [...new Set(s.watched.map((w) => w.port))];
  const totals = new Map<string, number>();
  for (const w of s.watched) totals.set(w.sensor, (totals.get(w.sensor) ?? 0) + w.alerts);
  const ordered = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([id]) => id);
  const kept = new Set(ordered.length <= WATCHED_SENSOR_ROWS ? ordered : ordered.slice(0, WATCHED_SENSOR_ROWS - 1));
  const rest = ordered.length - kept.size;
  const label = (id: string) => (kept.has(id) ? (names.get(id) ?? id) : `${rest} other sensors`);
  const rowOrder = [...[...kept].map(label), ...(rest > 0 ? [`${rest} other sensors`] : [])];
  return barPanelsSpec({
    title: `Watched ports per sensor, ${period(s.report)}`,
    subtitle: subtitle('alerts on each watched port by sensor, from ICMP sources and from the others', o),
    size: o.size,
    colors: { ...SOURCE_CLASS_COLORS, legend: true },
    panels: ports.map((port) => {
      const sums = new Map<string, number>();
      for (const w of s.watched.filter((x) => x.port === port)) {
        const key = `${label(w.sensor)}\u0000${w.icmpSources ? SOURCE_CLASSES.icmp : SOURCE_CLASSES.other}`;
        sums.set(key, (sums.get(key) ?? 0) + w.alerts);
      }
      const rows = [...sums]
        .map(([key, value]) => {
          const [l, series] = key.split('\u0000') as [string, string];
          return { label: l, series, value };
        })
        .sort((a, b) => rowOrder.indexOf(a.label) - rowOrder.indexOf(b.label));
      return { heading: portLabel(port), rows, xTitle: 'alerts', emptyText: 'no alert on this port' };
    }),
  });
}

export function matrixSpecs(s: PartnerStatistics, o: StatisticsChartOptions = {}): { all: Spec; scans: Spec } {
  const size = o.size ? { width: o.size.width, height: Math.max(o.size.height, MATRIX_SIZE.height) } : MATRIX_SIZE;
  const what = '{rows}';
  return {
    all: matrixSpec(s.matrix, {
      title: `Source networks × port ranges, all alerts, ${period(s.report)}`,
      subtitle: subtitle(`all alerts; ${what}`, o),
      measure: 'alerts',
      size,
    }),
    scans: matrixSpec(s.matrix, {
      title: `Source networks × port ranges, scan alerts only, ${period(s.report)}`,
      subtitle: subtitle(`scan alerts only; ${what}`, o),
      measure: 'scanAlerts',
      size,
    }),
  };
}

export const PORT_CLASS_LABELS = {
  trojan: 'trojan: ports backdoors listen on',
  service: 'service: a registered name',
  unlisted: 'unlisted: neither',
} as const;

export function portClassesSpec(s: PartnerStatistics, o: StatisticsChartOptions = {}): Spec {
  const domain = s.portClasses.map((c) => PORT_CLASS_LABELS[c.class]);
  const colors = { domain, range: domain.map((_, i) => [COLORS.icmpSources, COLORS.otherSources, COLORS.others][i] ?? COLORS.others) };
  const rows = (pick: (c: PartnerStatistics['portClasses'][number]) => number) =>
    s.portClasses.map((c) => ({ label: PORT_CLASS_LABELS[c.class], series: PORT_CLASS_LABELS[c.class], value: pick(c) }));
  return barPanelsSpec({
    title: `Port classes, ${period(s.report)}`,
    subtitle: subtitle('each TCP and UDP destination port: a known trojan port, else a registered service, else unlisted', o),
    size: o.size,
    colors,
    panels: [
      { heading: 'Alerts', rows: rows((c) => c.alerts), xTitle: 'alerts' },
      { heading: 'Distinct ports', rows: rows((c) => c.ports), xTitle: 'destination ports' },
    ],
  });
}

/** How many signatures and categories the statistics list (lib/lake/report.ts). */
const TOP_LIST = 14;

/** A signature's label: its text, with its id when it has one. */
export function signatureLabel(sig: { key: string; name: string }): string {
  return sig.key.startsWith('msg:') ? sig.name : `${sig.name} (${sig.key})`;
}

export function signaturesSpec(s: PartnerStatistics, o: StatisticsChartOptions = {}): Spec {
  return barPanelsSpec({
    title: `Top signatures, ${period(s.report)}`,
    subtitle: subtitle('alerts per signature (signature id in brackets)', o),
    size: o.size,
    panels: [{ heading: s.signatures.length < TOP_LIST ? 'Every signature of the period' : `The ${TOP_LIST} signatures with most alerts`, rows: s.signatures.map((g) => ({ label: signatureLabel(g), value: g.alerts })), xTitle: 'alerts' }],
    fill: SERIES_PALETTE[6],
  });
}

export function categoriesSpec(s: PartnerStatistics, o: StatisticsChartOptions = {}): Spec {
  return barPanelsSpec({
    title: `Alert categories, ${period(s.report)}`,
    subtitle: subtitle('alerts per category (as the sensors classify them)', o),
    size: o.size,
    panels: [{ heading: s.categories.length < TOP_LIST ? 'Every category of the period' : `The ${TOP_LIST} categories with most alerts`, rows: s.categories.map((c) => ({ label: c.category, value: c.alerts })), xTitle: 'alerts' }],
    fill: SERIES_PALETTE[8],
  });
}

/** Every window chart of the partner page, by file-name stem. */
export function statisticsSpecs(
  s: PartnerStatistics,
  sensors: readonly SensorMark[],
  o: StatisticsChartOptions = {},
): Record<PartnerStatisticsChartName, Spec> {
  const opts = { periodName: 'last 30 closed days (UTC)', ...o };
  const matrix = matrixSpecs(s, opts);
  return {
    'port-sources': portSourcesSpec(s.report, opts),
    'icmp-sources': icmpSourcesSpec(s.report, opts),
    'activity-ports': activityPortsSpec(s.report, opts),
    'watched-sensors': watchedSensorsSpec(s, sensors, opts),
    matrix: matrix.all,
    'matrix-scans': matrix.scans,
    'port-classes': portClassesSpec(s, opts),
    signatures: signaturesSpec(s, opts),
    categories: categoriesSpec(s, opts),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The period report's own figures (per day)
// ---------------------------------------------------------------------------------------------------------

export function reportScansSpec(r: PeriodReport, o: StatisticsChartOptions & { sensors?: readonly SensorMark[] } = {}): Spec {
  const points = r.perDay.flatMap((d) => [
    { date: d.date, series: SERIES.allAlerts, value: d.alerts },
    { date: d.date, series: SERIES.scanAlerts, value: d.scanAlerts },
  ]);
  return seriesSpec(points, `Scan alerts per day, ${period(r)}`, {
    ...(o.size ? { size: o.size } : {}),
    days: { from: r.from, to: r.to },
    ...(o.sensors ? { sensors: o.sensors } : {}),
    subtitle: 'all alerts and the scan alerts among them',
    colors: { [SERIES.allAlerts]: COLORS.context, [SERIES.scanAlerts]: COLORS.scanLine },
  });
}

export function reportNewSourcesSpec(r: PeriodReport, o: StatisticsChartOptions & { sensors?: readonly SensorMark[] } = {}): Spec {
  const points = r.perDay.flatMap((d) => [
    ...(d.newSources === null ? [] : [{ date: d.date, series: SERIES.newSources, value: d.newSources }]),
    ...(d.newUnknownSources === null ? [] : [{ date: d.date, series: SERIES.newUnknownSources, value: d.newUnknownSources }]),
  ]);
  return seriesSpec(points, `New sources per day, ${period(r)}`, {
    ...(o.size ? { size: o.size } : {}),
    days: { from: r.from, to: r.to },
    ...(o.sensors ? { sensors: o.sensors } : {}),
    yTitle: 'sources per day',
    subtitle: 'never seen before by any sensor; of those, with traffic that is not a scan (closed days)',
    colors: { [SERIES.newSources]: SERIES_PALETTE[0], [SERIES.newUnknownSources]: SERIES_PALETTE[4] },
    seriesOrder: [SERIES.newSources, SERIES.newUnknownSources],
    emptyText: 'no closed day in this period',
  });
}
