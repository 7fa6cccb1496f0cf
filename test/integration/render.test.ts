/**
 * The render job against DynamoDB Local and s3rver: rollups, exact distinct/new sources from the raw archive,
 * a late batch re-opening a closed day, the published layout and headers, and atomic publishing.
 */
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDynamoClient, localS3Client } from '../../lib/local/aws-clients.js';
import { createRenderService, type RenderService } from '../../lib/render/service.js';
import { dailyStats } from '../../lib/stats/daily.js';
import { SummaryStore } from '../../lib/store/summaries.js';
import { silentLog } from '../../lib/log.js';
import { eveAlert } from '../helpers/eve.js';
import { ndjsonBatch, postBatch, startHarness, type Harness, type TestSensor } from '../helpers/harness.js';
import { inject } from 'vitest';
import { today, noon, dayMs, dayName } from '../helpers/days.js';

const d2 = dayName(2);
const d1 = dayName(1);

let h: Harness;
let a: TestSensor;
let b: TestSensor;
let render: RenderService;
let summaries: SummaryStore;
const s3 = () => localS3Client(inject('s3Endpoint'));

function alertsFrom(sources: string[], day: number, port = 445): string[] {
  return sources.map((src, i) => eveAlert({ time: dayMs(day) + 3_600_000 + i * 1000, src, dstPort: port }));
}

async function object(key: string) {
  const res = await s3().send(new GetObjectCommand({ Bucket: h.config.bucketName, Key: key }));
  return { body: Buffer.from(await res.Body!.transformToByteArray()), contentType: res.ContentType, cacheControl: res.CacheControl };
}

beforeAll(async () => {
  h = await startHarness();
  a = await h.addSensor('sensor-a', { deployedAt: d2 });
  b = await h.addSensor('sensor-b', { deployedAt: d1 });
  // Day -2: A sees 3 sources. Day -1: A sees 2 old + 2 new ones (one twice), B sees one of A's new ones and 1 new.
  expect((await postBatch(h.url, a, ndjsonBatch(a.id, alertsFrom(['192.0.2.1', '192.0.2.2', '2001:db8::3'], 2)))).status).toBe(202);
  expect((await postBatch(h.url, a, ndjsonBatch(a.id, alertsFrom(['192.0.2.2', '2001:DB8:0::3', '192.0.2.4', '192.0.2.5', '192.0.2.5'], 1)))).status).toBe(202);
  expect((await postBatch(h.url, b, ndjsonBatch(b.id, alertsFrom(['192.0.2.5', '192.0.2.6'], 1, 22)))).status).toBe(202);
  render = createRenderService(
    {
      tableName: h.config.tableName,
      bucketName: h.config.bucketName,
      horizonDays: 400,
      pseudonymKey: Buffer.alloc(32, 7),
      closeAfterMinutes: 30,
      watchedPorts: ['tcp/445', 'tcp/22'],
      publicBaseUrl: 'https://cdn.example',
      dynamoEndpoint: inject('dynamoEndpoint'),
      s3Endpoint: inject('s3Endpoint'),
    },
    silentLog,
    { clock: () => noon },
  );
  summaries = new SummaryStore(localDynamoClient(inject('dynamoEndpoint')), h.config.tableName);
}, 60_000);
afterAll(async () => h?.close());

