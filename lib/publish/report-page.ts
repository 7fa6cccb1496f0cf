/**
 * The period report as a self-contained HTML page (`report --out`, and the monthly partner report): the headline
 * figures in words, the big-scan caveat, the charts of the report (inline SVG), then the tables. Self-contained
 * like the other pages (no external scripts, fonts, styles or images).
 */
import { writeFile } from 'node:fs/promises';
import type { Spec } from 'vega';
import type { SensorMark } from '../charts/model.js';
import { chartRenderer } from '../charts/load.js';
import { activityPortsSpec, icmpSourcesSpec, portSourcesSpec, reportNewSourcesSpec, reportScansSpec } from '../charts/statistics-specs.js';
import type { PeriodReport } from '../lake/report.js';
import { portLabel } from '../ports/index.js';
import { escapeHtml } from './pages.js';

const STYLE = `
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1240px; padding: 0 1rem; color: #1d2430; }
  h1 { font-size: 1.6rem; margin-bottom: .25rem; }
  .meta { color: #5a6270; margin-top: 0; }
  table { border-collapse: collapse; margin: .5rem 0 1.5rem; } td, th { padding: .2rem .8rem .2rem 0; text-align: left; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
  .caveat { background: #fff6e0; border-left: 4px solid #e0a100; padding: .5rem .75rem; }
  img { max-width: 100%; height: auto; border: 1px solid #d9dde3; }
  figure { margin: 0; } figure svg { display: block; max-width: 100%; height: auto; border: 1px solid #d9dde3; }
  section { margin: 2rem 0; }
`;

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (n: number, of: number) => (of === 0 ? '0' : fmt((100 * n) / of, 1));

/** The headline of eCSIRT.net's status update, in words, with the big-scan caveat when one source dominates. */
export function reportHeadline(r: PeriodReport): string[] {
  const lines = [
    `From ${r.from} to ${r.to} the sensors reported ${fmt(r.alerts)} alerts from ${fmt(r.sources)} distinct source addresses.`,
    `${fmt(r.icmpSources.sources)} sources sent ICMP (${fmt(r.icmpSources.alertsPerSource, 1)} alerts each, ${pct(r.icmpSources.alerts, r.alerts)} % of all alerts); ` +
      `${fmt(r.otherSources.sources)} did not (${fmt(r.otherSources.alertsPerSource, 1)} alerts each).`,
    `${fmt(r.scans.alerts)} alerts (${pct(r.scans.alerts, r.alerts)} %) were scans, from ${fmt(r.scans.sources)} sources.`,
  ];
  if (r.largestScan) {
    lines.push(
      `Caveat: the largest scan — one source — accounts for ${fmt(r.largestScan.alerts)} alerts, ${pct(r.largestScan.alerts, r.alerts)} % of the period's total; ` +
        'figures per port and per day can be dominated by it.',
    );
  }
  return lines;
}

function table(head: string[], rows: (string | number | null)[][], numeric: boolean[]): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="n"' : ''}>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((v, i) => `<td${numeric[i] ? ' class="n"' : ''}>${v === null ? '–' : escapeHtml(typeof v === 'number' ? fmt(v) : v)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export interface ReportFigure {
  title: string;
  description: string;
  /** The chart as an SVG document, inlined. */
  svg: string;
}

/** The report's charts, in page order: what each shows, and its spec from the report alone. */
export function reportFigureSpecs(r: PeriodReport, opts: { sensors?: readonly SensorMark[] } = {}): { title: string; description: string; spec: Spec }[] {
  const sensors = opts.sensors ? { sensors: opts.sensors } : {};
  return [
    {
      title: 'ICMP and non-ICMP sources',
      description: 'Sources that sent at least one ICMP alert in the period against the others: how many, their alerts (all protocols) and alerts per source.',
      spec: icmpSourcesSpec(r),
    },
    {
      title: 'Scan alerts per day',
      description: 'All alerts and the scan alerts among them (sources that reached 20 or more ports or addresses in a day, and scan signatures).',
      spec: reportScansSpec(r, sensors),
    },
    {
      title: 'New sources per day',
      description: 'Sources never seen before by any sensor, and those of them with at least one alert that is not a scan (new sources of unknown traffic); closed days.',
      spec: reportNewSourcesSpec(r, sensors),
    },
    {
      title: 'Top ports by source activity',
      description: 'Sources grouped by the number of days they were seen on, and the 14 ports their alerts went to most.',
      spec: activityPortsSpec(r),
    },
    {
      title: 'Distinct sources per port',
      description: 'The ports with most distinct sources (among the 100 with most alerts), beside their alerts.',
      spec: portSourcesSpec(r),
    },
  ];
}

