/**
 * Publishing end to end, as an operator and a partner see it: sensors pushed through `alertgraph push`,
 * `alertgraph render`, the local CDN serving the public graph, and partner links opened in headless Chromium
 * (Debian's `chromium`, driven by playwright-core) — valid, tampered, expired, revoked, and never raw/.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTNER_CHARTS } from '../../lib/charts/specs.js';
import { eveAlert } from '../helpers/eve.js';
import { cliJson, startDev, type DevProcess } from '../helpers/e2e.js';

const CHROMIUM = '/usr/bin/chromium';
const DAY = 86_400_000;

let dir: string;
let url: string;
let dev: DevProcess | undefined;

/** `alertgraph <args> --json`, parsed; throws on a non-zero exit. */
const json = <T>(...args: string[]) => cliJson<T>(dir, args, { timeoutMs: 120_000 });

const today = new Date().toISOString().slice(0, 10);
const day = (n: number) => new Date(Date.parse(`${today}T00:00:00Z`) - n * DAY).toISOString().slice(0, 10);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-publish-'));
  dev = await startDev(dir);
  url = dev.url;

  // Three sensors deployed on different days, each pushing a few days of alerts.
  const sensors = [
    { id: 'vie-1', name: 'Vienna One', deployed: day(4), days: [4, 3, 2, 1, 0] },
    { id: 'lis-1', name: 'Lisbon One', deployed: day(2), days: [2, 1, 0] },
    { id: 'tll-1', name: 'Tallinn One', deployed: day(1), days: [1] },
  ];
  for (const [i, s] of sensors.entries()) {
    const key = join(dir, `${s.id}.pem`);
    const { publicKey } = await json<{ publicKey: string }>('keygen', '--out', key);
    await json('sensor', 'add', s.id, '--public-key', publicKey, '--deployed', s.deployed, '--name', s.name);
    const lines: string[] = [];
    for (const d of s.days) {
      const start = Date.parse(`${day(d)}T00:00:00Z`);
      for (let k = 0; k < 20 + 10 * i + d; k++) {
        const time = Math.min(start + k * 600_000, Date.now() - 60_000);
        lines.push(eveAlert({ time, src: `192.0.2.${(k % 50) + 1}`, dstPort: [445, 22, 23, 3389][k % 4], proto: k % 9 === 0 ? 'ICMP' : 'TCP' }));
      }
    }
    const log = join(dir, `${s.id}.json`);
    await writeFile(log, `${lines.join('\n')}\n`);
    const summary = await json<{ accepted: number }>('push', log, '--sensor', s.id, '--key', key);
    expect(summary.accepted).toBe(lines.length);
  }
  const report = await json<{ published: number }>('render');
  expect(report.published).toBeGreaterThan(20);
}, 180_000);

afterAll(async () => {
  await dev?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the public graph on the local CDN', () => {
  it('serves a PNG at least 1000 px wide, an SVG naming every sensor, and JSON equal to stats', async () => {
    const png = await fetch(`${url}/public/alerts-daily.png`);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(bytes.readUInt32BE(16)).toBeGreaterThanOrEqual(1000);
    expect(png.headers.get('cache-control')).toMatch(/max-age=\d{1,4}\b/);

    const svg = await (await fetch(`${url}/public/alerts-daily.svg`)).text();
    for (const name of ['Vienna One', 'Lisbon One', 'Tallinn One']) expect(svg).toContain(name);

    const published = (await (await fetch(`${url}/public/alerts-daily.json`)).json()) as { days: { date: string; total: number }[] };
    const stats = await json<{ days: { date: string; total: number }[] }>('stats', '--from', published.days[0]!.date, '--to', today);
    expect(published.days).toEqual(stats.days.map((d) => ({ date: d.date, total: d.total })));
    // Closed days carry exact source counts once rendered: on day -1 the busiest sensor sent 41 alerts from
    // 192.0.2.1–41, the others subsets of those; 192.0.2.1–32 had been seen on day -2 already.
    expect(stats.days.find((d) => d.date === day(1))).toMatchObject({ sources: 41, newSources: 41 - 32 });

    const archive = await fetch(`${url}/public/archive/${day(1)}/alerts-daily.png`);
    expect(archive.status).toBe(200);
    expect(archive.headers.get('cache-control')).toContain('immutable');
    const home = await fetch(`${url}/`);
    expect(await home.text()).toContain('alerts-daily.png');
  });
});

