/**
 * Child process of the render benchmark: the same Vega specs, same size, rendered to PNG the way Grafana's
 * image renderer works — a headless Chromium (Debian's, through playwright-core), one browser for all
 * charts, vega-embed in a page, a screenshot of each chart. Prints JSON with per-run milliseconds.
 * The parent samples the memory of this process and its browser.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { chartData, timeAllCharts } from './render-ours.js';
import { renderBenchArgs } from './stats.js';

const VEGA = readFileSync(new URL('../node_modules/vega/build/vega.min.js', import.meta.url));
const EMBED = readFileSync(new URL('../node_modules/vega-embed/build/vega-embed.min.js', import.meta.url));
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><script src="/vega.js"></script><script src="/embed.js"></script>
<style>body{margin:0;background:#fff}</style></head><body><div id="chart"></div></body></html>`;

const { days, sensors, runs } = renderBenchArgs();

const server = createServer((req, res) => {
  const body = req.url === '/vega.js' ? VEGA : req.url === '/embed.js' ? EMBED : PAGE;
  res.writeHead(200, { 'content-type': req.url?.endsWith('.js') ? 'text/javascript' : 'text/html' });
  res.end(body);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1300, height: 700 } });
await page.goto(origin, { waitUntil: 'load' });
const { times, pngBytes } = await timeAllCharts(chartData(days, sensors), runs, async (spec) => {
  await page.evaluate(async (s) => {
    const w = globalThis as unknown as { vegaEmbed: (el: string, spec: unknown, opts: unknown) => Promise<unknown> };
    await w.vegaEmbed('#chart', s, { actions: false, renderer: 'canvas' });
  }, spec as unknown as Record<string, unknown>);
  return page.locator('#chart canvas').screenshot();
});
await browser.close();
server.close();
process.stdout.write(`${JSON.stringify({ times, pngBytes })}\n`);
