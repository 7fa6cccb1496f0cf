/**
 * Vega specs for the published charts, as pure functions of the data in `model.ts`: no I/O, no clock
 * ("today" and "generated at" come in with the data), so the same input always gives the same chart.
 *
 * Geometry that needs pixels (label lanes, bar widths, bucket sizes) is worked out here rather than in Vega
 * expressions, because the chart size is known up front and the result is then plain data a test can read.
 * The daily graph gives that data as the values of its signals, so that one Vega view draws many days' graphs
 * (lib/charts/render.ts).
 */

import type { Axis, Legend, Mark, Scale, Signal, Spec, Title } from 'vega';
import { bucketSeries, type BucketUnit } from './buckets.js';
import { addDays, DAY_MS, dayStartMs, dayString, formatInstantUtc } from './dates.js';
import { LABEL_OFFSET, layoutLabelLanes, type LaneLayout } from './deployment-labels.js';
import { CHART_FONT } from './fonts.js';
import { portLabel } from '../ports/index.js';
import type { CountRow, DailyPoint, PartnerChartData, PublicChartData, SensorMark, SeriesPoint } from './model.js';
import { textWidth } from './text-width.js';
import {
  COLORS,
  DEFAULT_SIZE,
  FONT_SIZE,
  HALF_DAY_MS,
  SERIES_PALETTE,
  chartConfig,
  countFormat,
  dayBarTicks,
  timeAxis,
  type ChartSize,
} from './theme.js';

export { DEFAULT_SIZE, type ChartSize } from './theme.js';
export type { Spec } from 'vega';

// ---------------------------------------------------------------------------------------------------------
// Public chart: all alerts per day since the first deployment
// ---------------------------------------------------------------------------------------------------------

/** Fixed frame of the public chart (autosize "none"), so its plot area is known exactly. */
const PUBLIC_PADDING = { top: 64, left: 88, right: 30, bottom: 62 } as const;
/** Deployment labels may take at most this share of the plot's height before names start to overlap. */
const MAX_LABEL_SHARE = 0.4;
/** Days at least this wide are drawn as bars; narrower ones (long histories) as an area. */
const MIN_BAR_PX = 3;

export const PUBLIC_TITLE = 'Alerts per day, all sensors';
export const LEGEND_ALERTS = 'alerts per day';
export const LEGEND_NO_DATA = 'no data: no sensor reported';
export const LEGEND_DEPLOYED = 'sensor deployed';
/** The scan share drawn over the public graph's bars: only closed days have the full figure (DESIGN §14). */
export const LEGEND_SCANS = 'of which scan alerts (closed days)';
export const NOSCAN_TITLE = 'Alerts per day without scan alerts, all sensors';
export const LEGEND_NOSCAN = 'alerts per day, scan alerts left out (closed days)';
export const LEGEND_NO_FIGURE = 'no figure: day not closed yet, or no sensor reported';
/** DESIGN §14's definition, in the words the public page and the captions use. */
export const SCAN_DEFINITION =
  'scan alerts: every alert of a source that reached 20 or more ports or addresses in a day, over all sensors, and every alert whose signature or category names a scan';

/** What differs between the public graph of all alerts and the one without scan alerts. */
interface DailyVariant {
  title: string;
  alertsLegend: string;
  noDataLegend: string;
  /** draw each closed day's scan alerts over its bar, in their own colour */
  scans: boolean;
  subtitleNote?: string;
}

const ALL_ALERTS: DailyVariant = { title: PUBLIC_TITLE, alertsLegend: LEGEND_ALERTS, noDataLegend: LEGEND_NO_DATA, scans: true };
const WITHOUT_SCANS: DailyVariant = {
  title: NOSCAN_TITLE,
  alertsLegend: LEGEND_NOSCAN,
  noDataLegend: LEGEND_NO_FIGURE,
  scans: false,
  subtitleNote: 'so that one big scan does not flatten the other days',
};

export type DayState = 'closed' | 'partial';

/** One datum of the public chart's day data. */
export interface PublicDayDatum {
  date: string;
  /** day start, middle and end, ms UTC */
  t: number;
  tm: number;
  t1: number;
  total: number;
  reported: boolean;
  state: DayState;
  /** scan alerts (closed days with the full figure), else null; `base` = total − scan, where the scan part starts */
  scan: number | null;
  base: number;
}

export interface DeploymentDatum {
  /** the sensors of the marker (those deployed that day), and their ids joined with commas */
  ids: string[];
  id: string;
  /** the marker's label: the sensor's name, or the names of all sensors deployed that day ("9 sensors: …") */
  name: string;
  deployedAt: string;
  /** 00:00 UTC of the deployment day: the marker line's position */
  t: number;
  lane: number;
  dx: number;
  align: 'left' | 'right';
  /** top of the marker line and the label's baseline, in plot pixels */
  ruleTop: number;
  labelY: number;
}

export interface GapDatum {
  from: string;
  to: string;
  days: number;
  t0: number;
  t1: number;
}

/**
 * The public graph. Over long histories a day is narrower than a pixel, so days are drawn as a filled area
 * (bars from 3 px per day up, as in short histories); either way:
 * - days on which no sensor reported are a grey band and a break in the area, never a zero;
 * - today, which is still filling up, is drawn apart in orange with its own legend entry ("today so far");
 * - each sensor's deployment is a dashed vertical line named after the sensor, the names stacked in lanes
 *   above the plot so that close deployments stay readable.
 */
export function publicDailySpec(data: PublicChartData, size: ChartSize = DEFAULT_SIZE): Spec {
  return dailySpec(data, size, ALL_ALERTS);
}

/**
 * The public graph without scan alerts: each closed day's alerts minus its scan alerts (DESIGN §14), on a scale
 * of its own, so that a day of one big scan does not flatten the others. Days without the full scan figure
 * (today, a day not closed yet) are drawn as having no figure, never as zero.
 */
export function publicNoScanSpec(data: PublicChartData, size: ChartSize = DEFAULT_SIZE): Spec {
  const days = data.days.map((d): DailyPoint =>
    d.reported && d.scanAlerts !== undefined
      ? { date: d.date, total: Math.max(0, d.total - d.scanAlerts), reported: true }
      : { date: d.date, total: 0, reported: false },
  );
  return dailySpec({ ...data, days }, size, WITHOUT_SCANS);
}

