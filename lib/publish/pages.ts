/**
 * The two HTML pages: the public one (the graph, its data and an embed snippet) and the partner one.
 * Self-contained (no external scripts, fonts or styles), so they work behind any CSP and offline.
 */
import type { SensorMark } from '../charts/model.js';
import { partnerPageHeadTags, signedAsset, signedAssetScript } from '../links/partner-page.js';
import type { Warning } from '../warnings/model.js';
import { PARTNER_WARNING_DAYS, warningText, warningTitle } from '../warnings/publish.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1240px; padding: 0 1rem; color: #1d2430; }
  h1 { font-size: 1.6rem; margin-bottom: .25rem; }
  .meta { color: #5a6270; margin-top: 0; }
  img { max-width: 100%; height: auto; border: 1px solid #d9dde3; }
  pre { background: #f4f6f8; padding: .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
  table { border-collapse: collapse; } td, th { padding: .2rem .8rem .2rem 0; text-align: left; }
  section { margin: 2rem 0; }
  h2.part { margin-top: 3rem; padding-bottom: .3rem; border-bottom: 2px solid #d9dde3; }
  nav a { margin-right: 1rem; }
  .figure-links a { margin-right: 1rem; }
  .share { font-size: 1.1rem; }
  .warning { border-left: 4px solid #c0392b; padding: .3rem .8rem; margin: .6rem 0; background: #fbf3f2; }
  .warning.new { border-left-color: #d68910; background: #fdf6ec; }
  .warning .kind { font-weight: 600; text-transform: uppercase; font-size: .8rem; margin-right: .5rem; }
`;

/**
 * The partner page's first section (DESIGN §15): surge and new warnings of the last 90 days, newest first,
 * each with its figures and baseline, and where to subscribe.
 */
function warningsSection(warnings: readonly Warning[]): string {
  const items = warnings.length === 0
    ? `<p>No surge or new activity in the last ${PARTNER_WARNING_DAYS} days.</p>`
    : warnings
        .map(
          (w) =>
            `<div class="warning ${w.kind}" id="warning-${escapeHtml(w.id)}"><span class="kind">${escapeHtml(w.kind)}</span><strong>${escapeHtml(warningTitle(w))}</strong><br>${escapeHtml(warningText(w))}</div>`,
        )
        .join('\n');
  return `<section id="warnings">
<h2 class="part">Warnings</h2>
<p>A <strong>surge</strong>: a port or signature active on at least 14 of the 28 days before had at least three times its median alerts (and at least 50) or distinct sources (and at least 10) on a closed day. <strong>New</strong>: a port or signature with no alert in the 28 days before was seen from at least 10 distinct sources.</p>
${items}
<p class="figure-links">Subscribe: <a ${signedAsset('href', 'warnings.atom')}>Atom feed</a> <a ${signedAsset('href', 'warnings.json')}>JSON</a> <a ${signedAsset('href', 'warnings.idea.json')}>IDEA records</a> (open them through your partner link, which signs them)</p>
</section>`;
}

function sensorTable(sensors: readonly SensorMark[]): string {
  if (sensors.length === 0) return '<p>No sensors yet.</p>';
  const rows = sensors.map((s) => `<tr><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.deployedAt)}</td></tr>`).join('\n');
  return `<table><thead><tr><th>Sensor</th><th>Deployed</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/**
 * The public page is served both as /public/index.html and as the site root (/), so it links its objects by
 * absolute path: a relative `alerts-daily.png` would resolve to /alerts-daily.png from the root.
 */
/** The scan alerts of the last closed days whose full figure is known (the public page says them in words). */
export interface ScanShare {
  from: string;
  to: string;
  days: number;
  alerts: number;
  scanAlerts: number;
}

const thousands = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

function scanShareText(share: ScanShare | undefined): string {
  if (!share) return 'Scan alerts are known once a day is closed; no day is closed yet.';
  const pct = share.alerts === 0 ? '0' : ((100 * share.scanAlerts) / share.alerts).toFixed(1);
  return (
    `Over the last ${share.days} closed day${share.days === 1 ? '' : 's'} (${share.from} to ${share.to}), ` +
    `${thousands(share.scanAlerts)} of ${thousands(share.alerts)} alerts (${pct} %) were scan alerts.`
  );
}

export function publicIndexHtml(input: { generatedAt: string; sensors: readonly SensorMark[]; publicBaseUrl: string; scanShare?: ScanShare }): string {
  const base = input.publicBaseUrl.replace(/\/+$/, '');
  const embed = `<a href="${base}/public/index.html"><img src="${base}/public/alerts-daily.png" width="1200" height="500" alt="Intrusion-detection alerts per day, all sensors"></a>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Alerts per day — alertgraph</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Intrusion-detection alerts per day</h1>
<p class="meta">All alerts reported by all sensors, per UTC day, since the first sensor was deployed. Each sensor's deployment is marked. Updated ${escapeHtml(input.generatedAt)}.</p>
<img src="/public/alerts-daily.png" width="1200" height="500" alt="Intrusion-detection alerts per day, all sensors">
<p class="figure-links">Data: <a href="/public/alerts-daily.json">JSON</a> <a href="/public/alerts-daily.csv">CSV</a> <a href="/public/alerts-daily.svg">SVG</a> · Each day's graph is kept at <code>/public/archive/YYYY-MM-DD/alerts-daily.png</code>.</p>
<section id="scans">
<h2>Scan alerts</h2>
<p class="share">${escapeHtml(scanShareText(input.scanShare))}</p>
<p>A scan alert is any alert of a source that reached 20 or more destination ports or 20 or more destination addresses on one UTC day, over all sensors, and any alert whose signature or category names a scan. The figure is complete once a day is closed (after midnight UTC), so only closed days show it: the purple top of each closed day's bar above is its scan alerts. Below, the same days without their scan alerts, on a scale of their own, so that one big scan does not flatten the other days.</p>
<img src="/public/alerts-daily-noscan.png" width="1200" height="500" alt="Intrusion-detection alerts per day without scan alerts, closed days, all sensors">
<p class="figure-links">Data, with each closed day's scan alerts: <a href="/public/alerts-daily-noscan.json">JSON</a> <a href="/public/alerts-daily-noscan.csv">CSV</a> <a href="/public/alerts-daily-noscan.svg">SVG</a></p>
</section>
<section>
<h2>Embed this graph</h2>
<p>Copy this into your page; the image updates every hour.</p>
<pre id="embed">${escapeHtml(embed)}</pre>
</section>
<section>
<h2>Sensors</h2>
${sensorTable(input.sensors)}
</section>
</body>
</html>
`;
}

export interface PartnerFigure {
  /** Object name under partners/, without extension (e.g. `top-ports-day`). */
  name: string;
  title: string;
  description: string;
  /** Whole-history series, or statistics of the window (the last closed days); default window. */
  section?: 'history' | 'window';
  /** The image's size in pixels; default 1200 × 500. */
  width?: number;
  height?: number;
}

function figureHtml(f: PartnerFigure): string {
  return `<section id="${escapeHtml(f.name)}">
<h3>${escapeHtml(f.title)}</h3>
<p>${escapeHtml(f.description)}</p>
<img ${signedAsset('src', `${f.name}.png`)} width="${f.width ?? 1200}" height="${f.height ?? 500}" alt="${escapeHtml(f.title)}">
<p class="figure-links">Data: <a ${signedAsset('href', `${f.name}.json`)}>JSON</a> <a ${signedAsset('href', `${f.name}.csv`)}>CSV</a></p>
</section>`;
}

/** Monthly reports, newest first, linked relative to the page like every other partner object. */
function reportList(months: readonly string[]): string {
  if (months.length === 0) return '<p>The first report is published once a whole month is closed.</p>';
  const items = [...months]
    .sort()
    .reverse()
    .map((m) => {
      if (!/^\d{4}-\d{2}$/.test(m)) throw new Error(`not a month: ${m}`);
      return `<li>${m}: <a ${signedAsset('href', `reports/${m}.html`)}>report</a> <a ${signedAsset('href', `reports/${m}.json`)}>JSON</a></li>`;
    });
  return `<ul class="reports">\n${items.join('\n')}\n</ul>`;
}

/**
 * The partner page. Its images and data links point at files next to it *with the page's own query string*
 * (the signed-URL parameters), which the inline script copies onto them: one signature opens the whole area.
 */
export function partnerIndexHtml(input: {
  generatedAt: string;
  sensors: readonly SensorMark[];
  figures: readonly PartnerFigure[];
  /** The statistics' window (the last closed days), for its heading. */
  window?: { from: string; to: string };
  /** Closed months whose report is published (`reports/YYYY-MM.html` and `.json`). */
  months?: readonly string[];
  /** Surge and new warnings of the last 90 days (a section at the top when given). */
  warnings?: readonly Warning[];
}): string {
  const history = input.figures.filter((f) => f.section === 'history');
  const window = input.figures.filter((f) => f.section !== 'history');
  const windowName = input.window ? `Last 30 closed days: ${input.window.from} to ${input.window.to}` : 'Last 30 closed days';
  const figures = [
    ...(history.length > 0
      ? [
          '<h2 class="part" id="history">Since the first deployment</h2>',
          '<p>Per UTC day over the whole history. Dashed lines mark sensor deployments; the day in progress is left out.</p>',
          ...history.map(figureHtml),
        ]
      : []),
    ...(window.length > 0
      ? [
          `<h2 class="part" id="window">${escapeHtml(windowName)}</h2>`,
          '<p>Who sent the alerts: statistics of the source addresses (counted as pseudonyms) over the last closed days, as in the monthly reports. Ports are shown with their registered service name.</p>',
          ...window.map(figureHtml),
        ]
      : []),
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${partnerPageHeadTags()}
<title>Partner statistics — alertgraph</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Partner statistics</h1>
<p class="meta">Not for redistribution. Source addresses are counted as keyed pseudonyms; no address appears here. Updated ${escapeHtml(input.generatedAt)}.</p>
<nav>${input.warnings ? '<a href="#warnings">Warnings</a> ' : ''}<a href="#history">Since the first deployment</a> <a href="#window">Last 30 closed days</a> <a href="#reports">Monthly reports</a> <a href="#sensors">Sensors</a></nav>
${input.warnings ? warningsSection(input.warnings) : ''}
${figures}
<h2 class="part" id="reports">Monthly reports</h2>
<p>The period report of each closed month (headline, charts and tables), newest first; the JSON is what <code>alertgraph report --json</code> prints for that month.</p>
${reportList(input.months ?? [])}
<section>
<h2 class="part" id="sensors">Sensors</h2>
${sensorTable(input.sensors)}
</section>
${signedAssetScript()}
</body>
</html>
`;
}
