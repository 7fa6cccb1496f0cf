/**
 * The daily close on the engine (DESIGN §§6, 13): compacts the closed days' staging facts into one Parquet
 * object per day, and computes each day's distinct sources (in all, per sensor, per port) and every day's new
 * sources from the compact first-seen table.
 *
 * Cost: the objects of the days being closed (their staging objects and, for a re-opened day, its Parquet)
 * plus the first-seen table — one row per source ever seen — never the history's alerts.
 *
 * What is fetched: the Parquet of the days being closed, and the staging objects of the batches counted on those
 * days that the Parquet does not hold yet — their keys come from the counters (sensor, Idempotency-Key, the
 * batch's earliest day), so nothing is listed and a re-opened day costs its new batches, not its old ones.
 *
 * Idempotent, whatever runs twice or stops half way:
 *  - a day's Parquet is rewritten whole from what it held plus the staged rows of that day it did not hold yet
 *    (recognised by the `batch` column), then every staging object whose days are all compacted is deleted;
 *  - the first-seen table is rewritten whole as the minimum first day per source of what it held and the
 *    closed days' facts, so closing a day again changes nothing;
 *  - new sources are read back from the table for every day (a source is new on its first day), so a late
 *    batch that moves a source's first day back changes the later day it was counted on, too.
 * Only batches that are counted (their contribution for the day exists) are compacted: facts of a batch whose
 * contribution was never written stay in staging until a retry counts it.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FIRST_SEEN_KEY, factsKey, stagingKey } from '../publish/layout.js';
import type { Log } from '../log.js';
import { mapLimit } from '../stats/daily.js';
import { LakeEngine } from './engine.js';
import {
  CLOSE_FACTS,
  copyDaysToParquet,
  EMPTY_FACTS,
  inList,
  parquetFacts,
  stagingFacts,
  DAY_SOURCES,
  MERGE_FIRST_SEEN,
  PORT_FIGURES,
  readFirstSeen,
  SENSOR_SOURCES,
  SIGNATURE_NAMES,
  writeFirstSeen,
} from './sql.js';
import type { S3Lake } from './store.js';
import { closeDayStatisticsQuery, type ScanThresholds } from './statistics.js';

export interface CloseDeps {
  lake: S3Lake;
  /** Where the close brings its objects and the engine spills (Lambda: /tmp); a fresh directory per close. */
  scratchDir: string;
  /** DuckDB memory limit, e.g. '6GB' on a 10 GB function. */
  memoryLimit?: string;
  log: Log;
  /** Scan thresholds (DESIGN §14); default 20 ports or 20 destinations per source-day. */
  thresholds?: ScanThresholds;
}

export interface DayToClose {
  day: string;
  /** Batches counted on that day: `sensor/idempotencyKey` → the batch's earliest day (where its facts are). */
  counted: ReadonlyMap<string, string>;
}

export interface ClosedDayFigures {
  /** Facts of the day after compaction. */
  alerts: number;
  sources: number;
  sourcesBySensor: Record<string, number>;
  /** `tcp/445` → distinct sources. */
  sourcesByPort: Record<string, number>;
  /** Signature key (id, or `msg:<text>` without one) → text, for labels. */
  signatureNames: Record<string, string>;
  /** Scan alerts and new sources of unknown traffic (DESIGN §14). */
  scanAlerts: number;
  newUnknownSources: number;
}

export interface CloseResult {
  days: Map<string, ClosedDayFigures>;
  /** New sources of every day the first-seen table holds (days absent: none). */
  newSources: Map<string, number>;
  /** Staging objects compacted (and deleted). */
  compactedObjects: number;
  ms: { fetch: number; compact: number; figures: number; store: number };
}

const FETCH_CONCURRENCY = 32;

/** `staging/<day>/<sensor>/<key>.csv` → `sensor/key`, the batch column's value. */
function batchOfStagingKey(key: string): string {
  const [, , sensor, file] = key.split('/');
  return `${sensor}/${file!.slice(0, -'.csv'.length)}`;
}