/**
 * Renders the report's charts to SVG for inlining. `render` is the chart renderer's seam (it may also make a
 * PNG; only the SVG is used).
 */
export async function renderReportFigures(
  r: PeriodReport,
  opts: { sensors?: readonly SensorMark[]; render?: (spec: Spec) => Promise<{ svg: string }> } = {},
): Promise<ReportFigure[]> {
  const render = opts.render ?? (async (spec: Spec) => ({ svg: await (await chartRenderer()).renderSvg(spec) }));
  const out: ReportFigure[] = [];
  for (const f of reportFigureSpecs(r, opts)) out.push({ title: f.title, description: f.description, svg: (await render(f.spec)).svg });
  return out;
}

/**
 * One SVG among several in a page: its ids (clip paths, gradients) prefixed, so that `url(#clip1)` in one chart
 * never resolves to another chart's element of the same id; and no XML prolog inside HTML.
 */
export function inlineSvg(svg: string, prefix: string): string {
  return svg
    .replace(/<\?xml[^>]*\?>\s*/, '')
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}${id})`)
    .replace(/\bhref="#([^"]+)"/g, (_, id: string) => `href="#${prefix}${id}"`);
}

export function reportPageHtml(r: PeriodReport, figures: readonly ReportFigure[] = []): string {
  const [first, ...rest] = reportHeadline(r);
  const caveat = rest.find((l) => l.startsWith('Caveat'));
  const cohort = (a: PeriodReport['activity'][number]) =>
    a.maxDays === null ? `${a.minDays} days or more` : a.minDays === a.maxDays ? `exactly ${a.minDays} day${a.minDays === 1 ? '' : 's'}` : `${a.minDays}–${a.maxDays} days`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Alert report ${escapeHtml(r.from)} – ${escapeHtml(r.to)} — alertgraph</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Alert report, ${escapeHtml(r.from)} to ${escapeHtml(r.to)}</h1>
<p class="meta">Statistics of the sources of intrusion-detection alerts over the period (UTC days). Addresses are counted as pseudonyms.</p>
<p>${escapeHtml(first!)}</p>
<ul>${rest.filter((l) => l !== caveat).map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
${caveat ? `<p class="caveat">${escapeHtml(caveat)}</p>` : ''}
${figures.map((f, i) => `<section><h2>${escapeHtml(f.title)}</h2><p>${escapeHtml(f.description)}</p><figure>${inlineSvg(f.svg, `f${i + 1}-`)}</figure></section>`).join('\n')}
<section>
<h2>Sources by activity days</h2>
<p>How many distinct days each source was seen on, and the ports its alerts went to.</p>
${table(
  ['Active on', 'Sources', 'Top ports (alerts)'],
  r.activity.map((a) => [cohort(a), a.sources, a.topPorts.map((p) => `${portLabel(p.port)} (${fmt(p.alerts)})`).join(', ')]),
  [false, true, false],
)}
</section>
<section>
<h2>Top ports</h2>
<p>TCP and UDP destination ports by alerts, with distinct sources, the registered service name and the port class (trojan: a port known backdoors listen on; service: a registered service; unlisted: neither).</p>
${table(
  ['Port', 'Service', 'Class', 'Alerts', 'Sources'],
  r.ports.map((p) => [p.port, p.service, p.class, p.alerts, p.sources]),
  [false, false, false, true, true],
)}
</section>
<section>
<h2>Per day</h2>
<p>Sources, new sources (never seen before by any sensor) and new sources of unknown (non-scan) traffic are known once a day is closed.</p>
${table(
  ['Day', 'Alerts', 'Scan alerts', 'Sources', 'New sources', 'New, unknown traffic'],
  r.perDay.map((d) => [d.date, d.alerts, d.scanAlerts, d.sources, d.newSources, d.newUnknownSources]),
  [false, true, true, true, true, true],
)}
</section>
</body>
</html>
`;
}

/** Writes the report page; without `figures`, renders the report's charts itself. */
export async function writeReportPage(path: string, r: PeriodReport, figures?: readonly ReportFigure[]): Promise<void> {
  await writeFile(path, reportPageHtml(r, figures ?? (await renderReportFigures(r))));
}