function dailySpec(data: PublicChartData, size: ChartSize, variant: DailyVariant): Spec {
  const todayStart = dayStartMs(data.today);
  const domainEnd = todayStart + DAY_MS;
  const given = new Map<string, DailyPoint>();
  for (const d of data.days) if (dayStartMs(d.date) <= todayStart) given.set(d.date, d);
  // Sensors registered with a future deployment date are not on the graph yet.
  const sensors = data.sensors.filter((s) => dayStartMs(s.deployedAt) <= todayStart);
  let domainStart = todayStart;
  for (const date of given.keys()) domainStart = Math.min(domainStart, dayStartMs(date));
  for (const s of sensors) domainStart = Math.min(domainStart, dayStartMs(s.deployedAt));
  const dayCount = Math.round((domainEnd - domainStart) / DAY_MS);
  // Every day of the domain, in order; a day the input lacks is a day without reports, never a zero.
  const days: DailyPoint[] = [];
  for (let t = domainStart; t < domainEnd; t += DAY_MS) {
    const date = dayString(t);
    days.push(given.get(date) ?? { date, total: 0, reported: false });
  }

  const plotWidth = size.width - PUBLIC_PADDING.left - PUBLIC_PADDING.right;
  const plotHeight = size.height - PUBLIC_PADDING.top - PUBLIC_PADDING.bottom;
  const pxPerMs = plotWidth / (domainEnd - domainStart);
  const dayPx = DAY_MS * pxPerMs;
  const asBars = dayPx >= MIN_BAR_PX;

  const dayData: PublicDayDatum[] = days.map((d) => toDayDatum(d, d.date === data.today ? 'partial' : 'closed'));
  const closed = dayData.filter((d) => d.state === 'closed');
  const today = dayData.filter((d) => d.state === 'partial' && d.reported);
  const gaps = noDataRanges(days, Math.ceil(3 / dayPx));

  const labelLayout = layoutDeployments(sensors, domainStart, pxPerMs, { right: plotWidth + PUBLIC_PADDING.right - 4 }, plotHeight);
  const { deployments, lanes } = labelLayout;
  const stripHeight = lanes > 0 ? lanes * labelLayout.laneHeight + 8 : 4;

  const yMax = dayData.reduce((m, d) => (d.reported ? Math.max(m, d.total) : m), 1);
  const first = dayString(domainStart);
  const subtitle = [
    `${first} to ${data.today} (UTC days)`,
    ...(variant.subtitleNote ? [variant.subtitleNote] : []),
    `${sensors.length} sensor${sensors.length === 1 ? '' : 's'}`,
    `generated ${formatInstantUtc(data.generatedAt)}`,
  ].join('  ·  ');

  const todayDatum = today[0];
  const hasScans = variant.scans && closed.some((d) => d.reported && d.scan !== null);
  const legendEntries = [
    variant.alertsLegend,
    ...(hasScans ? [LEGEND_SCANS] : []),
    ...(todayDatum ? [todayLegendLabel(todayDatum.total, data.generatedAt)] : []),
    ...(gaps.length > 0 ? [variant.noDataLegend] : []),
    ...(deployments.length > 0 ? [LEGEND_DEPLOYED] : []),
  ];
  const styles = legendEntries.map((e) => legendStyle(e, asBars, variant));

  // What differs from one day's graph to the next is in signals (and data), so that the renderer draws a
  // series of them (the archive copies of a long history) on one view of this shape.
  const ticks = timeAxis(dayCount, plotWidth, asBars ? dayBarTicks(domainStart, domainEnd, plotWidth) : {});
  const signals: Signal[] = [
    { name: 'xDomain', value: [domainStart, domainEnd] },
    { name: 'yDomain', value: [0, yMax] },
    { name: 'stripHeight', value: stripHeight },
    { name: 'subtitle', value: subtitle },
    { name: 'xTickCount', value: ticks.tickCount },
    { name: 'xFormat', value: ticks.format },
    ...(asBars ? [{ name: 'xTicks', value: ticks.values }] : []),
    { name: 'legendEntries', value: legendEntries },
    { name: 'legendFills', value: styles.map((st) => st.fill) },
    { name: 'legendStrokes', value: styles.map((st) => st.stroke) },
    { name: 'legendShapes', value: styles.map((st) => st.shape) },
    { name: 'labelFontSize', value: labelLayout.fontSize },
    ...(asBars ? barSignals(dayPx, hasScans, closed, domainStart) : []),
  ];

  const scales: Scale[] = [
    { name: 'x', type: 'utc', domain: { signal: 'xDomain' }, range: [0, plotWidth] },
    {
      name: 'y',
      type: 'linear',
      domain: { signal: 'yDomain' },
      nice: true,
      zero: true,
      range: [plotHeight, { signal: 'stripHeight' }],
    },
    { name: 'legendFill', type: 'ordinal', domain: { signal: 'legendEntries' }, range: { signal: 'legendFills' } },
    { name: 'legendStroke', type: 'ordinal', domain: { signal: 'legendEntries' }, range: { signal: 'legendStrokes' } },
    { name: 'legendShape', type: 'ordinal', domain: { signal: 'legendEntries' }, range: { signal: 'legendShapes' } },
  ];

  const axes: Axis[] = [
    {
      ...ticks,
      tickCount: { signal: 'xTickCount' },
      format: { signal: 'xFormat' },
      ...(asBars ? { values: { signal: 'xTicks' } } : {}),
    },
    {
      orient: 'left',
      scale: 'y',
      format: ',d',
      tickMinStep: 1,
      tickCount: 6,
      grid: true,
      title: 'alerts per day',
      titlePadding: 10,
      labelPadding: 4,
      zindex: 0,
    },
  ];

  const marks: Mark[] = [
    ...(asBars ? barMarks(hasScans) : areaMarks(hasScans)),
    // Over the data, not under it: at ten years a missing day is narrower than a pixel and the area would
    // close over it.
    {
      type: 'rect',
      name: 'noData',
      from: { data: 'gaps' },
      encode: {
        update: {
          x: { scale: 'x', field: 't0' },
          x2: { scale: 'x', field: 't1' },
          y: { signal: 'stripHeight' },
          y2: { signal: 'height' },
          fill: { value: COLORS.noData },
        },
      },
    },
    {
      // A darker foot on the axis, so that a single missing day still shows where a band is a pixel wide.
      type: 'rect',
      name: 'noDataFoot',
      from: { data: 'gaps' },
      encode: {
        update: {
          x: { scale: 'x', field: 't0' },
          x2: { scale: 'x', field: 't1' },
          y: { signal: 'height', offset: -5 },
          y2: { signal: 'height' },
          fill: { value: COLORS.noDataEdge },
        },
      },
    },
    {
      type: 'rule',
      name: 'deploymentRules',
      from: { data: 'deployments' },
      encode: {
        update: {
          x: { scale: 'x', field: 't' },
          y: { field: 'ruleTop' },
          y2: { signal: 'height' },
          stroke: { value: COLORS.deployment },
          strokeWidth: { value: 1 },
          strokeDash: { value: [4, 3] },
          strokeOpacity: { value: 0.7 },
        },
      },
    },
    {
      type: 'text',
      name: 'deploymentLabels',
      from: { data: 'deployments' },
      encode: {
        update: {
          x: { scale: 'x', field: 't' },
          dx: { field: 'dx' },
          y: { field: 'labelY' },
          align: { field: 'align' },
          baseline: { value: 'alphabetic' },
          text: { field: 'name' },
          font: { value: CHART_FONT },
          fontSize: { signal: 'labelFontSize' },
          fill: { value: COLORS.ink },
        },
      },
    },
  ];

  const legend: Legend = {
    fill: 'legendFill',
    stroke: 'legendStroke',
    shape: 'legendShape',
    orient: 'bottom',
    direction: 'horizontal',
    offset: 30,
    symbolSize: 110,
    symbolStrokeWidth: 1.5,
    columnPadding: 22,
    labelFont: CHART_FONT,
    labelLimit: 420,
    encode: {
      symbols: {
        update: {
          strokeDash: { signal: `datum.value === ${JSON.stringify(LEGEND_DEPLOYED)} ? [3, 2] : [1, 0]` },
        },
      },
    },
  };

  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: `${variant.title}: alerts per UTC day from ${first} to ${data.today}`,
    width: plotWidth,
    height: plotHeight,
    padding: { ...PUBLIC_PADDING },
    autosize: 'none',
    background: '#ffffff',
    config: chartConfig(),
    title: { ...chartTitle(variant.title), subtitle: { signal: 'subtitle' } },
    signals,
    data: [
      { name: 'days', values: closed },
      { name: 'zeroDays', source: 'days', transform: [{ type: 'filter', expr: 'datum.reported && datum.total === 0' }] },
      { name: 'today', values: today },
      { name: 'todayLink', values: todayLink(closed, todayDatum) },
      { name: 'gaps', values: gaps },
      { name: 'deployments', values: deployments },
    ],
    scales,
    axes,
    legends: [legend],
    marks,
  };
}