export async function closeDays(deps: CloseDeps, days: readonly DayToClose[]): Promise<CloseResult> {
  const t0 = Date.now();
  await mkdir(deps.scratchDir, { recursive: true });
  const work = await mkdtemp(join(deps.scratchDir, 'close-'));
  const engine = await LakeEngine.open({ scratchDir: work, memoryLimit: deps.memoryLimit });
  try {
    // 1. The days' current Parquet, and which batches each already holds.
    const wanted = new Set(days.map((d) => d.day));
    const existing = (await deps.lake.listFacts()).filter((o) => wanted.has(/day=(\d{4}-\d{2}-\d{2})\//.exec(o.key)?.[1] ?? ''));
    const firstSeenPath = join(work, 'first-seen-old.parquet');
    const [, hasFirstSeen] = await Promise.all([
      mapLimit(existing, FETCH_CONCURRENCY, (o) => deps.lake.download(o.key, join(work, 'old', o.key), { etag: o.etag, cached: true })),
      deps.lake.download(FIRST_SEEN_KEY, firstSeenPath, { cached: true }),
    ]);
    const oldGlob = existing.length > 0 ? join(work, 'old', 'facts', '*', '*.parquet') : undefined;
    await engine.run(`CREATE TABLE old AS SELECT * FROM (${oldGlob ? parquetFacts(oldGlob) : EMPTY_FACTS}) WHERE day IN ${inList([...wanted])}`);
    const held = new Set<string>();
    for (const r of await engine.rows<{ day: string; batch: string }>(`SELECT DISTINCT day, batch FROM old`)) held.add(`${r.day} ${r.batch}`);

    // 2. The staging objects of counted batch days the Parquet does not hold yet.
    await engine.run(`CREATE TABLE counted (day VARCHAR, batch VARCHAR)`);
    const pairs: [string, string][] = [];
    const staged = new Map<string, string>();
    for (const { day, counted } of days) {
      for (const [batch, firstDay] of counted) {
        if (held.has(`${day} ${batch}`)) continue;
        pairs.push([day, batch]);
        const slash = batch.indexOf('/');
        const key = stagingKey(firstDay, batch.slice(0, slash), batch.slice(slash + 1));
        staged.set(key, join(work, key));
      }
    }
    await engine.appendRows('counted', pairs);
    const found = await mapLimit([...staged], FETCH_CONCURRENCY, ([key, path]) => deps.lake.download(key, path));
    const fetched = [...staged.keys()].filter((_, i) => found[i]);
    const t1 = Date.now();

    // 3. The days' facts, each counted batch day once; rewrite the days that gained rows. A staging object is
    // deleted once all its days are closed (in this chunk, or before it: days close in order).
    await engine.run(`CREATE TABLE staged AS ${fetched.length > 0 ? stagingFacts(join(work, 'staging', '*', '*', '*.csv')) : EMPTY_FACTS}`);
    await engine.run(`CREATE TABLE facts AS ${CLOSE_FACTS}`);
    const changed = (await engine.rows<{ day: string }>(`SELECT DISTINCT s.day FROM staged s JOIN counted c ON c.day = s.day AND c.batch = s.batch ORDER BY 1`)).map((r) => r.day);
    const lastDay = [...wanted].sort().at(-1)!;
    const keyOf = new Map([...staged.keys()].map((key) => [batchOfStagingKey(key), key]));
    const done = (await engine.rows<{ batch: string; last: string }>(`SELECT batch, max(day) AS last FROM staged GROUP BY batch`))
      .filter((r) => r.last <= lastDay)
      .map((r) => keyOf.get(r.batch)!);
    if (changed.length > 0) await engine.run(copyDaysToParquet('facts', changed, join(work, 'new')));
    const t2 = Date.now();

    // 3. Figures of the closed days, and the first-seen table with them.
    const result: CloseResult = { days: new Map(), newSources: new Map(), compactedObjects: 0, ms: { fetch: t1 - t0, compact: t2 - t1, figures: 0, store: 0 } };
    for (const { day } of days) result.days.set(day, { alerts: 0, sources: 0, sourcesBySensor: {}, sourcesByPort: {}, signatureNames: {}, scanAlerts: 0, newUnknownSources: 0 });
    for (const r of await engine.rows<{ day: string; alerts: number }>(`SELECT day, count(*) AS alerts FROM facts GROUP BY day`)) {
      result.days.get(r.day)!.alerts = r.alerts;
    }
    for (const r of await engine.rows<{ day: string; sources: number }>(DAY_SOURCES)) result.days.get(r.day)!.sources = r.sources;
    for (const r of await engine.rows<{ day: string; sensor: string; sources: number }>(SENSOR_SOURCES)) {
      result.days.get(r.day)!.sourcesBySensor[r.sensor] = r.sources;
    }
    for (const r of await engine.rows<{ day: string; port: string; sources: number }>(PORT_FIGURES)) {
      result.days.get(r.day)!.sourcesByPort[r.port] = r.sources;
    }
    for (const r of await engine.rows<{ day: string; sig: string; name: string }>(SIGNATURE_NAMES)) {
      result.days.get(r.day)!.signatureNames[r.sig] = r.name;
    }
    await engine.run(
      hasFirstSeen
        ? `CREATE TABLE first_seen AS ${readFirstSeen(firstSeenPath)}`
        : `CREATE TABLE first_seen (src VARCHAR, first_day VARCHAR)`,
    );
    await engine.run(`CREATE TABLE first_seen_next AS ${MERGE_FIRST_SEEN}`);
    for (const r of await engine.rows<{ day: string; n: number }>(`SELECT first_day AS day, count(*) AS n FROM first_seen_next GROUP BY first_day`)) {
      result.newSources.set(r.day, r.n);
    }
    // The statistics of DESIGN §14 that `stats` shows per day, over the new first-seen table.
    await engine.run(`DROP TABLE first_seen`);
    await engine.run(`ALTER TABLE first_seen_next RENAME TO first_seen`);
    for (const r of await engine.rows<{ day: string; scan_alerts: number; new_unknown_sources: number }>(closeDayStatisticsQuery([...wanted], deps.thresholds))) {
      const figures = result.days.get(r.day)!;
      figures.scanAlerts = r.scan_alerts;
      figures.newUnknownSources = r.new_unknown_sources;
    }
    const firstSeenNext = join(work, 'first-seen.parquet');
    await engine.run(writeFirstSeen('first_seen', firstSeenNext));
    const t3 = Date.now();

    // 4. Store: the days' Parquet first, then the staging objects they now hold go, then the first-seen table.
    // A stop anywhere leaves objects a rerun reads back to the same result.
    await mapLimit(changed, 8, (day) => deps.lake.upload(join(work, 'new', `day=${day}`, 'part-0.parquet'), factsKey(day)));
    await deps.lake.delete(done);
    result.compactedObjects = done.length;
    await deps.lake.upload(firstSeenNext, FIRST_SEEN_KEY);
    result.ms.figures = t3 - t2;
    result.ms.store = Date.now() - t3;
    deps.log.info('lake close', { days: days.length, compacted: done.length, ...result.ms });
    return result;
  } finally {
    engine.close();
    await rm(work, { recursive: true, force: true });
  }
}
