/**
 * The lake end to end on DynamoDB Local, s3rver and DuckDB: facts compacted by the close, a close cut short
 * half way and resumed, a late batch that moves a first sighting back, facts without addresses, and the
 * read-only query. Figures are worked out by hand from the batches below.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localDynamoClient, localS3Client } from '../../lib/local/aws-clients.js';
import { S3Lake } from '../../lib/lake/store.js';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { RenderService } from '../../lib/render/service.js';
import { SummaryStore } from '../../lib/store/summaries.js';
import { FactsSessions, openFactsSession, runReadOnlyQuery, type FactsSession } from '../../lib/lake/query.js';
import { FIRST_SEEN_KEY, FIRST_SEEN_PREFIX, firstSeenKey, firstSeenPartOf, PARTNER_STATISTICS_KEY, PUBLIC_KEYS, RENDER_PENDING_KEY, STAGING_PREFIX } from '../../lib/publish/layout.js';
import { closeDays } from '../../lib/lake/close.js';
import type { FreeSpace } from '../../lib/lake/scratch.js';
import { buildPartnerStatistics, type PartnerStatistics, type StatisticsEngine } from '../../lib/lake/report.js';
import { LakeEngine } from '../../lib/lake/engine.js';
import { ensureBucket } from '../../lib/local/provision.js';
import { silentLog } from '../../lib/log.js';
import { eveAlert } from '../helpers/eve.js';
import { harnessRenderService, ndjsonBatch, postBatch, startHarness, type Harness, type TestSensor } from '../helpers/harness.js';
import { today, noon, dayMs, dayName } from '../helpers/days.js';

/** A moment of today that has already passed whenever the test runs (ingest refuses alerts from the future). */
const todaySoFar = () => Math.max(Date.parse(`${today}T00:00:00Z`), Date.now() - 60_000);
const scratch = join(tmpdir(), 'alertgraph-test');

let h: Harness;
let s: TestSensor;
let summaries: SummaryStore;

function alerts(day: number, sources: string[], port = 445): string[] {
  return sources.map((src, i) => eveAlert({ time: dayMs(day) + 3_600_000 + i * 1000, src, dstPort: port }));
}

function renderService(
  deps: {
    closeChunkAlerts?: number;
    afterClose?: (days: readonly string[]) => Promise<void>;
    scratchFree?: FreeSpace;
    distributedStatistics?: StatisticsEngine;
  } = {},
): RenderService {
  return harnessRenderService(h, { now: noon, deps });
}

async function query(sql: string) {
  const session = await openFactsSession(h.lake, scratch);
  try {
    return await runReadOnlyQuery(session, sql);
  } finally {
    await session.close();
  }
}

async function newSources(days: string[]) {
  const sums = await summaries.getDaySummaries(days);
  return days.map((d) => sums.get(d)?.newSources);
}

beforeAll(async () => {
  h = await startHarness();
  s = await h.addSensor('lake-a', { deployedAt: dayName(4) });
  summaries = new SummaryStore(localDynamoClient(inject('dynamoEndpoint')), h.config.tableName);
  // Four days, one batch each (two on day -3). New sources per day by hand:
  // -4: {1, 2} → 2 new; -3: {2, 3} and {3, 4} → new {3, 4}; -2: {1, 5} → new {5}; -1: {6, 7, 7} → new {6, 7}.
  const batches = [
    alerts(4, ['192.0.2.1', '192.0.2.2']),
    alerts(3, ['192.0.2.2', '192.0.2.3']),
    alerts(3, ['192.0.2.3', '2001:db8::4'], 22),
    alerts(2, ['192.0.2.1', '192.0.2.5']),
    alerts(1, ['192.0.2.6', '192.0.2.7', '192.0.2.7']),
  ];
  for (const lines of batches) expect((await postBatch(h.url, s, ndjsonBatch(s.id, lines))).status).toBe(202);
}, 60_000);
afterAll(async () => h?.close());