function toDayDatum(d: DailyPoint, state: DayState): PublicDayDatum {
  const t = dayStartMs(d.date);
  const total = d.reported ? d.total : 0;
  const scan = d.reported && state === 'closed' && d.scanAlerts !== undefined ? Math.min(d.scanAlerts, total) : null;
  return { date: d.date, t, tm: t + HALF_DAY_MS, t1: t + DAY_MS, total, reported: d.reported, state, scan, base: total - (scan ?? 0) };
}

/** Runs of days without any report, widened to at least `minDays` (3 px) so a lone day still shows at 10 years. */
function noDataRanges(days: readonly DailyPoint[], minDays: number): GapDatum[] {
  const out: GapDatum[] = [];
  let run: { from: string; to: string; count: number } | undefined;
  const flush = () => {
    if (!run) return;
    const t0 = dayStartMs(run.from);
    const t1 = dayStartMs(run.to) + DAY_MS;
    const pad = Math.max(0, minDays - run.count) * HALF_DAY_MS;
    out.push({ from: run.from, to: run.to, days: run.count, t0: t0 - pad, t1: t1 + pad });
    run = undefined;
  };
  for (const d of days) {
    if (d.reported) flush();
    else if (run) run = { ...run, to: d.date, count: run.count + 1 };
    else run = { from: d.date, to: d.date, count: 1 };
  }
  flush();
  return out;
}

/**
 * Label styles tried in turn: the first under which every name gets a lane of its own wins. Dense waves of
 * deployments need one lane per name (a name must not cover a neighbour's line), so the fallbacks trade type
 * size for lanes; the last may leave some names overlapping in its top lane.
 */
interface LabelStyle {
  fontSize: number;
  laneHeight: number;
  /** at most this share of the plot's height for the lanes */
  share: number;
}
const LABEL_STYLES: readonly LabelStyle[] = [
  { fontSize: FONT_SIZE.deployment, laneHeight: 15, share: 0.4 },
  { fontSize: 10, laneHeight: 12, share: 0.5 },
  { fontSize: 9, laneHeight: 10.5, share: 0.55 },
];
/** The partner time series are smaller: their lanes take less of the plot. */
const SERIES_LABEL_STYLES: readonly LabelStyle[] = [
  { fontSize: 10, laneHeight: 13, share: 0.28 },
  { fontSize: 9, laneHeight: 11, share: 0.36 },
];

interface DeploymentLayout {
  deployments: DeploymentDatum[];
  lanes: number;
  fontSize: number;
  laneHeight: number;
}

/** Sensors deployed on the same day share one marker (DESIGN §8). */
interface DeploymentGroup {
  ids: string[];
  names: string[];
  deployedAt: string;
  label: string;
}

/** Longest marker label before the names of a day's sensors are cut short. */
const MAX_GROUP_LABEL = 48;

