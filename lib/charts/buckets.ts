/**
 * Turns long-format daily series into what a chart can draw legibly: one value per day while a day is at
 * least `minPxPerBucket` wide, otherwise one per ISO week or calendar month.
 *
 * Bucket values are means per day, so the y axis keeps its unit ("alerts per day") whatever the bucket. Two
 * kinds of mean, because the two chart kinds treat a missing day differently:
 * - stacked parts of a whole (alerts per sensor): a series missing on a day when another series has a value
 *   counts as 0 there (the sensor sent nothing, or did not exist yet), so the mean is the bucket's sum over
 *   the days on which any series has a value, and every series gets a value in every bucket (stacking needs
 *   that); a bucket in which no series has any day is a gap (null) in every series;
 * - lines (distinct sources, watched ports…): a missing day is unknown, so the mean is over the days present,
 *   and a bucket without any is a gap in the line (value null).
 */

import { DAY_MS, dayStartMs, monthStartMs, nextMonthStartMs, weekStartMs } from './dates.js';
import type { SeriesPoint } from './model.js';

export type BucketUnit = 'day' | 'week' | 'month';

export interface BucketedPoint {
  series: string;
  /** bucket start, ms UTC */
  t0: number;
  /** bucket end (exclusive), ms UTC */
  t1: number;
  /** per-day mean, or null for a gap in a line */
  value: number | null;
  /** position of the series in draw order (stack order, legend order) */
  order: number;
}

export interface BucketedSeries {
  unit: BucketUnit;
  series: string[];
  points: BucketedPoint[];
  /** first and last day present, ms UTC (last is the start of that day) */
  firstDay: number;
  lastDay: number;
  /** largest drawn value: the top of the stack for stacked series */
  max: number;
  /** name of the series that sums the smallest ones, when there is one (always last) */
  others?: string;
}

export interface BucketOptions {
  stacked: boolean;
  plotWidth: number;
  /** narrowest bucket, in pixels, before the next coarser unit is used */
  minPxPerBucket?: number;
  /** stacked only: at most this many series drawn; the smallest are summed into one "others" series */
  maxSeries?: number;
  othersLabel?: (count: number) => string;
  /** draw order; default: stacked by total, largest first (bottom of the stack); lines in order of appearance */
  seriesOrder?: readonly string[];
}

export function chooseBucketUnit(days: number, plotWidth: number, minPxPerBucket = 1.5): BucketUnit {
  if (plotWidth / days >= minPxPerBucket) return 'day';
  if (plotWidth / (days / 7) >= minPxPerBucket) return 'week';
  return 'month';
}

function bucketStart(unit: BucketUnit, ms: number): number {
  if (unit === 'day') return ms;
  return unit === 'week' ? weekStartMs(ms) : monthStartMs(ms);
}

function bucketEnd(unit: BucketUnit, start: number): number {
  if (unit === 'day') return start + DAY_MS;
  return unit === 'week' ? start + 7 * DAY_MS : nextMonthStartMs(start);
}

export function bucketSeries(points: readonly SeriesPoint[], options: BucketOptions): BucketedSeries {
  // Sum duplicates of a (series, day) pair: the builder is given long-format rows and should not depend on
  // the producer never repeating one.
  const daily = new Map<string, Map<number, number>>();
  let firstDay = Infinity;
  let lastDay = -Infinity;
  // Many series share each date: parse each date once (182,500 points over 10 years are only 3,650 dates).
  const parsed = new Map<string, number>();
  for (const p of points) {
    let day = parsed.get(p.date);
    if (day === undefined) parsed.set(p.date, (day = dayStartMs(p.date)));
    if (!Number.isFinite(p.value)) continue;
    let bySeries = daily.get(p.series);
    if (!bySeries) daily.set(p.series, (bySeries = new Map()));
    bySeries.set(day, (bySeries.get(day) ?? 0) + p.value);
    firstDay = Math.min(firstDay, day);
    lastDay = Math.max(lastDay, day);
  }
  if (daily.size === 0) return { unit: 'day', series: [], points: [], firstDay: NaN, lastDay: NaN, max: 0 };

  const totals = new Map<string, number>();
  for (const [series, days] of daily) {
    let sum = 0;
    for (const v of days.values()) sum += v;
    totals.set(series, sum);
  }
  let series = orderSeries([...daily.keys()], totals, options);
  let othersName: string | undefined;

  if (options.stacked && options.maxSeries !== undefined && series.length > options.maxSeries) {
    const keep = series.slice(0, Math.max(1, options.maxSeries - 1));
    const rest = series.slice(keep.length);
    const others = (options.othersLabel ?? ((n: number) => `${n} others`))(rest.length);
    const merged = new Map<number, number>();
    for (const name of rest) {
      for (const [day, v] of daily.get(name) ?? []) merged.set(day, (merged.get(day) ?? 0) + v);
      daily.delete(name);
    }
    daily.set(others, merged);
    series = [...keep, others];
    othersName = others;
  }

  const dayCount = Math.round((lastDay - firstDay) / DAY_MS) + 1;
  const unit = chooseBucketUnit(dayCount, options.plotWidth, options.minPxPerBucket);
  const starts: number[] = [];
  for (let t = bucketStart(unit, firstDay); t <= lastDay; t = bucketEnd(unit, t)) starts.push(t);

  // Days on which any series has a value: the stacked mean's denominator.
  const anyDay = new Set<number>();
  for (const days of daily.values()) for (const d of days.keys()) anyDay.add(d);

  const out: BucketedPoint[] = [];
  const stackTop = new Map<number, number>();
  let max = 0;
  series.forEach((name, order) => {
    const days = daily.get(name) ?? new Map<number, number>();
    for (const t0 of starts) {
      const t1 = bucketEnd(unit, t0);
      // Only the part of a bucket inside the data's range counts as days (the first and last week are partial).
      const from = Math.max(t0, firstDay);
      const to = Math.min(t1, lastDay + DAY_MS);
      let sum = 0;
      let present = 0;
      let known = 0;
      for (let d = from; d < to; d += DAY_MS) {
        const v = days.get(d);
        if (v !== undefined) {
          sum += v;
          present++;
        }
        if (anyDay.has(d)) known++;
      }
      const denominator = options.stacked ? known : present;
      const value = denominator > 0 ? sum / denominator : null;
      out.push({ series: name, t0, t1, value, order });
      if (value !== null) {
        if (options.stacked) {
          const top = (stackTop.get(t0) ?? 0) + value;
          stackTop.set(t0, top);
          max = Math.max(max, top);
        } else {
          max = Math.max(max, value);
        }
      }
    }
  });
  return { unit, series, points: out, firstDay, lastDay, max, ...(othersName ? { others: othersName } : {}) };
}

function orderSeries(names: string[], totals: Map<string, number>, options: BucketOptions): string[] {
  if (options.seriesOrder) {
    const given = options.seriesOrder.filter((s) => totals.has(s));
    return [...given, ...names.filter((s) => !given.includes(s))];
  }
  if (!options.stacked) return names; // order of first appearance
  return [...names].sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || a.localeCompare(b));
}
