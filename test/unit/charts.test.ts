import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import sharp from 'sharp';
import type { Spec } from 'vega';
import { describe, expect, it } from 'vitest';
import { bucketSeries } from '../../lib/charts/buckets.js';
import { DAY_MS, addDays, dayStartMs } from '../../lib/charts/dates.js';
import { LABEL_OFFSET, layoutLabelLanes, type LabelRequest } from '../../lib/charts/deployment-labels.js';
import { CHART_FONT, FONT_FAMILY, defaultFontDir } from '../../lib/charts/fonts.js';
import type { PublicChartData, SeriesPoint } from '../../lib/charts/model.js';
import { KeptViews, renderChart, renderSvg, shapeOf } from '../../lib/charts/render.js';
import { METRICS_SOURCE_SHA256, textWidth } from '../../lib/charts/text-width.js';
import {
  LEGEND_NO_DATA,
  PARTNER_HISTORY_CHARTS,
  PUBLIC_TITLE,
  partnerSpecs,
  type PartnerHistoryChartName,
  publicDailySpec,
  seriesSpec,
  topPortsSpec,
} from '../../lib/charts/specs.js';
import { syntheticPartnerData, syntheticPublicData } from '../fixtures/charts/synthetic.js';

// ---- reading specs -------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
const asJson = (spec: Spec): Json => JSON.parse(JSON.stringify(spec)) as Json;
const list = (spec: Json, key: string): Json[] => (spec[key] as Json[] | undefined) ?? [];
const named = (spec: Json, key: string, name: string): Json => {
  const found = list(spec, key).find((x) => x.name === name);
  if (!found) throw new Error(`no ${key} named ${name}`);
  return found;
};
const values = <T = Json>(spec: Json, data: string): T[] => (named(spec, 'data', data).values as T[]) ?? [];
/** A mark's encoding (the daily graph sets its marks on every update, so that one view draws many days). */
const enter = (mark: Json): Json => {
  const encode = mark.encode as Json;
  return (encode.update as Json) ?? (encode.enter as Json) ?? {};
};
/** The value a spec gives a signal (the daily graph keeps what varies from day to day in signals). */
const signal = <T = unknown>(spec: Json, name: string): T => named(spec, 'signals', name).value as T;
const marksFrom = (spec: Json, data: string): Json[] =>
  list(spec, 'marks').filter((m) => (m.from as Json | undefined)?.data === data);

/** A small world with each special case: a lone no-data day, a two-day outage, a zero day, a partial today. */
function smallPublic(): PublicChartData {
  const today = '2026-11-22';
  const first = '2026-10-01';
  const days = Array.from({ length: 53 }, (_, i) => {
    const date = addDays(first, i);
    return { date, total: 1000 + i * 37, reported: true };
  });
  const at = (date: string) => days.find((d) => d.date === date)!;
  at('2026-10-10').reported = false;
  at('2026-10-10').total = 0;
  at('2026-11-01').reported = false;
  at('2026-11-02').reported = false;
  at('2026-10-20').total = 0; // reported, zero alerts
  at(today).total = 420;
  return {
    generatedAt: '2026-11-22T14:05:00Z',
    today,
    days,
    sensors: [
      { id: 'vie-1', name: 'Vienna 1', deployedAt: first },
      { id: 'lis-1', name: 'Lisbon 1', deployedAt: '2026-10-15' },
      { id: 'lis-2', name: 'Lisbon 2', deployedAt: '2026-10-15' },
      { id: 'osl-1', name: 'Oslo 1', deployedAt: '2026-10-16' },
    ],
  };
}

const bigPublic = () => syntheticPublicData({ today: '2026-11-22', days: 3650, sensors: 50 });

// ---- public chart --------------------------------------------------------------------------------------