export function deploymentGroups(sensors: readonly SensorMark[]): DeploymentGroup[] {
  const byDay = new Map<string, SensorMark[]>();
  for (const s of sensors) byDay.set(s.deployedAt, [...(byDay.get(s.deployedAt) ?? []), s]);
  return [...byDay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([deployedAt, group]) => {
      const sorted = [...group].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
      const names = sorted.map((s) => s.name);
      return { ids: sorted.map((s) => s.id), names, deployedAt, label: groupLabel(names) };
    });
}

/** "Vienna 1"; "Lisbon 1, Lisbon 2"; "9 sensors: Lisbon 1, Lisbon 2, Oslo 1, …". */
function groupLabel(names: readonly string[]): string {
  const joined = names.join(', ');
  if (names.length === 1) return joined;
  const text = names.length > 2 ? `${names.length} sensors: ${joined}` : joined;
  if (text.length <= MAX_GROUP_LABEL) return text;
  // Whole names only, then an ellipsis.
  let out = names.length > 2 ? `${names.length} sensors: ${names[0]}` : names[0]!;
  for (const n of names.slice(1)) {
    if (out.length + n.length + 5 > MAX_GROUP_LABEL) break;
    out += `, ${n}`;
  }
  return `${out}, …`;
}

function layoutDeployments(
  sensors: readonly SensorMark[],
  domainStart: number,
  pxPerMs: number,
  // Names may reach into the right padding, but not past the y axis labels on the left.
  bounds: { right: number },
  plotHeight: number,
  styles: readonly LabelStyle[] = LABEL_STYLES,
): DeploymentLayout {
  const sorted = deploymentGroups(sensors);
  const xs = sorted.map((s) => (dayStartMs(s.deployedAt) - domainStart) * pxPerMs);
  let chosen: (LaneLayout & LabelStyle) | undefined;
  for (const style of styles) {
    const maxLanes = Math.max(1, Math.floor((plotHeight * style.share) / style.laneHeight));
    const requests = sorted.map((s, i) => ({ x: xs[i] ?? 0, width: textWidth(s.label, style.fontSize) }));
    chosen = { ...layoutLabelLanes(requests, { left: 0, right: bounds.right }, maxLanes), ...style };
    if (chosen.crowded === 0) break;
  }
  const lanes = chosen?.lanes ?? 0;
  const laneHeight = chosen?.laneHeight ?? styles[0]!.laneHeight;
  const fontSize = chosen?.fontSize ?? styles[0]!.fontSize;
  const deployments = sorted.map((s, i): DeploymentDatum => {
    const label = chosen?.labels[i] ?? { lane: 0, dx: LABEL_OFFSET, align: 'left' as const };
    const laneTop = (lanes - 1 - label.lane) * laneHeight; // lane 0 is the one nearest the data
    return {
      ids: s.ids,
      id: s.ids.join(','),
      name: s.label,
      deployedAt: s.deployedAt,
      t: dayStartMs(s.deployedAt),
      lane: label.lane,
      dx: label.dx,
      align: label.align,
      ruleTop: laneTop + 1,
      labelY: laneTop + fontSize,
    };
  });
  return { deployments, lanes, fontSize, laneHeight };
}

function todayLegendLabel(total: number, generatedAt: string): string {
  const at = formatInstantUtc(generatedAt);
  const time = /\d{2}:\d{2} UTC$/.exec(at)?.[0];
  return `today so far${time ? ` (to ${time})` : ''}: ${withThousands(total)}`;
}