describe('partner links', () => {
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    await json('partner', 'add', 'alice', '--name', 'Alice CERT');
    await json('partner', 'add', 'bob', '--name', 'Bob CSIRT');
    alice = (await json<{ url: string }>('partner', 'link', 'alice', '--expires', '1d')).url;
    bob = (await json<{ url: string }>('partner', 'link', 'bob', '--expires', '1d')).url;
  });

  it.skipIf(!existsSync(CHROMIUM))('opens the partner area and the public page in headless Chromium with every image loaded', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const res = await page.goto(alice, { waitUntil: 'load' });
      expect(res?.status()).toBe(200);
      type Img = { complete: boolean; currentSrc: string; naturalWidth: number };
      // These callbacks run in the page; the project has no DOM typings, so the shapes are spelled out.
      await page.waitForFunction(() => [...((globalThis as any).document.images as Img[])].every((img) => img.complete));
      const images = await page.$$eval('img', (imgs) => (imgs as unknown as Img[]).map((img) => ({ src: img.currentSrc, w: img.naturalWidth })));
      // Every partner chart, the analysts' statistics included, is on the page and loads.
      const loaded = images.map((img) => /\/partners\/([a-z0-9-]+)\.png\?/.exec(img.src)?.[1]);
      expect(loaded).toEqual([...PARTNER_CHARTS]);
      for (const img of images) {
        expect(img.src).toContain('Signature=');
        expect(img.w, img.src).toBeGreaterThanOrEqual(1000);
      }
      const csvHref = await page.$eval('a[data-signed-href$=".csv"]', (a) => (a as unknown as { href: string }).href);
      expect((await fetch(csvHref)).status).toBe(200);

      // The public page, opened at the site root as a visitor would: its graphs load too (all alerts, and
      // without scan alerts), and it says the scan share.
      await page.goto(`${url}/`, { waitUntil: 'load' });
      await page.waitForFunction(() => [...((globalThis as any).document.images as Img[])].every((img) => img.complete));
      const pub = await page.$$eval('img', (imgs) => (imgs as unknown as Img[]).map((img) => img.naturalWidth));
      expect(pub).toEqual([1200, 1200]);
      expect(await page.textContent('#scans')).toMatch(/were scan alerts/);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('refuses tampered, expired and revoked links, and never serves raw/', async () => {
    expect((await fetch(alice)).status).toBe(200);
    // Another partner's id under alice's signature.
    expect((await fetch(alice.replace('partner=alice', 'partner=bob'))).status).toBe(403);
    // A flipped signature character.
    const sig = /Signature=([^&]+)/.exec(alice)![1]!;
    expect((await fetch(alice.replace(sig, (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1)))).status).toBe(403);
    // The signature is for partners/*: it does not open raw/.
    expect((await fetch(alice.replace('/partners/index.html', '/raw/x'))).status).not.toBe(200);
    expect((await fetch(`${url}/partners/index.html`)).status).toBe(403);

    const short = (await json<{ url: string }>('partner', 'link', 'alice', '--expires', '1s')).url;
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await fetch(short)).status).toBe(403);

    expect((await fetch(bob)).status).toBe(200);
    await json('partner', 'revoke', 'bob');
    // The local CDN reads revocations on every request; the edge's KeyValueStore propagates in seconds.
    const deadline = Date.now() + 10_000;
    while ((await fetch(bob)).status !== 403 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect((await fetch(bob)).status).toBe(403);
    expect((await fetch(alice)).status).toBe(200);
  }, 30_000);
});