describe('publicDailySpec', () => {
  it('marks every sensor with a rule and a label carrying its name at its deployment day', () => {
    const data = smallPublic();
    const spec = asJson(publicDailySpec(data));
    const deployments = values<{ ids: string[]; name: string; deployedAt: string; t: number }>(spec, 'deployments');
    expect(deployments.flatMap((d) => d.ids).sort()).toEqual(data.sensors.map((s) => s.id).sort());
    for (const s of data.sensors) {
      const d = deployments.find((x) => x.ids.includes(s.id))!;
      expect(d.name).toContain(s.name);
      expect(d.t).toBe(dayStartMs(s.deployedAt));
    }
    // Lisbon 1 and 2 were deployed on the same day: one marker names both (DESIGN §8).
    expect(deployments).toHaveLength(3);
    expect(deployments.find((d) => d.deployedAt === '2026-10-15')).toMatchObject({ ids: ['lis-1', 'lis-2'], name: 'Lisbon 1, Lisbon 2' });
    const rules = marksFrom(spec, 'deployments').filter((m) => m.type === 'rule');
    const labels = marksFrom(spec, 'deployments').filter((m) => m.type === 'text');
    expect(rules).toHaveLength(1);
    expect(labels).toHaveLength(1);
    expect(enter(rules[0]!).x).toEqual({ scale: 'x', field: 't' });
    expect(enter(labels[0]!).x).toEqual({ scale: 'x', field: 't' });
    expect(enter(labels[0]!).text).toEqual({ field: 'name' });
  });

  it('runs the x domain from the first deployment to the end of today, in UTC', () => {
    const data = smallPublic();
    const spec = asJson(publicDailySpec(data));
    const x = named(spec, 'scales', 'x');
    expect(x.type).toBe('utc');
    expect(x.domain).toEqual({ signal: 'xDomain' });
    expect(signal(spec, 'xDomain')).toEqual([dayStartMs('2026-10-01'), dayStartMs('2026-11-22') + DAY_MS]);
  });

  it('draws today apart from the closed days, with its own legend entry', () => {
    for (const data of [smallPublic(), bigPublic()]) {
      const spec = asJson(publicDailySpec(data));
      const today = values<{ date: string; state: string; total: number }>(spec, 'today');
      expect(today).toEqual([expect.objectContaining({ date: data.today, state: 'partial' })]);
      expect(values<{ date: string }>(spec, 'days').some((d) => d.date === data.today)).toBe(false);
      const closedFill = (enter(named(spec, 'marks', 'alerts')).fill as Json).value;
      const todayFill = (enter(named(spec, 'marks', 'todayPartial')).fill as Json).value;
      expect(todayFill).toBeDefined();
      expect(todayFill).not.toBe(closedFill);
      const legend = signal<string[]>(spec, 'legendEntries');
      expect(legend.find((e) => e.startsWith('today so far'))).toMatch(/14:05 UTC\): [\d,]+$/);
    }
  });

  it('keeps days without reports out of the data drawn as alerts, unlike a day with zero alerts', () => {
    const spec = asJson(publicDailySpec(smallPublic())); // 53 days: bars
    const gaps = values<{ from: string; to: string; days: number }>(spec, 'gaps');
    expect(gaps.map(({ from, to, days }) => ({ from, to, days }))).toEqual([
      { from: '2026-10-10', to: '2026-10-10', days: 1 },
      { from: '2026-11-01', to: '2026-11-02', days: 2 },
    ]);
    const zero = values<{ date: string; reported: boolean; total: number }>(spec, 'days').find((d) => d.date === '2026-10-20');
    expect(zero).toMatchObject({ reported: true, total: 0 });
    // Bars (one path, a box per day: days from the first across, alerts up) come from reported days with
    // alerts only; a zero day gets its own sliver on the axis.
    expect(enter(named(spec, 'marks', 'alerts')).path).toEqual({ signal: 'alertBars' });
    const bars = [...signal<string>(spec, 'alertBars').matchAll(/M([\d.]+),0h[\d.]+v(\d+)h-[\d.]+Z/g)].map((m) => ({
      day: addDays('2026-10-01', Math.floor(Number(m[1]))),
      alerts: Number(m[2]),
    }));
    const closed = smallPublic().days.filter((d) => d.date < '2026-11-22');
    expect(bars).toEqual(closed.filter((d) => d.reported && d.total > 0).map((d) => ({ day: d.date, alerts: d.total })));
    expect(bars.map((b) => b.day)).not.toContain('2026-10-10');
    expect(bars.map((b) => b.day)).not.toContain('2026-10-20');
    expect(named(spec, 'marks', 'zeroAlerts').from).toEqual({ data: 'zeroDays' });
    expect(signal(spec, 'legendEntries')).toContain(LEGEND_NO_DATA);
    expect(marksFrom(spec, 'gaps').length).toBeGreaterThan(0);
  });

  it('breaks the area at days without reports over long histories', () => {
    const spec = asJson(publicDailySpec(bigPublic()));
    const area = named(spec, 'marks', 'alerts');
    expect(area.type).toBe('area');
    expect(enter(area).defined).toEqual({ field: 'reported' });
    expect(values(spec, 'gaps').length).toBeGreaterThan(0);
  });

  it('formats the count axis with thousands separators', () => {
    const spec = asJson(publicDailySpec(bigPublic()));
    const y = list(spec, 'axes').find((a) => a.scale === 'y')!;
    expect(y.format).toBe(',d');
  });

  it('gives every text role the bundled font', () => {
    const spec = asJson(publicDailySpec(smallPublic()));
    const config = spec.config as Record<string, Json>;
    expect(config.title).toMatchObject({ font: CHART_FONT, subtitleFont: CHART_FONT });
    expect(config.axis).toMatchObject({ labelFont: CHART_FONT, titleFont: CHART_FONT });
    expect(config.legend).toMatchObject({ labelFont: CHART_FONT, titleFont: CHART_FONT });
    expect(config.text).toMatchObject({ font: CHART_FONT });
    expect(CHART_FONT.startsWith(FONT_FAMILY)).toBe(true);
  });

  it('titles the chart with the generation time', () => {
    const title = asJson(publicDailySpec(smallPublic())).title as Json;
    expect(title.text).toBe(PUBLIC_TITLE);
    expect(title.subtitle).toEqual({ signal: 'subtitle' });
    expect(signal(asJson(publicDailySpec(smallPublic())), 'subtitle')).toContain('generated 2026-11-22 14:05 UTC');
  });

  it('is a pure function of its input', () => {
    const data = bigPublic();
    const a = JSON.stringify(publicDailySpec(data));
    expect(JSON.stringify(publicDailySpec(structuredClone(data)))).toBe(a);
  });

  it('marks all 50 sensors of a 10-year network without overlapping names or lines through names', () => {
    const data = bigPublic();
    const spec = asJson(publicDailySpec(data));
    const deployments = values<{ ids: string[]; name: string; lane: number; t: number; dx: number; align: string }>(spec, 'deployments');
    // One marker per deployment day, each sensor on exactly one.
    expect(deployments).toHaveLength(new Set(data.sensors.map((s) => s.deployedAt)).size);
    expect(deployments.flatMap((d) => d.ids).sort()).toEqual(data.sensors.map((s) => s.id).sort());
    for (const d of deployments) if (d.ids.length === 1) expect(d.name).toBe(data.sensors.find((s) => s.id === d.ids[0])!.name);
    const x = named(spec, 'scales', 'x');
    const [d0, d1] = signal<[number, number]>(spec, 'xDomain');
    const [, r1] = x.range as [number, number];
    expect(enter(named(spec, 'marks', 'deploymentLabels')).fontSize).toEqual({ signal: 'labelFontSize' });
    const fontSize = signal<number>(spec, 'labelFontSize');
    const boxes = deployments.map((d) => {
      const px = ((d.t - d0) / (d1 - d0)) * r1;
      const width = textWidth(d.name, fontSize);
      const start = d.align === 'left' ? px + d.dx : px + d.dx - width;
      return { lane: d.lane, px, start, end: start + width };
    });
    for (const a of boxes) {
      for (const b of boxes) {
        if (a === b) continue;
        if (a.lane === b.lane) expect(a.end <= b.start || b.end <= a.start).toBe(true);
        if (a.lane < b.lane) expect(b.px <= a.start || b.px >= a.end).toBe(true);
      }
    }
  });

  it('treats a day missing from the input as a day without reports', () => {
    const data = smallPublic();
    data.days = data.days.filter((d) => d.date !== '2026-11-10');
    const gaps = values<{ from: string; to: string }>(asJson(publicDailySpec(data)), 'gaps');
    expect(gaps.map((g) => g.from)).toContain('2026-11-10');
  });
});