/** 1234567 → "1,234,567", the same grouping as the axis (not the process locale). */
function withThousands(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The dashed segment from the last closed day to today's partial value (area view only). */
function todayLink(closed: readonly PublicDayDatum[], today: PublicDayDatum | undefined): PublicDayDatum[] {
  const last = closed[closed.length - 1];
  if (!today || !last || !last.reported || today.t - last.t !== DAY_MS) return [];
  return [last, today];
}

function areaMarks(scans: boolean): Mark[] {
  return [
    {
      type: 'area',
      name: 'alerts',
      from: { data: 'days' },
      encode: {
        update: {
          x: { scale: 'x', field: 'tm' },
          y: { scale: 'y', field: 'total' },
          y2: { scale: 'y', value: 0 },
          defined: { field: 'reported' },
          fill: { value: COLORS.alertsFill },
          interpolate: { value: 'linear' },
        },
      },
    },
    ...(scans
      ? [
          {
            // The top of each closed day: its scan alerts. Broken where the figure is not known yet.
            type: 'area',
            name: 'scanAlerts',
            from: { data: 'days' },
            encode: {
              update: {
                x: { scale: 'x', field: 'tm' },
                y: { scale: 'y', field: 'total' },
                y2: { scale: 'y', field: 'base' },
                defined: { signal: 'datum.reported && datum.scan !== null' },
                fill: { value: COLORS.scanFill },
                interpolate: { value: 'linear' },
              },
            },
          } satisfies Mark,
        ]
      : []),
    {
      type: 'line',
      name: 'alertsLine',
      from: { data: 'days' },
      encode: {
        update: {
          x: { scale: 'x', field: 'tm' },
          y: { scale: 'y', field: 'total' },
          defined: { field: 'reported' },
          stroke: { value: COLORS.alertsLine },
          strokeWidth: { value: 0.8 },
        },
      },
    },
    {
      type: 'line',
      name: 'todaySegment',
      from: { data: 'todayLink' },
      encode: {
        update: {
          x: { scale: 'x', field: 'tm' },
          y: { scale: 'y', field: 'total' },
          stroke: { value: COLORS.partialStroke },
          strokeWidth: { value: 1.5 },
          strokeDash: { value: [3, 2] },
        },
      },
    },
    {
      type: 'symbol',
      name: 'todayPartial',
      from: { data: 'today' },
      encode: {
        update: {
          x: { scale: 'x', field: 'tm' },
          y: { scale: 'y', field: 'total' },
          shape: { value: 'circle' },
          size: { value: 90 },
          fill: { value: COLORS.partialFill },
          stroke: { value: COLORS.partialStroke },
          strokeWidth: { value: 1.5 },
        },
      },
    },
  ];
}

/**
 * The closed days' bars of one series as a single path, in plot units of days (from the domain's start) across
 * and alerts up, each bar from `low` to `high` of its day: the mark scales it onto the plot. One element per
 * series instead of one per day — the rasteriser's cost is mostly per element (measured on a 190-day archive
 * copy, 378 bar elements: 27.3 ms a copy; the same bars as two paths: 19.5 ms) — and abutting bars no longer
 * show a hairline seam where two anti-aliased edges meet.
 */
function barsPath(
  days: readonly PublicDayDatum[],
  domainStart: number,
  insetDays: number,
  low: (d: PublicDayDatum) => number,
  high: (d: PublicDayDatum) => number,
): string {
  const width = 1 - 2 * insetDays;
  let path = '';
  for (const d of days) {
    const from = low(d);
    const to = high(d);
    if (!(to > from)) continue;
    path += `M${(d.t - domainStart) / DAY_MS + insetDays},${from}h${width}v${to - from}h${-width}Z`;
  }
  return path;
}

/** The bars' signals: their paths (see barsPath), the width of a day and the air between bars, in pixels. */
function barSignals(dayPx: number, scans: boolean, closed: readonly PublicDayDatum[], domainStart: number): Signal[] {
  // A pixel of air between bars once they are wide enough for it to read as separate days.
  // Bars no wider than 48 px: the first days of a network would otherwise be slabs across the whole plot.
  const inset = dayPx >= 6 ? Math.max(Math.min(2, dayPx * 0.12), (dayPx - 48) / 2) : 0;
  const reported = closed.filter((d) => d.reported);
  return [
    { name: 'dayPx', value: dayPx },
    { name: 'inset', value: inset },
    { name: 'alertBars', value: barsPath(reported, domainStart, inset / dayPx, () => 0, (d) => d.total) },
    // A day without scan alerts has none: its base is its total.
    ...(scans
      ? [{ name: 'scanBars', value: barsPath(reported, domainStart, inset / dayPx, (d) => d.base, (d) => d.total) }]
      : []),
  ];
}

function barMarks(scans: boolean): Mark[] {
  const bars = (name: string, fill: string, pathSignal: string): Mark => ({
    type: 'path',
    name,
    encode: {
      update: {
        x: { scale: 'x', signal: 'xDomain[0]' },
        y: { scale: 'y', value: 0 },
        scaleX: { signal: 'dayPx' },
        // Pixels per alert, negative: up the plot.
        scaleY: { signal: "scale('y', 1) - scale('y', 0)" },
        path: { signal: pathSignal },
        fill: { value: fill },
      },
    },
  });
  const dayWide = {
    x: { scale: 'x', field: 't', offset: { signal: 'inset' } },
    x2: { scale: 'x', field: 't1', offset: { signal: '-inset' } },
  } as const;
  return [
    bars('alerts', COLORS.alertsBar, 'alertBars'),
    // The top of each closed day's bar: its scan alerts, in their own colour.
    ...(scans ? [bars('scanAlerts', COLORS.scanFill, 'scanBars')] : []),
    {
      // A day that reported no alerts gets a sliver on the axis: measured zero, not a missing bar.
      type: 'rect',
      name: 'zeroAlerts',
      from: { data: 'zeroDays' },
      encode: {
        update: {
          ...dayWide,
          y: { scale: 'y', value: 0, offset: -2 },
          y2: { scale: 'y', value: 0 },
          fill: { value: COLORS.alertsLine },
        },
      },
    },
    {
      type: 'rect',
      name: 'todayPartial',
      from: { data: 'today' },
      encode: {
        update: {
          ...dayWide,
          y: { scale: 'y', field: 'total' },
          y2: { scale: 'y', value: 0 },
          fill: { value: COLORS.partialFill },
          stroke: { value: COLORS.partialStroke },
          strokeWidth: { value: 1.2 },
          strokeDash: { value: [3, 2] },
        },
      },
    },
  ];
}

function legendStyle(entry: string, asBars: boolean, variant: DailyVariant): { fill: string; stroke: string; shape: string } {
  if (entry === variant.alertsLegend) return { fill: COLORS.alertsBar, stroke: COLORS.alertsLine, shape: 'square' };
  if (entry === LEGEND_SCANS) return { fill: COLORS.scanFill, stroke: COLORS.scanLine, shape: 'square' };
  if (entry === variant.noDataLegend) return { fill: COLORS.noData, stroke: COLORS.noData, shape: 'square' };
  // A short vertical line, like the markers on the plot.
  if (entry === LEGEND_DEPLOYED) return { fill: 'transparent', stroke: COLORS.deployment, shape: 'M0,-1.3L0,1.3' };
  // What is left is the "today so far" entry, drawn like today's mark.
  return { fill: COLORS.partialFill, stroke: COLORS.partialStroke, shape: asBars ? 'square' : 'circle' };
}

export function chartTitle(text: string, subtitle?: string): Title {
  return {
    text,
    ...(subtitle ? { subtitle } : {}),
    anchor: 'start',
    frame: 'group',
    offset: 14,
    font: CHART_FONT,
    subtitleFont: CHART_FONT,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Partner charts
// ---------------------------------------------------------------------------------------------------------

export interface TopPortsOptions {
  size?: ChartSize;
  subtitle?: string;
  /** the text of a row's label (default: its key); e.g. `portLabel` for `tcp/445 microsoft-ds` */
  label?: (key: string) => string;
  /** x axis title; default "alerts" */
  xTitle?: string;
}

/** Horizontal bars of the busiest destination ports (or any keyed counts), largest on top. */
export function topPortsSpec(rows: readonly CountRow[], title: string, options: TopPortsOptions = {}): Spec {
  const size = options.size ?? DEFAULT_SIZE;
  const label = options.label ?? ((k: string) => k);
  const sorted = [...rows]
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .map((r) => ({ ...r, label: label(r.key) }));
  const max = Math.max(1, ...sorted.map((r) => r.count));
  const longest = Math.max(0, ...sorted.map((r) => textWidth(r.label, 12)));
  const marks: Mark[] = [
    {
      type: 'rect',
      name: 'bars',
      from: { data: 'rows' },
      encode: {
        enter: {
          y: { scale: 'y', field: 'label' },
          height: { scale: 'y', band: 1 },
          x: { scale: 'x', value: 0 },
          x2: { scale: 'x', field: 'count' },
          fill: { value: COLORS.alertsBar },
        },
      },
    },
    {
      type: 'text',
      name: 'counts',
      from: { data: 'rows' },
      encode: {
        enter: {
          y: { scale: 'y', field: 'label', band: 0.5 },
          x: { scale: 'x', field: 'count' },
          dx: { value: 5 },
          baseline: { value: 'middle' },
          text: { signal: "format(datum.count, ',d')" },
          font: { value: CHART_FONT },
          fontSize: { value: FONT_SIZE.label },
          fill: { value: COLORS.ink },
        },
      },
    },
  ];
  if (sorted.length === 0) marks.push(noDataMark());
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: title,
    width: size.width,
    height: size.height,
    padding: { top: 16, left: 16, right: 24, bottom: 12 },
    autosize: { type: 'fit', contains: 'padding' },
    background: '#ffffff',
    config: chartConfig(),
    title: chartTitle(title, options.subtitle),
    data: [{ name: 'rows', values: sorted }],
    scales: [
      { name: 'y', type: 'band', domain: sorted.map((r) => r.label), range: 'height', paddingInner: 0.25, paddingOuter: 0.15 },
      // Head room on the right for the count printed after the longest bar.
      { name: 'x', type: 'linear', domain: [0, max * 1.08], nice: true, zero: true, range: 'width' },
    ],
    axes: [
      {
        orient: 'left',
        scale: 'y',
        labelFontSize: 12,
        labelPadding: 6,
        labelLimit: Math.ceil(Math.min(size.width * 0.45, Math.max(180, longest + 4))),
        ticks: false,
        domainColor: COLORS.axis,
      },
      { orient: 'bottom', scale: 'x', format: ',d', tickMinStep: 1, grid: true, title: options.xTitle ?? 'alerts', zindex: 0 },
    ],
    marks,
  };
}

export interface SeriesOptions {
  stacked?: boolean;
  size?: ChartSize;
  subtitle?: string;
  /** y axis title before any bucket note; default "alerts per day" */
  yTitle?: string;
  /** stacked: at most this many areas, the smallest series summed into "N others"; default 10 */
  maxSeries?: number;
  othersLabel?: (count: number) => string;
  seriesOrder?: readonly string[];
  /** a day still filling up (today): left out, so a partial count does not read as a drop */
  partialDay?: string;
  /** sensors whose deployment is marked (dashed line and name) where it falls inside the chart's days */
  sensors?: readonly SensorMark[];
  /** the days the x axis spans at least (e.g. the whole history, from the first deployment), inclusive */
  days?: { from: string; to: string };
  /** fixed colours of some series (others take the palette in order) */
  colors?: Readonly<Record<string, string>>;
  /** what the chart says when it has no point; default "no data yet" */
  emptyText?: string;
  /** ISO instant, said last in the subtitle */
  generatedAt?: string;
}

const UNIT_NOTE: Record<BucketUnit, string> = { day: '', week: ' (weekly mean)', month: ' (monthly mean)' };
const SERIES_LEGEND_WIDTH = 200;
/** Fixed frame (autosize "none"): the plot's width is known, so deployment names can be laid out in pixels. */
const SERIES_PADDING = { top: 64, left: 86, right: SERIES_LEGEND_WIDTH + 14, bottom: 34 } as const;
/** Lines over at most this many days get a dot per day, so a lone day (a short report) still shows. */
const MAX_DOTTED_DAYS = 62;

/**
 * Several series over time: lines, or stacked areas for parts of a whole (alerts per sensor), with each sensor's
 * deployment marked as on the public graph.
 *
 * Over long ranges days are averaged into weeks or months (see `buckets.ts`): 10 years of days is 3,650 points
 * per series on ~1,000 pixels, detail nobody can see. Stacked charts also keep the 9 largest series and sum the
 * rest into one "others" area, because more than ten colours cannot be told apart. Measured for 10 years × 50
 * sensors (182,500 points): daily and all 50 stacked took ~2.1 s and a 5.7 MB SVG; weekly with 9 + others
 * (5,220 points) ~0.12 s and 175 KB.
 */
export function seriesSpec(points: readonly SeriesPoint[], title: string, options: SeriesOptions = {}): Spec {
  const size = options.size ?? DEFAULT_SIZE;
  const stacked = options.stacked ?? false;
  const kept = options.partialDay === undefined ? points : points.filter((p) => p.date !== options.partialDay);
  const plotWidth = size.width - SERIES_PADDING.left - SERIES_PADDING.right;
  const plotHeight = size.height - SERIES_PADDING.top - SERIES_PADDING.bottom;
  const bucketed = bucketSeries(kept, {
    stacked,
    plotWidth,
    maxSeries: stacked ? (options.maxSeries ?? 10) : undefined,
    ...(options.othersLabel ? { othersLabel: options.othersLabel } : {}),
    ...(options.seriesOrder ? { seriesOrder: options.seriesOrder } : {}),
  });
  const { series, unit } = bucketed;
  const values = bucketed.points.map((p) => ({
    series: p.series,
    order: p.order,
    t0: p.t0,
    t1: p.t1,
    tm: (p.t0 + p.t1) / 2,
    value: p.value,
  }));
  const hasData = series.length > 0;
  // The x extent: the data's, widened to the days asked for (whole-history charts all start at the first
  // deployment, so that they line up with each other and with the public graph).
  let domainStart = hasData ? bucketed.firstDay : Infinity;
  let domainEnd = hasData ? bucketed.lastDay + DAY_MS : -Infinity;
  if (options.days && options.days.from <= options.days.to) {
    domainStart = Math.min(domainStart, dayStartMs(options.days.from));
    domainEnd = Math.max(domainEnd, dayStartMs(options.days.to) + DAY_MS);
  }
  if (!Number.isFinite(domainStart) || !Number.isFinite(domainEnd)) {
    domainStart = 0;
    domainEnd = DAY_MS;
  }
  const dayCount = Math.round((domainEnd - domainStart) / DAY_MS);
  const palette = series.filter((s) => s !== bucketed.others && options.colors?.[s] === undefined);
  const colors = series.map(
    (s) =>
      options.colors?.[s] ??
      (s === bucketed.others ? COLORS.others : (SERIES_PALETTE[palette.indexOf(s) % SERIES_PALETTE.length] ?? COLORS.others)),
  );
  const yTitle = `${options.yTitle ?? 'alerts per day'}${UNIT_NOTE[unit]}`;
  const rangeNote = hasData || options.days ? `${dayString(domainStart)} to ${dayString(domainEnd - DAY_MS)}` : 'no data yet';
  const subtitle = [
    ...(options.subtitle ? [options.subtitle] : []),
    rangeNote,
    ...(options.generatedAt ? [`generated ${formatInstantUtc(options.generatedAt)}`] : []),
  ].join('  ·  ');

  const sensors = (options.sensors ?? []).filter((s) => {
    const t = dayStartMs(s.deployedAt);
    return t >= domainStart && t < domainEnd;
  });
  const pxPerMs = plotWidth / (domainEnd - domainStart);
  const labelLayout = layoutDeployments(sensors, domainStart, pxPerMs, { right: plotWidth }, plotHeight, SERIES_LABEL_STYLES);
  const stripHeight = labelLayout.lanes > 0 ? labelLayout.lanes * labelLayout.laneHeight + 6 : 0;

  const inner: Mark = stacked
    ? {
        type: 'area',
        from: { data: 'bySeries' },
        sort: { field: 'datum.tm' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'tm' },
            y: { scale: 'y', field: 'y1' },
            y2: { scale: 'y', field: 'y0' },
            defined: { signal: 'datum.value !== null' },
            fill: { scale: 'color', field: 'series' },
            interpolate: { value: 'linear' },
          },
        },
      }
    : {
        type: 'line',
        from: { data: 'bySeries' },
        sort: { field: 'datum.tm' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'tm' },
            y: { scale: 'y', field: 'value' },
            defined: { signal: 'datum.value !== null' },
            stroke: { scale: 'color', field: 'series' },
            strokeWidth: { value: unit === 'day' && dayCount > 200 ? 1 : 1.6 },
          },
        },
      };

  const dotted = !stacked && unit === 'day' && dayCount <= MAX_DOTTED_DAYS;
  const marks: Mark[] = [
    {
      type: 'group',
      name: 'series',
      from: { facet: { name: 'bySeries', data: 'points', groupby: 'series' } },
      encode: { enter: { width: { signal: 'width' }, height: { signal: 'height' } } },
      clip: true,
      marks: [inner],
    },
    ...(dotted
      ? [
          {
            type: 'symbol',
            name: 'dots',
            from: { data: 'knownPoints' },
            clip: true,
            encode: {
              enter: {
                x: { scale: 'x', field: 'tm' },
                y: { scale: 'y', field: 'value' },
                size: { value: 22 },
                fill: { scale: 'color', field: 'series' },
              },
            },
          } satisfies Mark,
        ]
      : []),
    ...deploymentMarks(labelLayout.fontSize),
  ];
  if (!hasData) marks.push(noDataMark(options.emptyText));

  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: title,
    width: plotWidth,
    height: plotHeight,
    padding: { ...SERIES_PADDING },
    autosize: 'none',
    background: '#ffffff',
    config: chartConfig(),
    title: chartTitle(title, subtitle),
    data: [
      {
        name: 'points',
        values,
        transform: stacked
          ? [{ type: 'stack', groupby: ['t0'], field: 'value', sort: { field: 'order' }, as: ['y0', 'y1'] }]
          : [],
      },
      { name: 'knownPoints', source: 'points', transform: [{ type: 'filter', expr: 'datum.value !== null' }] },
      { name: 'deployments', values: labelLayout.deployments },
    ],
    scales: [
      { name: 'x', type: 'utc', domain: [domainStart, domainEnd], range: [0, plotWidth] },
      {
        name: 'y',
        type: 'linear',
        domain: [0, Math.max(1, bucketed.max)],
        nice: true,
        zero: true,
        range: [plotHeight, stripHeight],
      },
      { name: 'color', type: 'ordinal', domain: series, range: colors },
    ],
    axes: [
      timeAxis(dayCount, plotWidth),
      {
        orient: 'left',
        scale: 'y',
        format: countFormat(bucketed.max),
        tickCount: 6,
        grid: true,
        title: yTitle,
        titlePadding: 10,
        zindex: 0,
      },
    ],
    // One series needs no legend: the title names it.
    legends: series.length > 1
      ? [
          {
            ...(stacked ? { fill: 'color' } : { stroke: 'color' }),
            orient: 'right',
            offset: 14,
            symbolType: stacked ? 'square' : 'stroke',
            symbolStrokeWidth: stacked ? 0 : 2.5,
            symbolSize: stacked ? 120 : 200,
            // Stacked: list top to bottom as the areas are drawn, so the legend reads like the chart.
            values: stacked ? [...series].reverse() : series,
            labelLimit: SERIES_LEGEND_WIDTH - 30,
            rowPadding: 4,
          },
        ]
      : [],
    marks,
  };
}

