/**
 * Warnings through the whole path: signed batches → facts → the render job's close → the rules on the engine →
 * the store and the partner objects (JSON, Atom, IDEA, the page). Worked out by hand:
 *
 * The sensor is deployed on day -40 (days counted back from today; the render runs at noon, so it closes
 * through day -1). Days from deployment + 28 = day -12 on are judged.
 *   days -35 … -1: 5 tcp/23 alerts a day from one source, signature 1001 (steady: median 5 alerts, 1 source);
 *   day -5: 60 more of those → tcp/23 and sid:1001 have 65 alerts ≥ 3 × 5 and ≥ 50: two surges {65, 1}
 *           against {5, 1}, each active on all 28 days before;
 *   day -3: tcp/8080 from 10 sources (one alert each), signature 2002, never seen before: new tcp/8080 and
 *           new sid:2002, {10, 10} against {0, 0}.
 * Day -35 is the first day of tcp/23, but it is before day -12, so it is not judged (no `new`).
 * Exactly 4 warnings. A re-run adds none; a late batch of 10 more on day -5 updates the two surges to 75 alerts
 * and keeps their ids.
 */
// fast-xml-parser 3 (installed with s3rver): a real XML parser; validate() checks well-formedness.
import { parse as parseXml, validate as validateXml } from 'fast-xml-parser';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTNER_INDEX, PARTNER_WARNINGS_KEYS, RENDER_PENDING_KEY, SUBJECT_DAYS_PREFIX, subjectMonthKey } from '../../lib/publish/layout.js';
import { WarningStore } from '../../lib/warnings/store.js';
import { warningId, type Warning } from '../../lib/warnings/model.js';
import { writeLocalState } from '../../lib/local/state.js';
import { eveAlert } from '../helpers/eve.js';
import { runCli } from '../helpers/e2e.js';
import { harnessRenderService, ndjsonBatch, postBatch, startHarness, type Harness, type TestSensor } from '../helpers/harness.js';
import { today, noon, dayMs, dayName } from '../helpers/days.js';


let h: Harness;
let sensor: TestSensor;
let store: WarningStore;

const steady = (day: number, n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => eveAlert({ time: dayMs(day) + 3_600_000 + (offset + i) * 1000, src: '198.51.100.1', dstPort: 23, sid: 1001, signature: 'Telnet probe', category: 'Misc' }));

async function readText(key: string): Promise<string> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const { localS3Client } = await import('../../lib/local/aws-clients.js');
  const s3 = localS3Client(h.config.s3Endpoint!);
  const out = await s3.send(new GetObjectCommand({ Bucket: h.config.bucketName, Key: key }));
  return out.Body!.transformToString();
}

beforeAll(async () => {
  h = await startHarness();
  sensor = await h.addSensor('warn-a', { deployedAt: dayName(40) });
  for (let d = 35; d >= 1; d--) {
    const lines = steady(d, 5);
    if (d === 5) lines.push(...steady(d, 60, 100));
    if (d === 3) {
      for (let i = 0; i < 10; i++) {
        lines.push(eveAlert({ time: dayMs(d) + 7_200_000 + i * 1000, src: `203.0.113.${i + 1}`, dstPort: 8080, sid: 2002, signature: 'Proxy probe', category: 'Misc' }));
      }
    }
    expect((await postBatch(h.url, sensor, ndjsonBatch(sensor.id, lines))).status).toBe(202);
  }
  store = new WarningStore(h.lake);
  await harnessRenderService(h, { now: noon }).run();
}, 180_000);
afterAll(async () => h?.close());