// ---- label lanes ---------------------------------------------------------------------------------------

describe('layoutLabelLanes', () => {
  // Integers: fast-check biases doubles towards extremes, which would pile every marker at 0 or 1000.
  const request = fc.record({ x: fc.integer({ min: 0, max: 1000 }), width: fc.integer({ min: 10, max: 120 }) });

  it('never overlaps two names in a lane nor runs a marker line through a name', () => {
    fc.assert(
      fc.property(fc.array(request, { maxLength: 30 }), fc.integer({ min: 1, max: 12 }), (reqs, maxLanes) => {
        const { labels, crowded } = layoutLabelLanes(reqs, { left: 0, right: 1030 }, maxLanes);
        const boxes = reqs.map((r: LabelRequest, i) => {
          const l = labels[i]!;
          const start = l.align === 'left' ? r.x + LABEL_OFFSET : r.x - LABEL_OFFSET - r.width;
          return { ...l, x: r.x, start, end: start + r.width };
        });
        for (const b of boxes) {
          expect(b.lane).toBeGreaterThanOrEqual(0);
          expect(b.lane).toBeLessThan(maxLanes);
        }
        if (crowded > 0) return; // only then may names overlap
        for (const [i, a] of boxes.entries()) {
          for (const [j, b] of boxes.entries()) {
            if (i === j) continue;
            if (a.lane === b.lane) expect(a.end <= b.start || b.end <= a.start).toBe(true);
            // b's line runs from b's lane down through every lower lane
            if (a.lane < b.lane) expect(b.x <= a.start || b.x >= a.end).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('uses one lane for names that do not collide', () => {
    const { lanes, labels } = layoutLabelLanes(
      [
        { x: 0, width: 50 },
        { x: 200, width: 50 },
        { x: 400, width: 50 },
      ],
      { left: 0, right: 1000 },
      5,
    );
    expect(lanes).toBe(1);
    expect(labels.every((l) => l.align === 'left')).toBe(true);
  });
});

// ---- partner charts ------------------------------------------------------------------------------------

describe('partner specs', () => {
  const data = syntheticPartnerData({ today: '2026-11-22', days: 3650, sensors: 50 });
  const specs = partnerSpecs(data);
  const colorDomain = (name: PartnerHistoryChartName) => named(asJson(specs[name]), 'scales', 'color').domain as string[];

  it('builds every history chart', () => {
    expect(Object.keys(specs).sort()).toEqual([...PARTNER_HISTORY_CHARTS].sort());
  });

  it('has the expected series, ports with their service names', () => {
    expect(colorDomain('watched-ports')).toEqual(['tcp/135 epmap', 'udp/137 netbios-ns', 'tcp/445 microsoft-ds']);
    expect(colorDomain('sources')).toEqual(['distinct sources', 'new sources']);
    expect(colorDomain('icmp')).toEqual(['ICMP alerts', 'TCP, UDP and other alerts']);
    expect(colorDomain('scans')).toEqual(['all alerts', 'scan alerts']);
    expect(colorDomain('new-unknown-sources')).toEqual(['new, unknown traffic']);
    // 50 sensors: the 9 largest and one area for the other 41
    const perSensor = colorDomain('per-sensor');
    expect(perSensor).toHaveLength(10);
    expect(perSensor[9]).toBe('41 other sensors');
  });

  it('stacks the per-sensor chart and draws the others as lines', () => {
    const stacked = asJson(specs['per-sensor']);
    expect(named(stacked, 'data', 'points').transform).toEqual([
      expect.objectContaining({ type: 'stack', field: 'value' }),
    ]);
    const inner = (list(stacked, 'marks')[0]!.marks as Json[])[0]!;
    expect(inner.type).toBe('area');
    const lines = asJson(specs['watched-ports']);
    expect(((list(lines, 'marks')[0]!.marks as Json[])[0]!).type).toBe('line');
  });

  it('averages ten years into weeks and says so on the axis', () => {
    const spec = asJson(specs['per-sensor']);
    const y = list(spec, 'axes').find((a) => a.scale === 'y')!;
    expect(y.title).toBe('alerts per day (weekly mean)');
    expect(y.format).toBe(',d');
    const points = values<{ t0: number; t1: number }>(spec, 'points');
    expect(points.every((p) => p.t1 - p.t0 === 7 * DAY_MS)).toBe(true);
    expect(points.length).toBeLessThanOrEqual(10 * 523);
  });

  it('leaves the partial day out of the daily series', () => {
    const small = syntheticPartnerData({ today: '2026-11-22', days: 60, sensors: 3 });
    const spec = asJson(partnerSpecs(small).scans);
    const points = values<{ t0: number }>(spec, 'points');
    expect(points.length).toBeGreaterThan(0);
    expect(points.every((p) => p.t0 < dayStartMs('2026-11-22'))).toBe(true);
  });

  it('sorts the top ports by count, with thousands separators', () => {
    const spec = asJson(
      topPortsSpec(
        [
          { key: 'udp/137', count: 1200 },
          { key: 'tcp/445', count: 98000 },
          { key: 'tcp/135', count: 5000 },
        ],
        'Top ports',
      ),
    );
    expect(named(spec, 'scales', 'y').domain).toEqual(['tcp/445', 'tcp/135', 'udp/137']);
    expect(list(spec, 'axes').find((a) => a.scale === 'x')!.format).toBe(',d');
  });

  it('says "no data yet" rather than failing on empty input', async () => {
    const svg = await renderSvg(seriesSpec([], 'Nothing'));
    expect(svg).toContain('no data yet');
  });
});

describe('bucketSeries', () => {
  const week = (series: string, values: (number | undefined)[]): SeriesPoint[] =>
    values.flatMap((value, i) => (value === undefined ? [] : [{ date: addDays('2026-11-02', i), series, value }]));

  it('takes missing days as zero when stacking and as unknown for lines', () => {
    // 2026-11-02 is a Monday: 14 days are two ISO weeks. Force weekly buckets with a narrow plot.
    const points = [...week('a', [7, 7, 7, 7, 7, 7, 7, 14]), ...week('b', [undefined, 7])];
    const stacked = bucketSeries(points, { stacked: true, plotWidth: 10 });
    expect(stacked.unit).toBe('week');
    const firstWeek = (name: string, b: typeof stacked) => b.points.find((p) => p.series === name && p.t0 === dayStartMs('2026-11-02'))!;
    expect(firstWeek('a', stacked).value).toBe(7);
    expect(firstWeek('b', stacked).value).toBe(1); // 7 alerts over 7 days
    const lines = bucketSeries(points, { stacked: false, plotWidth: 10 });
    expect(firstWeek('b', lines).value).toBe(7); // the mean of the one day known
    // week 2 holds only 2026-11-09 (the data ends there): a is 14, b has no value at all
    const second = (name: string, b: typeof stacked) => b.points.find((p) => p.series === name && p.t0 === dayStartMs('2026-11-09'))!;
    expect(second('a', lines).value).toBe(14);
    expect(second('b', lines).value).toBeNull();
    expect(second('b', stacked).value).toBe(0);
  });
});

// ---- rendering -----------------------------------------------------------------------------------------

describe('renderSvg', () => {
  it('names every sensor in text elements, in the bundled font', async () => {
    const data = smallPublic();
    data.sensors.push({ id: 'rd', name: 'R&D <lab>', deployedAt: '2026-11-05' }, { id: 'zh', name: 'Zürich 1', deployedAt: '2026-11-06' });
    const svg = await renderSvg(publicDailySpec(data));
    const texts = [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) =>
      (m[1] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'),
    );
    for (const s of data.sensors) expect(texts.some((t) => t.includes(s.name)), s.name).toBe(true);
    expect(texts).toContain(PUBLIC_TITLE);
    const families = new Set([...svg.matchAll(/font-family="([^"]*)"/g)].map((m) => m[1]));
    expect([...families]).toEqual([CHART_FONT]);
  });

  it('renders a 1200×500 PNG', async () => {
    const { png } = await renderChart(publicDailySpec(smallPublic()));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1200);
    expect(png.readUInt32BE(20)).toBe(500);
  });

  it('writes the PNG as opaque RGB, its background white', async () => {
    const { png } = await renderChart(publicDailySpec(smallPublic()));
    // IHDR: bit depth 8, colour type 2 (truecolour, no alpha).
    expect([png[24], png[25]]).toEqual([8, 2]);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    expect([...data.subarray(0, 3)]).toEqual([255, 255, 255]);
  });
});

// ---- fonts ---------------------------------------------------------------------------------------------

interface ProbeInk {
  dark: number;
  hash: string;
}
interface ProbeResult {
  inherited: string | null;
  configFile: string;
  env: string;
  bundledFamily: ProbeInk;
  systemOnlyFamily: ProbeInk;
  missingFamily: ProbeInk;
  narrow: ProbeInk;
  wide: ProbeInk;
  chart: { width: number; height: number; titleRegion: ProbeInk };
}

/**
 * Runs the probe in a fresh `node`: fontconfig reads its configuration once per process, so only a process
 * that has rendered nothing yet shows what the bundled configuration alone does.
 */
function probe(fontDir?: string): ProbeResult {
  const script = fileURLToPath(new URL('../fixtures/charts/font-probe.ts', import.meta.url));
  const env = { ...process.env };
  delete env.FONTCONFIG_FILE;
  delete env.FONTCONFIG_PATH;
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, ...(fontDir ? [fontDir] : [])], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '') as ProbeResult;
}

describe('bundled font', () => {
  it('is found next to the sources', () => {
    expect(defaultFontDir()).toMatch(/assets[/\\]fonts$/);
  });

  it('is the font the label widths were measured from', () => {
    for (const [file, sha256] of Object.entries(METRICS_SOURCE_SHA256)) {
      const actual = createHash('sha256').update(readFileSync(join(defaultFontDir()!, file))).digest('hex');
      expect(actual, `${file} changed: regenerate the width tables in lib/charts/text-width.ts`).toBe(sha256);
    }
  });

  it('draws text with the bundled font only, whatever family is asked for', () => {
    const r = probe();
    expect(r.inherited).toBeNull();
    expect(r.env).toBe(join(defaultFontDir()!, 'fonts.conf'));
    // Real glyphs: plenty of ink, and different letters give different ink.
    expect(r.bundledFamily.dark).toBeGreaterThan(2000);
    expect(r.wide.dark).toBeGreaterThan(2 * r.narrow.dark);
    // No system font is visible: a family that only the system may have, and one nobody has, both come out
    // pixel for pixel as the bundled font.
    expect(r.systemOnlyFamily.hash).toBe(r.bundledFamily.hash);
    expect(r.missingFamily.hash).toBe(r.bundledFamily.hash);
    expect(r.chart.width).toBeGreaterThanOrEqual(1000);
    expect(r.chart.titleRegion.dark).toBeGreaterThan(300);
  });

  it('is what makes the text: the same configuration with no font in its directory draws no glyphs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alertgraph-nofont-'));
    try {
      copyFileSync(join(defaultFontDir()!, 'fonts.conf'), join(dir, 'fonts.conf'));
      const bundled = probe();
      const empty = probe(dir);
      expect(empty.configFile).toBe(join(dir, 'fonts.conf'));
      // Without a font, pango draws the same placeholder box for every letter: "IIIIII" and "WWWWWW" match.
      expect(empty.narrow.hash).toBe(empty.wide.hash);
      expect(empty.bundledFamily.hash).not.toBe(bundled.bundledFamily.hash);
      // The chart's title band is not blank either way (boxes have ink too), but only the bundled font's
      // rendering is the real title.
      expect(empty.chart.titleRegion.hash).not.toBe(bundled.chart.titleRegion.hash);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- drawing many days on one view ---------------------------------------------------------------------

describe('renderSvg on a kept view', () => {
  /** Numbers to a millionth: a kept view's incremental bounds may differ from a fresh one's in the 16th digit. */
  const norm = (svg: string) => svg.replace(/-?\d+\.\d+(e-?\d+)?/g, (n) => String(Math.round(Number(n) * 1e6) / 1e6));
  async function freshSvg(spec: Spec): Promise<string> {
    const vega = await import('vega');
    const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.Error });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  }

  it('draws a series of daily graphs (archive copies) as fresh views draw each, legend and axes included', async () => {
    // A network that grows: two sensors later, a zero day, outages, today's partial bar on some days, and a
    // history long enough for the graph to turn from bars into an area (past 360 days).
    const first = '2025-01-01';
    const sensors = [
      { id: 'a', name: 'Vienna 1', deployedAt: first },
      { id: 'b', name: 'Lisbon 1', deployedAt: addDays(first, 9) },
      { id: 'c', name: 'Lisbon 2', deployedAt: addDays(first, 9) },
    ];
    const all = Array.from({ length: 380 }, (_, i) => ({
      date: addDays(first, i),
      total: i % 11 === 4 ? 0 : 900 + ((i * 7919) % 2300) * (i > 5 ? 10 : 1),
      reported: i % 13 !== 7,
      scanAlerts: 100 + (i % 50),
    }));
    const picked = [...Array.from({ length: 14 }, (_, i) => i), 40, 77, 150, 358, 359, 360, 361, 362, 379];
    const views = new KeptViews();
    let shared = 0;
    let previous: string | undefined;
    for (const i of picked) {
      const today = addDays(first, i);
      const data: PublicChartData = { generatedAt: `${today}T${i % 2 ? '09' : '17'}:30:00Z`, today, sensors: sensors.filter((s) => s.deployedAt <= today), days: all.slice(0, i + 1) };
      const spec = publicDailySpec(data);
      const shape = shapeOf(spec);
      if (shape === previous) shared++;
      previous = shape;
      expect(norm(await views.draw(spec)), today).toBe(norm(await freshSvg(spec)));
    }
    // Most days share the shape of the day before, and each of those was drawn on the kept view.
    expect(shared).toBeGreaterThanOrEqual(picked.length - 6);
    expect(views.reused).toBe(shared);
  }, 60_000);
});