/** The deployment markers of a chart whose data has a `deployments` set (see `layoutDeployments`). */
function deploymentMarks(fontSize: number): Mark[] {
  return [
    {
      type: 'rule',
      name: 'deploymentRules',
      from: { data: 'deployments' },
      encode: {
        enter: {
          x: { scale: 'x', field: 't' },
          y: { field: 'ruleTop' },
          y2: { signal: 'height' },
          stroke: { value: COLORS.deployment },
          strokeWidth: { value: 1 },
          strokeDash: { value: [4, 3] },
          strokeOpacity: { value: 0.7 },
        },
      },
    },
    {
      type: 'text',
      name: 'deploymentLabels',
      from: { data: 'deployments' },
      encode: {
        enter: {
          x: { scale: 'x', field: 't' },
          dx: { field: 'dx' },
          y: { field: 'labelY' },
          align: { field: 'align' },
          baseline: { value: 'alphabetic' },
          text: { field: 'name' },
          font: { value: CHART_FONT },
          fontSize: { value: fontSize },
          fill: { value: COLORS.ink },
        },
      },
    },
  ];
}

export function noDataMark(text = 'no data yet'): Mark {
  return {
    type: 'text',
    name: 'noData',
    encode: {
      enter: {
        x: { signal: 'width / 2' },
        y: { signal: 'height / 2' },
        align: { value: 'center' },
        baseline: { value: 'middle' },
        text: { value: text },
        font: { value: CHART_FONT },
        fontSize: { value: 16 },
        fill: { value: COLORS.muted },
      },
    },
  };
}

