/**
 * The two HTML pages: the public one (the graph, its data and an embed snippet) and the partner one.
 * Self-contained (no external scripts, fonts or styles), so they work behind any CSP and offline.
 */
import type { SensorMark } from '../charts/model.js';
import { partnerPageHeadTags, signedAsset, signedAssetScript } from '../links/partner-page.js';

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
  .figure-links a { margin-right: 1rem; }
`;

function sensorTable(sensors: readonly SensorMark[]): string {
  if (sensors.length === 0) return '<p>No sensors yet.</p>';
  const rows = sensors.map((s) => `<tr><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.deployedAt)}</td></tr>`).join('\n');
  return `<table><thead><tr><th>Sensor</th><th>Deployed</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/**
 * The public page is served both as /public/index.html and as the site root (/), so it links its objects by
 * absolute path: a relative `alerts-daily.png` would resolve to /alerts-daily.png from the root.
 */
export function publicIndexHtml(input: { generatedAt: string; sensors: readonly SensorMark[]; publicBaseUrl: string }): string {
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
}

/**
 * The partner page. Its images and data links point at files next to it *with the page's own query string*
 * (the signed-URL parameters), which the inline script copies onto them: one signature opens the whole area.
 */
export function partnerIndexHtml(input: { generatedAt: string; sensors: readonly SensorMark[]; figures: readonly PartnerFigure[] }): string {
  const figures = input.figures
    .map(
      (f) => `<section>
<h2>${escapeHtml(f.title)}</h2>
<p>${escapeHtml(f.description)}</p>
<img ${signedAsset('src', `${f.name}.png`)} width="1200" height="500" alt="${escapeHtml(f.title)}">
<p class="figure-links">Data: <a ${signedAsset('href', `${f.name}.json`)}>JSON</a> <a ${signedAsset('href', `${f.name}.csv`)}>CSV</a></p>
</section>`,
    )
    .join('\n');
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
${figures}
<section>
<h2>Sensors</h2>
${sensorTable(input.sensors)}
</section>
${signedAssetScript()}
</body>
</html>
`;
}
