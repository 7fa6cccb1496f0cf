import type { Axis, Config, TickCount } from 'vega';
import { DAY_MS, monthStartMs, nextMonthStartMs, weekStartMs } from './dates.js';
import { CHART_FONT } from './fonts.js';

export interface ChartSize {
  width: number;
  height: number;
}

export const DEFAULT_SIZE: ChartSize = { width: 1200, height: 500 };

export const COLORS = {
  ink: '#222222',
  muted: '#5f6368',
  grid: '#e6e6e6',
  axis: '#8a8a8a',
  alertsFill: '#7fa7d1',
  alertsLine: '#2f5f93',
  alertsBar: '#4a7fb5',
  partialFill: '#f6b26b',
  partialStroke: '#b85c00',
  noData: '#d9d9d9',
  noDataEdge: '#8c8c8c',
  deployment: '#3c3c3c',
  others: '#b0b0b0',
  /** Scan alerts: a hue of their own, away from the blues of all alerts and the orange of "today so far". */
  scanFill: '#a77fc9',
  scanLine: '#6b4896',
  /** The two source classes of DESIGN §14 (ICMP sources and the others), the same in every chart. */
  icmpSources: '#e15759',
  otherSources: '#4e79a7',
  /** A context series drawn behind the one a chart is about ("all alerts" behind "scan alerts"). */
  context: '#9aa5b1',
} as const;

/** Tableau 10 without its grey, which is kept for "others" so that bucket never looks like a real series. */
export const SERIES_PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
] as const;

export const FONT_SIZE = { title: 18, subtitle: 12, label: 11, axisTitle: 12, legend: 12, deployment: 11 } as const;

/** Every text role names the bundled family, so nothing is left to a renderer's default font. */
export function chartConfig(): Config {
  return {
    background: '#ffffff',
    title: {
      font: CHART_FONT,
      subtitleFont: CHART_FONT,
      fontSize: FONT_SIZE.title,
      subtitleFontSize: FONT_SIZE.subtitle,
      fontWeight: 'bold',
      color: COLORS.ink,
      subtitleColor: COLORS.muted,
      anchor: 'start',
      subtitlePadding: 5,
    },
    axis: {
      labelFont: CHART_FONT,
      titleFont: CHART_FONT,
      labelFontSize: FONT_SIZE.label,
      titleFontSize: FONT_SIZE.axisTitle,
      titleFontWeight: 'normal',
      labelColor: COLORS.ink,
      titleColor: COLORS.muted,
      domainColor: COLORS.axis,
      tickColor: COLORS.axis,
      gridColor: COLORS.grid,
    },
    legend: {
      labelFont: CHART_FONT,
      titleFont: CHART_FONT,
      labelFontSize: FONT_SIZE.legend,
      titleFontSize: FONT_SIZE.legend,
      labelColor: COLORS.ink,
      titleColor: COLORS.muted,
    },
    text: { font: CHART_FONT, fill: COLORS.ink },
  };
}

/**
 * Ticks for a UTC time axis spanning `days` days over `plotWidth` pixels: years over long histories, months,
 * then weeks, so that labels never crowd (about 70 px each at most) and always read as calendar dates.
 */
export function timeAxisTicks(days: number, plotWidth: number): { tickCount: TickCount; format: string } {
  const maxTicks = Math.max(2, Math.floor(plotWidth / 70));
  const years = days / 365.25;
  if (years >= 2.5) return { tickCount: { interval: 'year', step: Math.max(1, Math.ceil(years / maxTicks)) }, format: '%Y' };
  const months = days / 30.44;
  if (months >= 5) return { tickCount: { interval: 'month', step: pickStep(months, maxTicks, [1, 2, 3, 6]) }, format: '%b %Y' };
  const weeks = days / 7;
  if (weeks >= 5) return { tickCount: { interval: 'week', step: pickStep(weeks, maxTicks, [1, 2]) }, format: '%-d %b' };
  return { tickCount: { interval: 'day', step: pickStep(days, maxTicks, [1, 2, 3, 7]) }, format: '%-d %b' };
}

function pickStep(count: number, maxTicks: number, steps: number[]): number {
  return steps.find((s) => count / s <= maxTicks) ?? steps[steps.length - 1] ?? 1;
}

/** A time axis whose tick labels are `%`-formatted in UTC, independent of the process time zone. */
export function timeAxis(days: number, plotWidth: number, extra: Partial<Axis> = {}): Axis {
  const { tickCount, format } = timeAxisTicks(days, plotWidth);
  return {
    orient: 'bottom',
    scale: 'x',
    tickCount,
    format,
    formatType: 'utc',
    labelOverlap: true,
    labelPadding: 4,
    zindex: 1,
    ...extra,
  };
}

/**
 * Tick values for a chart of day-wide bars: the middle of the labelled days, so each label sits under its
 * bar; steps of days (weeks from Monday) up to about four months, then the first of every month or few.
 * Explicit values rather than shifted interval ticks, which would push a label past the plot's right end.
 */
export function dayBarTicks(domainStart: number, domainEnd: number, plotWidth: number): { values: number[]; format: string } {
  const maxTicks = Math.max(2, Math.floor(plotWidth / 70));
  const days = Math.round((domainEnd - domainStart) / DAY_MS);
  const values: number[] = [];
  if (days <= 120) {
    const step = [1, 2, 3, 7, 14].find((s) => days / s <= maxTicks) ?? 14;
    let t = step >= 7 ? weekStartMs(domainStart) : domainStart;
    if (t < domainStart) t += 7 * DAY_MS;
    for (; t < domainEnd; t += step * DAY_MS) values.push(t + DAY_MS / 2);
    return { values, format: '%-d %b' };
  }
  const step = [1, 2, 3, 6].find((s) => days / 30.44 / s <= maxTicks) ?? 6;
  let t = monthStartMs(domainStart);
  if (t < domainStart) t = nextMonthStartMs(t);
  for (let i = 0; t < domainEnd; t = nextMonthStartMs(t), i++) if (i % step === 0) values.push(t + DAY_MS / 2);
  return { values, format: '%b %Y' };
}

/** Number format for a count axis: thousands separators; decimals only where the values are small means. */
export function countFormat(max: number): string {
  return max >= 10 ? ',d' : ',.2~f';
}

export const HALF_DAY_MS = DAY_MS / 2;
