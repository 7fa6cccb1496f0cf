/**
 * The daily close on the engine (DESIGN §§6, 13): compacts the closed days' staging facts into one Parquet
 * object per day, and computes each day's distinct sources (in all, per sensor, per port) and every day's new
 * sources from the compact first-seen table.
 *
 * Cost: the objects of the days being closed (their staging objects and, for a re-opened day, its Parquet)
 * plus the first-seen table — one row per source ever seen, read — never the history's alerts; what it writes
 * is the closed days' Parquet and the first-seen rows of the days that gained (or lost) sources.
 *
 * What is fetched: the Parquet of the days being closed, the first-seen day objects, and the staging objects of
 * the batches counted on those days that the Parquet does not hold yet — their keys come from the counters
 * (sensor, Idempotency-Key, the batch's earliest day), so no staging is listed and a re-opened day costs its new
 * batches, not its old ones.
 *
 * How (each statement timed on its own over the 1 M-alert day of bench/lake.ts): the staged CSV is read once,
 * with its column types given (no sniffing), and written straight to Parquet with the rewritten days' old rows
 * — no table in between and no sort; an object's sensor and batch come from a join on its number, which its
 * local path gives as a Hive partition, not from a regular expression per row. The figures read that Parquet.
 *
 * Idempotent, whatever runs twice or stops half way:
 *  - a day's Parquet is rewritten whole from what it held plus the staged rows of that day it did not hold yet
 *    (recognised by the `batch` column), then every staging object whose days are all compacted is deleted;
 *  - the first-seen table is one object per first day of the latest closed month, one per month before (see
 *    firstSeenPartOf): a close adds its new sources to their object and, when a late batch shows a source
 *    earlier, drops it from the later object; closing a day again finds nothing new and writes nothing. A stop between those writes leaves a source in two objects for a while;
 *    the next close (the same days, since their progress was not recorded) drops it from the later one;
 *  - new sources are read back from the table for every day (a source is new on its first day), so a late
 *    batch that moves a source's first day back changes the later day it was counted on, too.
 * Only batches that are counted (their contribution for the day exists) are compacted: facts of a batch whose
 * contribution was never written stay in staging until a retry counts it.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FIRST_SEEN_PREFIX, factsKey, firstSeenKey, firstSeenPart, firstSeenPartOf, stagingKey } from '../publish/layout.js';
import { addDays } from '../util/days.js';
import type { Log } from '../log.js';
import { mapLimit } from '../util/map-limit.js';
import { LakeEngine } from './engine.js';
import {
  CLOSE_DAY_FIGURES,
  CLOSE_SOURCE_DAYS,
  CLOSE_TABLES,
  copyCloseFacts,
  copyFirstSeen,
  EMPTY_FACTS,
  fileList,
  fileRows,
  firstSeenPerDay,
  firstSeenUpdate,
  literal,
  NOT_TAKEN,
  PARQUET_COLUMNS,
  parquetFacts,
  PORT_SOURCES_PER_DAY,
  readFirstSeen,
  SENSOR_SOURCES,
  SIGNATURE_NAMES,
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
const DAY_MS = 86_400_000;

const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / DAY_MS;

export async function closeDays(deps: CloseDeps, days: readonly DayToClose[]): Promise<CloseResult> {
  const t0 = Date.now();
  await mkdir(deps.scratchDir, { recursive: true });
  const work = await mkdtemp(join(deps.scratchDir, 'close-'));
  const engine = await LakeEngine.open({ scratchDir: work, memoryLimit: deps.memoryLimit });
  try {
    // No statement of the close needs its rows in order: let DuckDB write and aggregate in parallel.
    await engine.run(`SET preserve_insertion_order = false`);
    const wanted = new Set(days.map((d) => d.day));
    const lastDay = [...wanted].sort().at(-1)!;

    // 1. The days' current Parquet and the first-seen table (both from the ETag cache when it is current).
    const [listedFacts, listedFirstSeen] = await Promise.all([deps.lake.listFacts(), deps.lake.list(FIRST_SEEN_PREFIX)]);
    const existing = listedFacts.filter((o) => wanted.has(/^facts\/day=(\d{4}-\d{2}-\d{2})\//.exec(o.key)?.[1] ?? ''));
    const firstSeenObjects = listedFirstSeen.filter((o) => o.key.endsWith('.parquet'));
    const localFirstSeen = (key: string) => join(work, 'first-seen', key.slice(FIRST_SEEN_PREFIX.length));
    await Promise.all([
      mapLimit(existing, FETCH_CONCURRENCY, (o) => deps.lake.download(o.key, join(work, 'old', o.key), { etag: o.etag, cached: true })),
      mapLimit(firstSeenObjects, FETCH_CONCURRENCY, (o) => deps.lake.download(o.key, localFirstSeen(o.key), { etag: o.etag, cached: true })),
    ]);
    // A day is one object as the close writes it; should it hold more (written by another tool), all are read
    // and the rewritten day replaces them.
    const oldByDay = new Map<string, { key: string; path: string }[]>();
    for (const o of existing) {
      const day = /day=(\d{4}-\d{2}-\d{2})\//.exec(o.key)![1]!;
      oldByDay.set(day, [...(oldByDay.get(day) ?? []), { key: o.key, path: join(work, 'old', o.key) }]);
    }
    const held = new Set<string>();
    if (oldByDay.size > 0) {
      const sql = `SELECT DISTINCT day, batch FROM (${parquetFacts(join(work, 'old', 'facts', '*', '*.parquet'))})`;
      for (const r of await engine.rows<{ day: string; batch: string }>(sql)) held.add(`${r.day} ${r.batch}`);
    }

    // 2. The staging objects of counted batch days the Parquet does not hold yet, object n at stage/b=n/s.csv.
    const objectOf = new Map<string, number>();
    const objects: { key: string; sensor: string; batch: string }[] = [];
    const counted: [number, string][] = [];
    for (const { day, counted: batches } of days) {
      for (const [batch, firstDay] of batches) {
        if (held.has(`${day} ${batch}`)) continue;
        const slash = batch.indexOf('/');
        const key = stagingKey(firstDay, batch.slice(0, slash), batch.slice(slash + 1));
        let n = objectOf.get(key);
        if (n === undefined) {
          objectOf.set(key, (n = objects.length));
          objects.push({ key, sensor: batch.slice(0, slash), batch });
        }
        counted.push([n, day]);
      }
    }
    const stagePath = (n: number) => join(work, 'stage', `b=${n}`, 's.csv');
    const found = await mapLimit(objects, FETCH_CONCURRENCY, (o) => deps.lake.download(o.key, stagePath(objectOf.get(o.key)!)));
    const fetched = objects.map((o, n) => ({ ...o, n })).filter((_, n) => found[n]);
    const t1 = Date.now();

    // 3. One pass: the staged rows and the rewritten days' old rows straight into a Parquet file per day.
    for (const sql of CLOSE_TABLES) await engine.run(sql);
    await engine.appendRows('close_objects', fetched.map((o) => [String(o.n), o.sensor, o.batch]));
    const fetchedNumbers = new Set(fetched.map((o) => o.n));
    await engine.appendRows(
      'close_counted',
      counted.filter(([n]) => fetchedNumbers.has(n)).map(([n, day]) => [String(n), String(dayNumber(day)), day]),
    );
    const gaining = [...new Set(counted.filter(([n]) => fetchedNumbers.has(n)).map(([, day]) => day))].sort();
    const out = join(work, 'new');
    let parts = new Map<string, string>();
    if (gaining.length > 0) {
      const old = gaining.flatMap((d) => (oldByDay.get(d) ?? []).map((o) => o.path));
      await engine.run(`SET partitioned_write_max_open_files = ${gaining.length + 2}`);
      await engine.run(copyCloseFacts(fetched.length > 0 ? join(work, 'stage', '*', '*.csv') : undefined, old, out));
      parts = await onePerPartition(engine, out, 'part');
    }
    const written = new Map([...parts].filter(([part]) => part !== NOT_TAKEN));
    // A staging object goes once every day it has rows on is closed (in this chunk, or before it: days close
    // in order): the rows it has past the chunk are in the not-taken part.
    const notTaken = parts.get(NOT_TAKEN);
    const pending = new Set<string>();
    if (notTaken) {
      const sql = `SELECT DISTINCT batch FROM read_parquet(${literal(notTaken)}) WHERE time >= ${literal(`${addDays(lastDay, 1)} 00:00:00`)}::TIMESTAMP`;
      for (const r of await engine.rows<{ batch: string }>(sql)) pending.add(r.batch);
    }
    const done = fetched.filter((o) => !pending.has(o.batch)).map((o) => o.key);
    // The closed days' facts: the days just written, and the others as their Parquet holds them.
    // One reader per kind of file (not one per day: a first close of a long history has hundreds of days), the
    // day from the path as the Hive partition it is.
    const columns = PARQUET_COLUMNS.map((c) => c.name).join(', ');
    const newFiles = [...wanted].filter((d) => written.has(d)).map((d) => written.get(d)!);
    const oldFiles = [...wanted].filter((d) => !written.has(d)).flatMap((d) => (oldByDay.get(d) ?? []).map((o) => o.path));
    const readers = [
      ...(newFiles.length > 0 ? [`SELECT part AS day, ${columns} FROM ${hiveParquet(newFiles, 'part')}`] : []),
      ...(oldFiles.length > 0 ? [`SELECT day, ${columns} FROM ${hiveParquet(oldFiles, 'day')}`] : []),
    ];
    await engine.run(`CREATE VIEW facts AS ${readers.length > 0 ? readers.join(' UNION ALL ') : EMPTY_FACTS}`);
    const t2 = Date.now();

    // 4. Figures of the closed days.
    const result: CloseResult = { days: new Map(), newSources: new Map(), compactedObjects: 0, ms: { fetch: t1 - t0, compact: t2 - t1, figures: 0, store: 0 } };
    for (const { day } of days) result.days.set(day, { alerts: 0, sources: 0, sourcesBySensor: {}, sourcesByPort: {}, signatureNames: {}, scanAlerts: 0, newUnknownSources: 0 });
    await engine.run(CLOSE_SOURCE_DAYS);
    for (const r of await engine.rows<{ day: string; alerts: number; sources: number }>(CLOSE_DAY_FIGURES)) {
      const figures = result.days.get(r.day)!;
      figures.alerts = r.alerts;
      figures.sources = r.sources;
    }
    for (const r of await engine.rows<{ day: string; sensor: string; sources: number }>(SENSOR_SOURCES)) {
      result.days.get(r.day)!.sourcesBySensor[r.sensor] = r.sources;
    }
    for (const r of await engine.rows<{ day: string; ports: string }>(PORT_SOURCES_PER_DAY)) {
      const byPort = result.days.get(r.day)!.sourcesByPort;
      for (const pair of r.ports.split(',')) {
        const eq = pair.indexOf('=');
        byPort[pair.slice(0, eq)] = Number(pair.slice(eq + 1));
      }
    }
    for (const r of await engine.rows<{ day: string; sig: string; name: string }>(SIGNATURE_NAMES)) {
      result.days.get(r.day)!.signatureNames[r.sig] = r.name;
    }

    // 5. The first-seen table: only the objects that gain sources (or lose some to a late batch) are
    // rewritten, and when the close enters a new month, the last month's day objects are folded into one. The
    // older one-object table, when there, is split once.
    const firstSeenFiles = firstSeenObjects.map((o) => ({ key: o.key, part: firstSeenPart(o.key), path: localFirstSeen(o.key) }));
    // The latest month any close has reached (a re-opened earlier day does not unfold a month): this close's
    // last day, the days of the day objects, the month after each month object.
    const latest = [lastDay, ...firstSeenFiles.flatMap((f) => {
      if (f.part?.startsWith('day=')) return [f.part.slice('day='.length)];
      if (f.part?.startsWith('month=')) return [addDays(`${f.part.slice('month='.length)}-28`, 4)];
      return [];
    })].sort().at(-1)!;
    const part = (day: string) => firstSeenPartOf(day, latest);
    // Where an object's rows belong now: a day object of a month before the latest closed day's goes to its month.
    const target = (p: string) => (p.startsWith('day=') ? part(p.slice('day='.length)) : p);
    for (const sql of firstSeenUpdate(firstSeenFiles.map((f) => f.path))) await engine.run(sql);
    const legacy = firstSeenFiles.some((f) => f.part === undefined);
    const addedParts = new Set((await engine.rows<{ day: string }>(`SELECT DISTINCT first_day AS day FROM close_added`)).map((r) => part(r.day)));
    const movedFrom = new Set((await engine.rows<{ path: string }>(`SELECT DISTINCT filename AS path FROM close_moved`)).map((r) => r.path));
    const touched = firstSeenFiles.filter(
      (f) => legacy || f.part === undefined || movedFrom.has(f.path) || addedParts.has(f.part) || target(f.part) !== f.part,
    );
    // Every object of a part being rewritten is read into it (a month object gaining last month's days).
    const rewrittenParts = new Set([...addedParts, ...touched.flatMap((f) => (f.part ? [target(f.part)] : []))]);
    for (const f of firstSeenFiles) if (f.part && rewrittenParts.has(f.part) && !touched.includes(f)) touched.push(f);
    const fsOut = join(work, 'first-seen-new');
    const rewritten = new Map<string, string>();
    if (touched.length > 0 || addedParts.size > 0) {
      await engine.run(`SET partitioned_write_max_open_files = ${legacy ? 512 : rewrittenParts.size + 2}`);
      await engine.run(copyFirstSeen(touched.map((f) => f.path), fsOut, latest.slice(0, 7)));
      for (const [value, path] of await onePerPartition(engine, fsOut, 'part')) rewritten.set(value.replace('-', '='), path);
    }
    // Objects no longer needed (all rows moved, folded into a month, or the older table) go; the others are
    // current as downloaded.
    const gone = touched.filter((f) => f.part === undefined || !rewritten.has(f.part)).map((f) => f.key);
    const finalFirstSeen = new Map<string, string>();
    for (const f of firstSeenFiles) if (f.part !== undefined && !gone.includes(f.key)) finalFirstSeen.set(f.part, f.path);
    for (const [p, path] of rewritten) finalFirstSeen.set(p, path);
    // New sources of every day: a day object's number of rows (one row per source first seen that day, from
    // its footer), a month object's rows per day.
    const dayObjects = [...finalFirstSeen].filter(([p]) => p.startsWith('day='));
    const monthObjects = [...finalFirstSeen].filter(([p]) => p.startsWith('month=')).map(([, path]) => path);
    const dayOfPath = new Map(dayObjects.map(([p, path]) => [path, p.slice('day='.length)]));
    if (dayObjects.length > 0) {
      for (const r of await engine.rows<{ path: string; n: number }>(fileRows(dayObjects.map(([, path]) => path)))) {
        if (r.n > 0) result.newSources.set(dayOfPath.get(r.path)!, r.n);
      }
    }
    if (monthObjects.length > 0) {
      for (const r of await engine.rows<{ day: string; n: number }>(firstSeenPerDay(monthObjects))) result.newSources.set(r.day, r.n);
    }
    // The statistics of DESIGN §14 that `stats` shows per day, over the closed days' first-seen rows.
    const closedParts = new Set([...wanted].map(part));
    await engine.run(`CREATE VIEW first_seen AS ${readFirstSeen([...finalFirstSeen].filter(([p]) => closedParts.has(p)).map(([, path]) => path))}`);
    for (const r of await engine.rows<{ day: string; scan_alerts: number; new_unknown_sources: number }>(closeDayStatisticsQuery([...wanted], deps.thresholds))) {
      const figures = result.days.get(r.day)!;
      figures.scanAlerts = r.scan_alerts;
      figures.newUnknownSources = r.new_unknown_sources;
    }
    const t3 = Date.now();

    // 6. Store: the days' Parquet first, then the staging objects they now hold go, then the first-seen day
    // objects, then those it no longer needs. A stop anywhere leaves objects a rerun reads back to the same
    // result (a source briefly in two day objects counts on the earlier day: readers take the minimum).
    await mapLimit([...written], 16, ([day, path]) => deps.lake.upload(path, factsKey(day)));
    await deps.lake.delete([...written.keys()].flatMap((d) => (oldByDay.get(d) ?? []).map((o) => o.key).filter((k) => k !== factsKey(d))));
    await deps.lake.delete(done);
    result.compactedObjects = done.length;
    await mapLimit([...rewritten], 8, ([p, path]) => deps.lake.upload(path, firstSeenKey(p)));
    await deps.lake.delete(gone);
    result.ms.figures = t3 - t2;
    result.ms.store = Date.now() - t3;
    deps.log.info('lake close', { days: days.length, compacted: done.length, ...result.ms });
    return result;
  } finally {
    engine.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** DuckDB: local Parquet files whose directory names their partition, `<key>=<value>/`. */
function hiveParquet(paths: readonly string[], key: string): string {
  return `read_parquet(${fileList(paths)}, hive_partitioning = true, hive_types = {'${key}': VARCHAR}, hive_types_autocast = false)`;
}

/**
 * The file of each partition a partitioned COPY wrote under `dir` (`<column>=<value>/`). DuckDB may write a
 * partition as several files (when it had more partitions open than `partitioned_write_max_open_files`, set
 * above the count for that reason); those are merged into one, so that a day is always one object.
 */
async function onePerPartition(engine: LakeEngine, dir: string, column: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(dir).catch(() => [])) {
    if (!name.startsWith(`${column}=`)) continue;
    const files = (await readdir(join(dir, name))).filter((f) => f.endsWith('.parquet')).map((f) => join(dir, name, f));
    if (files.length === 0) continue;
    let path = files[0]!;
    if (files.length > 1) {
      path = join(dir, name, 'merged.parquet.tmp');
      await engine.run(`COPY (SELECT * FROM read_parquet(${fileList(files)})) TO ${literal(path)} (FORMAT parquet, COMPRESSION zstd)`);
    }
    out.set(name.slice(column.length + 1), path);
  }
  return out;
}