describe('render job', () => {
  it('closes past days with exact distinct and new source counts, and publishes every object with its headers', async () => {
    const report = await render.run();
    expect(report.closedThrough).toBe(d1);
    expect(report.rolledUp).toEqual([d2, d1, today]);
    // The report says where the time and the CPU went, phase by phase; closing and drawing cost CPU.
    expect(Object.keys(report.cpu ?? {}).every((phase) => phase in (report.phases ?? {}))).toBe(true);
    expect(report.cpu?.close).toBeGreaterThan(0);
    expect(report.cpu?.charts).toBeGreaterThan(0);

    const sums = await summaries.getDaySummaries([d2, d1, today]);
    expect(sums.get(d2)).toMatchObject({ sources: 3, newSources: 3, bySensor: { 'sensor-a': 3 } });
    // Day -1: distinct {2, 3, 4, 5, 6} (2001:DB8:0::3 is 2001:db8::3); new {4, 5, 6}.
    expect(sums.get(d1)).toMatchObject({ sources: 5, newSources: 3, bySensor: { 'sensor-a': 5, 'sensor-b': 2 } });
    expect(sums.get(today)?.sources).toBeUndefined();

    const png = await object('public/alerts-daily.png');
    expect(png.contentType).toBe('image/png');
    expect(png.body.readUInt32BE(16)).toBeGreaterThanOrEqual(1000); // IHDR width
    expect(png.cacheControl).toMatch(/max-age=(\d+)/);
    expect(Number(/max-age=(\d+)/.exec(png.cacheControl!)![1])).toBeLessThanOrEqual(3600);
    const svg = (await object('public/alerts-daily.svg')).body.toString();
    expect(svg).toContain('sensor-a');
    expect(svg).toContain('sensor-b');
    // Every closed day gets its archive copy, the backfilled day -2 too.
    expect(report.archived).toEqual([d1, d2]);
    expect((await object(`public/archive/${d2}/alerts-daily.png`)).body.subarray(1, 4).toString()).toBe('PNG');
    const archive = await object(`public/archive/${d1}/alerts-daily.png`);
    expect(archive.cacheControl).toContain('immutable');
    expect(archive.cacheControl).toContain('max-age=31536000');

    const json = JSON.parse((await object('public/alerts-daily.json')).body.toString()) as { days: { date: string; total: number }[]; sensors: { id: string }[] };
    const stats = await dailyStats(h.ledger, ['sensor-a', 'sensor-b'], d2, today);
    // `stats` reads the summaries of settled days instead of the counters: the same figures, plus sources.
    const settled = await dailyStats(h.ledger, ['sensor-a', 'sensor-b'], d2, today, (days) => summaries.settledDays(days));
    expect(settled.days.map(({ sources: _s, newSources: _n, scanAlerts: _x, newUnknownSources: _u, ...rest }) => rest)).toEqual(
      stats.days.map(({ sources: _s, newSources: _n, scanAlerts: _x, newUnknownSources: _u, ...rest }) => rest),
    );
    expect(settled.days.map((d) => d.sources)).toEqual([3, 5, null]);
    expect(json.days).toEqual(stats.days.map((d) => ({ date: d.date, total: d.total })));
    expect(json.sensors.map((s) => s.id)).toEqual(['sensor-a', 'sensor-b']);
    const csv = (await object('public/alerts-daily.csv')).body.toString();
    expect(csv.split('\r\n')[0]).toBe('date,total');
    expect(csv).toContain(`${d1},7`);

    const index = (await object('public/index.html')).body.toString();
    expect(index).toContain('https://cdn.example/public/alerts-daily.png');
    for (const name of ['top-ports-day', 'top-ports-30d', 'watched-ports', 'per-sensor', 'sources', 'icmp', 'scans']) {
      const head = await s3().send(new HeadObjectCommand({ Bucket: h.config.bucketName, Key: `partners/${name}.png` }));
      expect(head.CacheControl).toContain('private');
    }
    const topDay = JSON.parse((await object('partners/top-ports-day.json')).body.toString()) as { date: string; rows: { key: string; count: number }[] };
    expect(topDay).toEqual({ date: d1, rows: [{ key: 'tcp/445', count: 5 }, { key: 'tcp/22', count: 2 }] });
    // Source addresses never appear in published statistics, raw or otherwise.
    for (const name of ['sources', 'per-sensor']) expect((await object(`partners/${name}.json`)).body.toString()).not.toContain('192.0.2.');
  });

  it('is idempotent: a second run changes no figure and keeps the archive copy', async () => {
    const before = await summaries.getDaySummaries([d2, d1]);
    const archived = await object(`public/archive/${d1}/alerts-daily.png`);
    await render.run();
    const after = await summaries.getDaySummaries([d2, d1]);
    for (const d of [d2, d1]) {
      const { computedAt: _x, ...b1 } = before.get(d)!;
      const { computedAt: _y, ...a1 } = after.get(d)!;
      expect(JSON.parse(JSON.stringify(a1))).toEqual(JSON.parse(JSON.stringify(b1)));
    }
    expect((await object(`public/archive/${d1}/alerts-daily.png`)).body.equals(archived.body)).toBe(true);
  });

  it('render --date rebuilds that closed day\'s archive copy only, and refuses a day not closed yet', async () => {
    const live = await Promise.all(['public/alerts-daily.json', 'public/alerts-daily.png', 'partners/index.html'].map(object));
    const old = await object(`public/archive/${d2}/alerts-daily.png`);
    const report = await render.run({ date: d2 });
    expect(report).toMatchObject({ archived: [d2], rolledUp: [], published: 1, closedThrough: d1, today });
    const rebuilt = await object(`public/archive/${d2}/alerts-daily.png`);
    expect(rebuilt.cacheControl).toContain('immutable');
    // The day's own graph: it ends on day -2, so it differs from day -1's copy (which has one more day).
    expect(rebuilt.body.equals((await object(`public/archive/${d1}/alerts-daily.png`)).body)).toBe(false);
    expect(rebuilt.body.subarray(1, 4).toString()).toBe('PNG');
    expect(old.body.length).toBeGreaterThan(0);
    const after = await Promise.all(['public/alerts-daily.json', 'public/alerts-daily.png', 'partners/index.html'].map(object));
    for (const [i, o] of after.entries()) expect(o.body.equals(live[i]!.body)).toBe(true);
    await expect(render.run({ date: today })).rejects.toMatchObject({ code: 'day_not_closed' });
  });

  it('a late batch re-opens a closed day: totals and sources are recomputed on the next run', async () => {
    const late = await postBatch(h.url, b, ndjsonBatch(b.id, alertsFrom(['192.0.2.1', '198.51.100.9'], 2, 3389)));
    expect(late.status).toBe(202);
    // Before the next render, the re-opened day is read live: the late alerts are already in `stats`.
    const live = await dailyStats(h.ledger, ['sensor-a', 'sensor-b'], d2, d2, (days) => summaries.settledDays(days));
    expect(live.days[0]).toMatchObject({ total: 5, bySensor: { 'sensor-a': 3, 'sensor-b': 2 } });
    const report = await render.run();
    expect(report.rolledUp).toContain(d2);
    const sums = await summaries.getDaySummaries([d2, d1]);
    // Day -2 now: A {1,2,3} + B {1, 198.51.100.9} → 4 distinct, all 4 new (first seen that day).
    expect(sums.get(d2)).toMatchObject({ sources: 4, newSources: 4, bySensor: { 'sensor-a': 3, 'sensor-b': 2 } });
    const json = JSON.parse((await object('public/alerts-daily.json')).body.toString()) as { days: { date: string; total: number }[] };
    expect(json.days.find((d) => d.date === d2)?.total).toBe(5);
    // The dirty mark was consumed.
    expect((await summaries.listDirty()).length).toBe(0);
  });

  it('a failed render leaves the published objects as they were', async () => {
    const before = await object('public/alerts-daily.json');
    const failing = createRenderService(
      {
        tableName: h.config.tableName,
        bucketName: h.config.bucketName,
        horizonDays: 400,
        pseudonymKey: Buffer.alloc(32, 7),
        closeAfterMinutes: 30,
        watchedPorts: ['tcp/445'],
        publicBaseUrl: 'https://cdn.example',
        dynamoEndpoint: inject('dynamoEndpoint'),
        s3Endpoint: inject('s3Endpoint'),
      },
      silentLog,
      { clock: () => noon + 3_600_000 },
    );
    let calls = 0;
    failing.deps.renderChart = async () => {
      if (++calls === 3) throw new Error('renderer crashed');
      return { svg: '<svg/>', png: Buffer.from('not a png') };
    };
    await expect(failing.run()).rejects.toThrow('renderer crashed');
    const after = await object('public/alerts-daily.json');
    expect(after.body.equals(before.body)).toBe(true);
    expect((await object('public/alerts-daily.png')).body.subarray(1, 4).toString()).toBe('PNG');
  });

  it('reads many sensor-days by one Scan with exactly what a Query per sensor-day gives', async () => {
    const sensors = ['sensor-a', 'sensor-b', 'sensor-none'];
    const days = [dayName(3), d2, d1, today];
    const byQuery = await h.ledger.readSensorDays(sensors, days, { scanFrom: Infinity });
    const byScan = await h.ledger.readSensorDays(sensors, days, { scanFrom: 1 });
    // Day -2: A's batch (and the earlier test's late batch of B); day -1: A's and B's; none of the unknown sensor.
    expect([...byQuery.keys()]).toEqual(expect.arrayContaining([`${d1}/sensor-a`, `${d1}/sensor-b`, `${d2}/sensor-a`]));
    expect([...byQuery.keys()].filter((k) => k.endsWith('/sensor-none') || k.startsWith(dayName(3)))).toEqual([]);
    expect(byQuery.get(`${d1}/sensor-a`)!.contributions.map((c) => c.aggregate.total).reduce((x, y) => x + y, 0)).toBe(5);
    expect(new Map([...byScan].sort())).toEqual(new Map([...byQuery].sort()));
  });
});