describe('the lake', () => {
  it('before any close, every counted alert is visible in facts (staging)', async () => {
    const r = await query('select count(*) as n, count(distinct src) as sources from facts');
    expect(r).toEqual({ columns: ['n', 'sources'], rows: [{ n: 11, sources: 7 }] });
  });

  it('a close cut short after its first chunk resumes at the first unfinished day, with the same figures', async () => {
    // Chunks of at most 2 alerts: day -4 alone is the first chunk (2 alerts), then the failure.
    const failing = renderService({
      closeChunkAlerts: 2,
      afterClose: async (days) => {
        if (days.includes(dayName(3))) throw new Error('injected stop half way');
      },
    });
    await expect(failing.run()).rejects.toThrow('injected stop half way');
    expect((await summaries.getRenderState()).lastClosedDay).toBe(dayName(4));
    expect(await newSources([dayName(4), dayName(3)])).toEqual([2, undefined]);
    // The day recorded as closed is left to the analysis and the warnings of the next run, which the stopped
    // run never reached.
    expect(await h.lake.readJson(RENDER_PENDING_KEY)).toEqual({ analysis: [dayName(4)], warnings: [dayName(4)] });

    await renderService({ closeChunkAlerts: 2 }).run();
    expect((await summaries.getRenderState()).lastClosedDay).toBe(dayName(1));
    expect(await h.lake.readJson(RENDER_PENDING_KEY)).toBeUndefined();
    const days = [dayName(4), dayName(3), dayName(2), dayName(1)];
    const sums = await summaries.getDaySummaries(days);
    expect(days.map((d) => [sums.get(d)?.sources, sums.get(d)?.newSources])).toEqual([
      [2, 2],
      [3, 2],
      [2, 1],
      [2, 2],
    ]);
    expect(sums.get(dayName(3))?.sourcesByPort).toEqual({ 'tcp/445': 2, 'tcp/22': 2 });
    expect(sums.get(dayName(3))?.sourcesBySensor).toEqual({ 'lake-a': 3 });
  });

  it('compacts the counted staging objects into one Parquet object per day', async () => {
    expect(await h.lake.list(STAGING_PREFIX)).toEqual([]);
    const facts = (await h.lake.listFacts()).map((o) => o.key).sort();
    expect(facts).toEqual([4, 3, 2, 1].map((n) => `facts/day=${dayName(n)}/part-0.parquet`));
    // The first-seen table: one object per day with new sources (every day here) of the latest closed day's
    // month, one per month before it.
    const parts = new Set([4, 3, 2, 1].map((n) => firstSeenKey(firstSeenPartOf(dayName(n), dayName(1)))));
    expect((await h.lake.list(FIRST_SEEN_PREFIX)).map((o) => o.key).sort()).toEqual([...parts].sort());
    const r = await query('select day, count(*) as n from facts group by day order by day');
    expect(r.rows).toEqual([
      { day: dayName(4), n: 2 },
      { day: dayName(3), n: 4 },
      { day: dayName(2), n: 2 },
      { day: dayName(1), n: 3 },
    ]);
  });

  it('a late batch that moves a first sighting back re-opens its day and corrects the later day it was new on', async () => {
    // Source 6 (new on day -1) is now also seen on day -3: new there, no longer new on day -1.
    expect((await postBatch(h.url, s, ndjsonBatch(s.id, alerts(3, ['192.0.2.6'], 80)))).status).toBe(202);
    await renderService().run();
    expect(await newSources([dayName(4), dayName(3), dayName(2), dayName(1)])).toEqual([2, 3, 1, 1]);
    const sums = await summaries.getDaySummaries([dayName(3)]);
    expect(sums.get(dayName(3))).toMatchObject({ sources: 4, aggregate: { total: 5 } });
    // Still one Parquet object for the day, holding both batches once.
    const r = await query(`select count(*) as n, count(distinct batch) as batches from facts where day = '${dayName(3)}'`);
    expect(r.rows).toEqual([{ n: 5, batches: 3 }]);
  });

  it('a batch spanning a closed day and today: compacted for the closed day, kept in staging for today, each row once', async () => {
    const lines = [...alerts(1, ['192.0.2.8']), eveAlert({ time: todaySoFar(), src: '192.0.2.9', dstPort: 445 })];
    expect((await postBatch(h.url, s, ndjsonBatch(s.id, lines))).status).toBe(202);
    await renderService().run();
    expect((await h.lake.list(STAGING_PREFIX)).map((o) => o.key)).toHaveLength(1);
    const r = await query(`select day, count(*) as n from facts where day >= '${dayName(1)}' group by day order by day`);
    expect(r.rows).toEqual([
      { day: dayName(1), n: 4 },
      { day: today, n: 1 },
    ]);
    // Day -1 gained source 8, new there.
    expect(await newSources([dayName(1)])).toEqual([2]);
    const sums = await summaries.getDaySummaries([dayName(1)]);
    expect(sums.get(dayName(1))?.sources).toBe(3);
  });

  it('runs again with nothing new and changes no figure', async () => {
    const days = [dayName(4), dayName(3), dayName(2), dayName(1)];
    const figures = async () => {
      const sums = await summaries.getDaySummaries(days);
      return days.map((d) => [sums.get(d)?.sources, sums.get(d)?.newSources]);
    };
    const before = await figures();
    await renderService().run();
    expect(await figures()).toEqual(before);
    expect((await query('select count(*) as n from facts')).rows).toEqual([{ n: 14 }]);
  });

  it('holds no string that parses as an IP address, and the documented columns in order', async () => {
    const r = await query('select * from facts');
    expect(r.columns).toEqual(['day', 'time', 'sensor', 'src', 'src_net', 'src_port', 'dst', 'dst_port', 'proto', 'sig_id', 'signature', 'category', 'severity', 'sig_scan', 'batch']);
    const { isIP } = await import('node:net');
    for (const row of r.rows) {
      for (const [column, value] of Object.entries(row)) {
        if (typeof value === 'string') expect(isIP(value), `${column}=${value}`).toBe(0);
      }
      expect(['192.0.0.0/8', '2001::/16']).toContain(row.src_net);
    }
  });

  it('keeps Parquet objects in a local cache by ETag: an unchanged object is not fetched again, a changed one is', async () => {
    const s3 = localS3Client(inject('s3Endpoint'));
    let gets = 0;
    s3.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand') gets++;
      return next(args);
    }, { step: 'initialize', name: 'countGets' });
    const cacheDir = await mkdtemp(join(tmpdir(), 'alertgraph-cache-'));
    const lake = new S3Lake(s3, h.config.bucketName, cacheDir);
    const file = join(cacheDir, 'x.parquet');
    await writeFile(file, 'version 1');
    await lake.upload(file, 'facts/day=2000-01-01/part-0.parquet');
    const [listed] = (await lake.listFacts()).filter((o) => o.key.includes('2000-01-01'));
    // Known ETag (from a listing): copied from the cache, no request.
    expect(await lake.download(listed!.key, join(cacheDir, 'a'), { etag: listed!.etag, cached: true })).toBe(true);
    expect(gets).toBe(0);
    expect(await readFile(join(cacheDir, 'a'), 'utf8')).toBe('version 1');
    // Changed by someone else: the conditional GET brings the new version.
    await writeFile(file, 'version 2');
    await h.lake.upload(file, listed!.key);
    expect(await lake.download(listed!.key, join(cacheDir, 'b'), { cached: true })).toBe(true);
    expect(gets).toBe(1);
    expect(await readFile(join(cacheDir, 'b'), 'utf8')).toBe('version 2');
    // Unchanged since: answered 304, served from the cache.
    expect(await lake.download(listed!.key, join(cacheDir, 'c'), { cached: true })).toBe(true);
    expect(await readFile(join(cacheDir, 'c'), 'utf8')).toBe('version 2');
    await h.lake.delete([listed!.key]);
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('refuses a period whose objects do not fit in the scratch directory, before downloading any', async () => {
    const listed = [...(await h.lake.listFacts()), ...(await h.lake.listStaging()), ...(await h.lake.list(FIRST_SEEN_PREFIX)).filter((o) => o.key.endsWith('.parquet'))];
    const needed = listed.reduce((sum, o) => sum + o.size, 0);
    expect(needed).toBeGreaterThan(0);
    const dir = await mkdtemp(join(tmpdir(), 'alertgraph-scratch-'));
    try {
      // As much free space as the objects take is not enough: a tenth stays for the engine.
      const refused = openFactsSession(h.lake, dir, {}, { free: async () => needed });
      await expect(refused).rejects.toMatchObject({ code: 'scratch_too_small', neededBytes: needed, freeBytes: needed });
      await expect(refused).rejects.toThrow(/^the facts of every day need .* free: nothing was downloaded/);
      expect(await readdir(dir)).toEqual([]);
      // With the headroom, the same period opens, and its facts are all there.
      const session = await openFactsSession(h.lake, dir, {}, { free: async () => Math.ceil(needed / 0.9) + 1 });
      try {
        expect((await runReadOnlyQuery(session, 'select count(*) as n from facts')).rows[0]!.n).toBeGreaterThan(0);
      } finally {
        await session.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('forgets a facts session that could not open, so a shorter period within it opens its own', async () => {
    const sizeOf = async (period: { from?: string; to?: string }) => {
      const inside = (day: string) => (!period.from || day >= period.from) && (!period.to || day <= period.to);
      const facts = (await h.lake.listFacts()).filter((o) => inside(/day=(\d{4}-\d{2}-\d{2})/.exec(o.key)![1]!));
      const staging = (await h.lake.listStaging()).filter((o) => inside(o.key.split('/')[1]!));
      const firstSeen = (await h.lake.list(FIRST_SEEN_PREFIX)).filter((o) => o.key.endsWith('.parquet'));
      return [...facts, ...staging, ...firstSeen].reduce((sum, o) => sum + o.size, 0);
    };
    const whole = { from: dayName(4), to: dayName(1) };
    const oneDay = { from: dayName(1), to: dayName(1) };
    const wholeSize = await sizeOf(whole);
    // Room for one day but not for the four (a tenth of the free space stays for the engine).
    expect(await sizeOf(oneDay)).toBeLessThan(wholeSize * 0.9);
    const dir = await mkdtemp(join(tmpdir(), 'alertgraph-scratch-'));
    const sessions = new FactsSessions(h.lake, dir, undefined, { free: async () => wholeSize });
    try {
      await expect(sessions.get(whole)).rejects.toMatchObject({ code: 'scratch_too_small' });
      const day = await sessions.get(oneDay);
      const rows = (await runReadOnlyQuery(day, `select count(*) as n from facts where day = '${dayName(1)}'`)).rows;
      expect(rows[0]!.n).toBe((await query(`select count(*) as n from facts where day = '${dayName(1)}'`)).rows[0]!.n);
    } finally {
      await sessions.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with no room in the scratch directory for the analysis, still publishes the public graph, then fails saying what it skipped', async () => {
    // A late batch for a closed day: the run has a day to close, a public graph to update, and facts to analyse.
    expect((await postBatch(h.url, s, ndjsonBatch(s.id, alerts(1, ['203.0.113.90'], 22)))).status).toBe(202);
    const statistics = await h.lake.readJson<PartnerStatistics>(PARTNER_STATISTICS_KEY);
    expect(statistics).toBeDefined();
    await h.lake.delete([PUBLIC_KEYS.json, PUBLIC_KEYS.png]);
    const run = renderService({ scratchFree: async () => 1 }).run();
    await expect(run).rejects.toMatchObject({ code: 'render_incomplete' });
    // (No day is old enough for the warnings to judge here, so they need no facts and are not skipped.)
    await expect(run).rejects.toThrow(/^the render published the public graph but skipped the analysis \(the facts of .* need [\d.]+ KiB in .*, which has 1 B free: nothing was downloaded/);
    // The day was closed again and the public graph published, with the late batch's alert counted.
    const published = await h.lake.readJson<{ days: { date: string; total: number }[] }>(PUBLIC_KEYS.json);
    const counted = await query(`select count(*) as n from facts where day = '${dayName(1)}'`);
    expect(published?.days.find((d) => d.date === dayName(1))?.total).toBe(counted.rows[0]!.n);
    expect((await h.lake.list(PUBLIC_KEYS.png)).length).toBe(1);
    expect((await summaries.getDaySummaries([dayName(1)])).get(dayName(1))?.sources).toBe(
      (await query(`select count(distinct src) as n from facts where day = '${dayName(1)}'`)).rows[0]!.n,
    );
    // The partner statistics were not recomputed: they stay as the last run that could compute them left them,
    // and the day is left pending for the analysis (the warnings ran).
    expect(await h.lake.readJson(PARTNER_STATISTICS_KEY)).toEqual(statistics);
    expect(await h.lake.readJson(RENDER_PENDING_KEY)).toEqual({ analysis: [dayName(1)] });
    // With room again, the next run completes, and computes what the skipped run could not, although it closes
    // nothing itself: the late source is in the window's figures of its day.
    await expect(renderService().run()).resolves.toMatchObject({ closedThrough: dayName(1) });
    const day = (st: PartnerStatistics | undefined) => st?.report.perDay.find((d) => d.date === dayName(1));
    expect(day(await h.lake.readJson<PartnerStatistics>(PARTNER_STATISTICS_KEY))?.sources).toBe(day(statistics)!.sources! + 1);
    expect(await h.lake.readJson(RENDER_PENDING_KEY)).toBeUndefined();
  });

  it('with no room for the analysis but a distributed engine, computes the partner statistics there, from self-contained texts', async () => {
    // A late batch with a source never seen before: the run closes its day again, and the window's report
    // changes (one more source and one more new source on that day).
    expect((await postBatch(h.url, s, ndjsonBatch(s.id, alerts(1, ['203.0.113.91'], 80)))).status).toBe(202);
    const before = await h.lake.readJson<PartnerStatistics>(PARTNER_STATISTICS_KEY);
    // The stand-in for Athena: the real engine over the whole lake, opened when the analysis first asks (after
    // the close, as Athena would see the lake then), given each text as it is, with no table kept between them.
    const texts: string[] = [];
    let opening: Promise<FactsSession> | undefined;
    const distributed: StatisticsEngine = {
      run: async (sql) => {
        texts.push(sql);
        opening ??= openFactsSession(h.lake, scratch);
        return (await opening).engine.rows(sql);
      },
    };
    try {
      await expect(renderService({ scratchFree: async () => 1, distributedStatistics: distributed }).run()).resolves.toMatchObject({ closedThrough: dayName(1) });
      const stored = await h.lake.readJson<PartnerStatistics>(PARTNER_STATISTICS_KEY);
      expect(texts.length).toBeGreaterThan(0);
      // Nothing the embedded engine alone understands, and nothing that keeps a table between statements.
      expect(texts.filter((t) => /NOT MATERIALIZED|CREATE|classified_all/i.test(t))).toEqual([]);
      // The late source is in the window's figures: the statistics were computed by this run.
      const day = (st: PartnerStatistics | undefined) => st?.report.perDay.find((d) => d.date === dayName(1));
      expect(day(stored)?.sources).toBe((day(before)?.sources ?? 0) + 1);
      expect(day(stored)?.newSources).toBe((day(before)?.newSources ?? 0) + 1);
      // And they are what the embedded engine makes of the same window with its classified table.
      const session = await opening!;
      const window = { from: stored!.report.from, to: stored!.report.to };
      const embedded = await buildPartnerStatistics(session.engine.statistics, window, { isClosed: (d) => d <= dayName(1), watchedPorts: ['tcp/445'] });
      expect(stored).toEqual(embedded);
    } finally {
      await (await opening)?.close();
    }
  });

  it('when the distributed engine fails the statistics, still publishes the public graph, keeps the day pending, and fails saying why', async () => {
    expect((await postBatch(h.url, s, ndjsonBatch(s.id, alerts(1, ['203.0.113.92'], 80)))).status).toBe(202);
    const statistics = await h.lake.readJson<PartnerStatistics>(PARTNER_STATISTICS_KEY);
    const failing: StatisticsEngine = {
      run: async () => {
        throw new Error('Query exhausted resources: bytes scanned limit was exceeded');
      },
    };
    const run = renderService({ scratchFree: async () => 1, distributedStatistics: failing }).run();
    await expect(run).rejects.toMatchObject({ code: 'render_incomplete' });
    await expect(run).rejects.toThrow(/skipped the analysis \(the distributed engine failed: Query exhausted resources: bytes scanned limit/);
    const published = await h.lake.readJson<{ days: { date: string; total: number }[] }>(PUBLIC_KEYS.json);
    expect(published?.days.find((d) => d.date === dayName(1))?.total).toBe((await query(`select count(*) as n from facts where day = '${dayName(1)}'`)).rows[0]!.n);
    expect(await h.lake.readJson(PARTNER_STATISTICS_KEY)).toEqual(statistics);
    expect(await h.lake.readJson(RENDER_PENDING_KEY)).toEqual({ analysis: [dayName(1)] });
    await expect(renderService().run()).resolves.toMatchObject({ closedThrough: dayName(1) });
    expect(await h.lake.readJson(RENDER_PENDING_KEY)).toBeUndefined();
  });

  it('refuses anything but one read-only statement', async () => {
    for (const sql of [
      'drop table facts',
      'create table x as select * from facts',
      'select 1; select 2',
      "copy (select * from facts) to '/tmp/x.csv'",
      "attach '/tmp/x.db' as x",
      'pragma version',
    ]) {
      await expect(query(sql), sql).rejects.toMatchObject({ code: 'query_refused' });
    }
    // A SELECT cannot reach files outside the session's copy of the facts.
    await expect(query("select * from read_csv('/etc/passwd')")).rejects.toMatchObject({ code: 'query_invalid' });
  });
});

describe('the close on its own', () => {
  const day = (n: number) => `2000-01-0${n}`;
  const at = (n: number, hour: number) => Date.parse(`${day(n)}T${String(hour).padStart(2, '0')}:00:00Z`);
  // A staging row in the order of STAGING_COLUMNS (lib/lake/facts.ts).
  const row = (time: number, src: string) => `${time},${src},192.0.0.0/8,40000,dst-1,445,tcp,2001219,"ET SCAN probe","Attempted Information Leak",2,true\n`;

  it('splits an older one-object first-seen table into day objects, moves a source back, and changes nothing when run again', async () => {
    const s3 = localS3Client(inject('s3Endpoint'));
    const bucket = `close-${Date.now().toString(36)}`;
    await ensureBucket(s3, bucket);
    const lake = new S3Lake(s3, bucket);
    const work = await mkdtemp(join(tmpdir(), 'alertgraph-close-'));
    try {
      // Before: A first seen on day 1, B on day 3, in the one-object table of before the day objects.
      const engine = await LakeEngine.open({ scratchDir: work });
      const legacy = join(work, 'legacy.parquet');
      await engine.run(`COPY (SELECT * FROM (VALUES ('A', '${day(1)}'), ('B', '${day(3)}')) t(src, first_day)) TO '${legacy}' (FORMAT parquet)`);
      engine.close();
      await lake.upload(legacy, FIRST_SEEN_KEY);
      // A late batch for day 2 with A, B and C; its last row falls on day 4, not closed here.
      await lake.writeFacts(day(2), 's1', 'k1', row(at(2, 1), 'A') + row(at(2, 2), 'B') + row(at(2, 3), 'C') + row(at(4, 1), 'D'));
      const close = () =>
        closeDays({ lake, scratchDir: work, log: silentLog }, [{ day: day(2), counted: new Map([['s1/k1', day(2)]]) }]);

      const first = await close();
      // New sources by hand: day 1 {A}; day 2 {B (moved back from day 3), C}; day 3 none left.
      expect(Object.fromEntries(first.newSources)).toEqual({ [day(1)]: 1, [day(2)]: 2 });
      expect(first.days.get(day(2))).toMatchObject({ alerts: 3, sources: 3, sourcesByPort: { 'tcp/445': 3 } });
      expect((await lake.list(FIRST_SEEN_PREFIX)).map((o) => o.key).sort()).toEqual([firstSeenKey(`day=${day(1)}`), firstSeenKey(`day=${day(2)}`)]);
      // The staging object still has a row of day 4: it stays.
      expect(first.compactedObjects).toBe(0);
      expect((await lake.list(STAGING_PREFIX)).length).toBe(1);

      const again = await close();
      expect(Object.fromEntries(again.newSources)).toEqual({ [day(1)]: 1, [day(2)]: 2 });
      expect(again.days.get(day(2))).toEqual(first.days.get(day(2)));
      expect((await lake.list(FIRST_SEEN_PREFIX)).map((o) => o.key).sort()).toEqual([firstSeenKey(`day=${day(1)}`), firstSeenKey(`day=${day(2)}`)]);
      // A close in the next month folds January's day objects into one month object.
      await lake.writeFacts('2000-02-01', 's1', 'k2', row(Date.parse('2000-02-01T05:00:00Z'), 'E') + row(Date.parse('2000-02-01T06:00:00Z'), 'A'));
      const february = await closeDays({ lake, scratchDir: work, log: silentLog }, [{ day: '2000-02-01', counted: new Map([['s1/k2', '2000-02-01']]) }]);
      expect(Object.fromEntries(february.newSources)).toEqual({ [day(1)]: 1, [day(2)]: 2, '2000-02-01': 1 });
      expect((await lake.list(FIRST_SEEN_PREFIX)).map((o) => o.key).sort()).toEqual([firstSeenKey('day=2000-02-01'), firstSeenKey('month=2000-01')]);
      const session = await openFactsSession(lake, work);
      try {
        const r = await runReadOnlyQuery(session, `select day, count(*) as n, count(distinct batch) as batches from facts group by day order by day`);
        expect(r.rows).toEqual([
          { day: day(2), n: 3, batches: 1 },
          { day: day(4), n: 1, batches: 1 },
          { day: '2000-02-01', n: 2, batches: 1 },
        ]);
        const fs = await runReadOnlyQuery(session, `select src, first_day from first_seen order by src`);
        expect(fs.rows).toEqual([
          { src: 'A', first_day: day(1) },
          { src: 'B', first_day: day(2) },
          { src: 'C', first_day: day(2) },
          { src: 'E', first_day: '2000-02-01' },
        ]);
      } finally {
        await session.close();
      }
    } finally {
      await rm(work, { recursive: true, force: true });
      s3.destroy();
    }
  });
});