const expected = () => [
  { day: dayName(3), kind: 'new', subject: 'sid:2002', figures: { alerts: 10, sources: 10 }, baseline: { alerts: 0, sources: 0 } },
  { day: dayName(3), kind: 'new', subject: 'tcp/8080', figures: { alerts: 10, sources: 10 }, baseline: { alerts: 0, sources: 0 } },
  { day: dayName(5), kind: 'surge', subject: 'sid:1001', figures: { alerts: 65, sources: 1 }, baseline: { alerts: 5, sources: 1 } },
  { day: dayName(5), kind: 'surge', subject: 'tcp/23', figures: { alerts: 65, sources: 1 }, baseline: { alerts: 5, sources: 1 } },
];
// The render's clock is fixed at noon, hours away from when the batches really arrived: the sensor may be
// judged silent meanwhile (test/integration/silent.test.ts covers that); here only the day's rules count.
const judged = async () => (await store.list()).filter((w) => w.kind !== 'silent');
const shape = (ws: readonly Pick<Warning, 'day' | 'kind' | 'subject' | 'figures' | 'baseline'>[]) =>
  ws.map((w) => ({ day: w.day, kind: w.kind, subject: w.subject, figures: w.figures, baseline: w.baseline }));

describe('warnings end to end', () => {
  it('stores exactly the warnings the rules give, with stable ids', async () => {
    const all = await judged();
    expect(shape(all)).toEqual(expected());
    for (const w of all) expect(w.id).toBe(warningId(w.day, w.kind, w.subject));
    // The judged days -12 … -1 and their baselines back to day -40: each day's subject figures kept once, in
    // one object per month.
    const days = Array.from({ length: 40 }, (_, i) => dayName(40 - i));
    const months = [...new Set(days.map((d) => d.slice(0, 7)))];
    const kept = (await h.lake.list(SUBJECT_DAYS_PREFIX)).map((o) => o.key).sort();
    expect(kept).toEqual(months.map(subjectMonthKey));
    const stored = await Promise.all(months.map(async (m) => (await h.lake.readJson<{ days: Record<string, unknown[]> }>(subjectMonthKey(m)))!.days));
    expect(stored.flatMap((d) => Object.keys(d)).sort()).toEqual(days);
    // Day -3's figures hold the new subject of that day, with its ten sources.
    expect(stored.flatMap((d) => d[dayName(3)] ?? [])).toContainEqual(['tcp/8080', '', 10, 10]);
  });

  it('publishes them to partners as JSON, a valid Atom feed and IDEA records, and on the page', async () => {
    const json = JSON.parse(await readText(PARTNER_WARNINGS_KEYS.json));
    expect(shape(json.warnings)).toEqual(expected());
    expect(json.to).toBe(dayName(1));

    const atom = await readText(PARTNER_WARNINGS_KEYS.atom);
    expect(validateXml(atom)).toBe(true);
    const doc = parseXml(atom, { ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text' });
    const feed = doc.feed;
    expect(feed['@xmlns']).toBe('http://www.w3.org/2005/Atom');
    expect(typeof feed.id).toBe('string');
    expect(feed.title).toBeTruthy();
    expect(Number.isNaN(Date.parse(feed.updated))).toBe(false);
    expect(feed.author.name).toBe('alertgraph');
    const entries = [feed.entry].flat();
    expect(entries.map((e: Record<string, unknown>) => e.id).sort()).toEqual(json.warnings.map((w: Warning) => `urn:uuid:${w.id}`).sort());
    for (const e of entries) {
      expect(Number.isNaN(Date.parse(e.updated))).toBe(false);
      expect(e.title).toBeTruthy();
      expect(e.content['#text']).toBeTruthy();
    }
    const surge = entries.find((e: Record<string, unknown>) => e.id === `urn:uuid:${warningId(dayName(5), 'surge', 'tcp/23')}`);
    expect(surge.content['#text']).toContain('65 alerts from 1 source');

    const idea = JSON.parse(await readText(PARTNER_WARNINGS_KEYS.idea));
    expect(idea.length).toBe(4);
    for (const r of idea) {
      expect(r.Format).toBe('IDEA0');
      expect(r.ID).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number.isNaN(Date.parse(r.DetectTime))).toBe(false);
      expect(Array.isArray(r.Category) && r.Category.length > 0).toBe(true);
      expect(r.Node[0].Name).toBeTruthy();
    }
    const port = idea.find((r: Record<string, unknown>) => r.ID === warningId(dayName(3), 'new', 'tcp/8080'));
    expect(port.Target).toEqual([{ Proto: ['tcp'], Port: [8080] }]);

    const page = await readText(PARTNER_INDEX);
    expect(page.indexOf('id="warnings"')).toBeGreaterThan(0);
    expect(page.indexOf('id="warnings"')).toBeLessThan(page.indexOf('id="history"'));
    expect(page).toContain('New activity on tcp/8080');
  });

  it('a re-run adds nothing; a late batch updates the figures under the same ids', async () => {
    const before = await judged();
    await harnessRenderService(h, { now: noon + 3_600_000 }).run();
    expect(await judged()).toEqual(before);

    expect((await postBatch(h.url, sensor, ndjsonBatch(sensor.id, steady(5, 10, 500)))).status).toBe(202);
    await harnessRenderService(h, { now: noon + 2 * 3_600_000 }).run();
    const after = await judged();
    expect(after.map((w) => w.id)).toEqual(before.map((w) => w.id));
    const surges = after.filter((w) => w.kind === 'surge');
    expect(surges.map((w) => [w.subject, w.figures.alerts, w.baseline.alerts])).toEqual([
      ['sid:1001', 75, 5],
      ['tcp/23', 75, 5],
    ]);
    for (const w of surges) expect(w.raisedAt).toBe(before.find((b) => b.id === w.id)!.raisedAt);
  });

  it('a late batch closed by a run with no room for the warnings is judged by the next run that has room', async () => {
    const before = await judged();
    expect((await postBatch(h.url, sensor, ndjsonBatch(sensor.id, steady(5, 10, 700)))).status).toBe(202);
    const cramped = harnessRenderService(h, { now: noon + 3 * 3_600_000, deps: { scratchFree: async () => 1 } }).run();
    await expect(cramped).rejects.toMatchObject({ code: 'render_incomplete' });
    await expect(cramped).rejects.toThrow(/skipped the analysis .*; and the warnings/);
    // The day was closed again, but the warnings could not read its facts: they stay as they were, and the day
    // waits for both steps.
    expect(await judged()).toEqual(before);
    expect(await h.lake.readJson(RENDER_PENDING_KEY)).toEqual({ analysis: [dayName(5)], warnings: [dayName(5)] });
    // The next run closes nothing, but judges the day it missed: the surges count the 10 late alerts.
    await harnessRenderService(h, { now: noon + 4 * 3_600_000 }).run();
    const surges = (await judged()).filter((w) => w.kind === 'surge');
    expect(surges.map((w) => [w.subject, w.figures.alerts])).toEqual(
      before.filter((w) => w.kind === 'surge').map((w) => [w.subject, w.figures.alerts + 10]),
    );
    expect(await h.lake.readJson(RENDER_PENDING_KEY)).toBeUndefined();
  });

  it('alertgraph warnings --json prints them newest first, --from inclusive, all kinds', async () => {
    // The CLI finds a local stack through the data dir's state file; point it at this harness.
    const dataDir = await mkdtemp(join(tmpdir(), 'alertgraph-warn-cli-'));
    await writeLocalState(dataDir, {
      version: 1,
      pid: process.pid,
      url: h.url,
      dynamoEndpoint: h.config.dynamoEndpoint!,
      s3Endpoint: h.config.s3Endpoint!,
      tableName: h.config.tableName,
      bucketName: h.config.bucketName,
      startedAt: new Date().toISOString(),
    });
    const all = await runCli(dataDir, ['warnings', '--json']);
    expect(all.code).toBe(0);
    const printed = JSON.parse(all.stdout).warnings as Warning[];
    expect(printed).toEqual(await store.list());
    expect(printed.map((w) => w.day)).toEqual([...printed.map((w) => w.day)].sort().reverse());
    const since = await runCli(dataDir, ['warnings', '--json', '--from', dayName(3)]);
    expect(shape(JSON.parse(since.stdout).warnings.filter((w: Warning) => w.kind !== 'silent'))).toEqual(expected().filter((w) => w.day >= dayName(3)));
    const human = await runCli(dataDir, ['warnings']);
    expect(human.stdout).toContain(`${dayName(3)}  new     tcp/8080 (http-alt): 10 sources (10 alerts)`);
    expect((await runCli(dataDir, ['warnings', '--from', 'yesterday'])).code).toBe(2);
  }, 60_000);
});