/** Partner charts drawn from the stored history and day summaries (`PartnerChartData`), by file-name stem. */
export const PARTNER_HISTORY_CHARTS = [
  'per-sensor',
  'scans',
  'icmp',
  'watched-ports',
  'sources',
  'new-unknown-sources',
  'top-ports-day',
  'top-ports-30d',
] as const;
export type PartnerHistoryChartName = (typeof PARTNER_HISTORY_CHARTS)[number];

/** Partner charts drawn from the analysts' statistics of the window (`PartnerStatistics`, statistics-specs.ts). */
export const PARTNER_STATISTICS_CHARTS = [
  'port-sources',
  'icmp-sources',
  'activity-ports',
  'watched-sensors',
  'matrix',
  'matrix-scans',
  'port-classes',
  'signatures',
  'categories',
] as const;
export type PartnerStatisticsChartName = (typeof PARTNER_STATISTICS_CHARTS)[number];

/** File-name stems of all partner charts, in the order the partner page shows them. */
export const PARTNER_CHARTS = [...PARTNER_HISTORY_CHARTS, ...PARTNER_STATISTICS_CHARTS] as const;
export type PartnerChartName = (typeof PARTNER_CHARTS)[number];

/** Series names of the history charts (also the `series` values of their JSON). */
export const SERIES = {
  icmp: 'ICMP alerts',
  notIcmp: 'TCP, UDP and other alerts',
  allAlerts: 'all alerts',
  scanAlerts: 'scan alerts',
  distinctSources: 'distinct sources',
  newSources: 'new sources',
  newUnknownSources: 'new, unknown traffic',
} as const;

