/**
 * Draws docs/images/partner-warnings.png: the top of the partner page with its Warnings section, from hand-made
 * demo warnings (no real data), in the local Chromium. `npx tsx scripts/warnings-screenshot.ts`
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { REPO_ROOT } from '../lib/build/bundle.js';
import { partnerIndexHtml } from '../lib/publish/pages.js';
import { fromJudgedRow } from '../lib/warnings/model.js';

const at = '2026-11-21T00:31:00.000Z';
const warnings = [
  fromJudgedRow({ day: '2026-11-20', kind: 'surge', subject: 'tcp/445', name: null, alerts: 1840, sources: 212, active_days: 28, median_alerts: 310, median_sources: 41.5 }, at),
  fromJudgedRow({ day: '2026-11-20', kind: 'new', subject: 'tcp/37215', name: null, alerts: 96, sources: 57, active_days: 0, median_alerts: 0, median_sources: 0 }, at),
  fromJudgedRow({ day: '2026-11-18', kind: 'surge', subject: 'sid:2024217', name: 'ET EXPLOIT Possible SMB probe', alerts: 620, sources: 12, active_days: 19, median_alerts: 88, median_sources: 3 }, at),
];
const html = partnerIndexHtml({
  generatedAt: at,
  sensors: [{ id: 'demo-a', name: 'Demo sensor A', deployedAt: '2026-06-01' }],
  figures: [],
  window: { from: '2026-10-22', to: '2026-11-20' },
  months: ['2026-10'],
  warnings,
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.setContent(html, { waitUntil: 'load' });
  const png = await page.locator('#warnings').screenshot();
  const out = join(REPO_ROOT, 'docs', 'images', 'partner-warnings.png');
  await writeFile(out, png);
  process.stdout.write(`${out}\n`);
} finally {
  await browser.close();
}
