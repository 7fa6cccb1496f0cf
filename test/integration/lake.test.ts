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
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { RenderService } from '../../lib/render/service.js';
import { SummaryStore } from '../../lib/store/summaries.js';
import { openFactsSession, runReadOnlyQuery } from '../../lib/lake/query.js';
import { FIRST_SEEN_PREFIX, firstSeenKey, STAGING_PREFIX } from '../../lib/publish/layout.js';
import { eveAlert } from '../helpers/eve.js';
import { harnessRenderService, ndjsonBatch, postBatch, startHarness, type Harness, type TestSensor } from '../helpers/harness.js';

const DAY = 86_400_000;
const today = new Date().toISOString().slice(0, 10);
const noon = Date.parse(`${today}T12:00:00Z`);
const dayMs = (n: number) => Date.parse(`${today}T00:00:00Z`) - n * DAY;
const dayName = (n: number) => new Date(dayMs(n)).toISOString().slice(0, 10);
const scratch = join(tmpdir(), 'alertgraph-test');

let h: Harness;
let s: TestSensor;
let summaries: SummaryStore;

function alerts(day: number, sources: string[], port = 445): string[] {
  return sources.map((src, i) => eveAlert({ time: dayMs(day) + 3_600_000 + i * 1000, src, dstPort: port }));
}

function renderService(deps: { closeChunkAlerts?: number; afterClose?: (days: readonly string[]) => Promise<void> } = {}): RenderService {
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

    await renderService({ closeChunkAlerts: 2 }).run();
    expect((await summaries.getRenderState()).lastClosedDay).toBe(dayName(1));
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
    // The first-seen table: one object per day that has new sources (every day here), nothing else.
    expect((await h.lake.list(FIRST_SEEN_PREFIX)).map((o) => o.key).sort()).toEqual([4, 3, 2, 1].map((n) => firstSeenKey(dayName(n))));
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
    // Today, and not in the future for ingest (which refuses alerts more than 5 minutes ahead of its clock).
    const earlierToday = Math.max(Date.parse(`${today}T00:00:00Z`), Math.min(noon - 3_600_000, Date.now() - 60_000));
    const lines = [...alerts(1, ['192.0.2.8']), eveAlert({ time: earlierToday, src: '192.0.2.9', dstPort: 445 })];
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