export const ICMP_TITLE = 'Alerts by protocol: ICMP and the rest';
const WINDOW_LABEL = '30 closed days';
export const SCANS_TITLE = 'Scan alerts per day';
export const NEW_UNKNOWN_TITLE = 'New sources of unknown traffic per day';

/** The x extent of the whole-history charts: the first deployment (or first data) to the last full day. */
function historyDays(data: PartnerChartData): { from: string; to: string } {
  const to = addDays(data.today, -1);
  let from = to;
  for (const s of data.sensors) if (s.deployedAt < from) from = s.deployedAt;
  for (const list of [data.perSensor, data.watchedPorts, data.sources, data.icmp]) for (const p of list) if (p.date < from) from = p.date;
  for (const d of data.scans) if (d.date < from) from = d.date;
  return { from, to };
}

/** The history charts of one render, keyed by file-name stem (the window statistics: `statisticsSpecs`). */
export function partnerSpecs(data: PartnerChartData, size: ChartSize = DEFAULT_SIZE): Record<PartnerHistoryChartName, Spec> {
  const generated = `generated ${formatInstantUtc(data.generatedAt)}`;
  const sensors = data.sensors.filter((s) => s.deployedAt <= data.today);
  const history = { partialDay: data.today, size, sensors, days: historyDays(data), generatedAt: data.generatedAt } as const;
  const { topPortsDay: day, topPortsWindow: win } = data;
  const portSeries = (points: readonly SeriesPoint[]) => points.map((p) => ({ ...p, series: portLabel(p.series) }));
  const scanPoints = data.scans.flatMap((d) => [
    { date: d.date, series: SERIES.allAlerts, value: d.alerts },
    { date: d.date, series: SERIES.scanAlerts, value: d.scanAlerts },
  ]);
  return {
    'per-sensor': seriesSpec(data.perSensor, 'Alerts per sensor', {
      ...history,
      stacked: true,
      subtitle: 'stacked by sensor',
      othersLabel: (n) => `${n} other sensor${n === 1 ? '' : 's'}`,
    }),
    scans: seriesSpec(scanPoints, SCANS_TITLE, {
      ...history,
      subtitle: 'closed days only: the full figure is known once a day is closed',
      colors: { [SERIES.allAlerts]: COLORS.context, [SERIES.scanAlerts]: COLORS.scanLine },
      emptyText: 'no closed day yet',
    }),
    icmp: seriesSpec(data.icmp, ICMP_TITLE, {
      ...history,
      subtitle: 'alerts per day by protocol',
      colors: { [SERIES.icmp]: COLORS.icmpSources, [SERIES.notIcmp]: COLORS.otherSources },
    }),
    'watched-ports': seriesSpec(portSeries(data.watchedPorts), 'Watched ports per day', {
      ...history,
      subtitle: 'alerts per day on each watched destination port',
    }),
    sources: seriesSpec(data.sources, 'Source addresses per day', {
      ...history,
      yTitle: 'addresses per day',
      subtitle: 'distinct, and never seen before by any sensor (closed days)',
      emptyText: 'no closed day yet',
    }),
    'new-unknown-sources': seriesSpec(
      data.newUnknownSources.map((d) => ({ date: d.date, series: SERIES.newUnknownSources, value: d.newUnknownSources })),
      NEW_UNKNOWN_TITLE,
      {
        ...history,
        yTitle: 'sources per day',
        subtitle: 'sources first seen that day with at least one alert that is not a scan alert (closed days)',
        colors: { [SERIES.newUnknownSources]: SERIES_PALETTE[4] },
        emptyText: 'no closed day yet',
      },
    ),
    'top-ports-day': topPortsSpec(day.rows, `Top destination ports on ${day.date}`, {
      size,
      label: portLabel,
      subtitle: `alerts per destination port and protocol, last closed UTC day  ·  ${generated}`,
    }),
    'top-ports-30d': topPortsSpec(win.rows, `Top destination ports, ${win.from} to ${win.to}`, {
      size,
      label: portLabel,
      subtitle: `alerts per destination port and protocol over the last ${WINDOW_LABEL}  ·  ${generated}`,
    }),
  };
}
