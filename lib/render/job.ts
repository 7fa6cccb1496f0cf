/**
 * The render job (DESIGN §§6, 8, 13): rolls up the days that changed, closes finished days on the lake (facts
 * compacted, exact distinct and new sources by the engine), renders the public and partner charts and
 * publishes them.
 *
 * Which days are rolled up in a run:
 *  - today, always ("today so far");
 *  - every day after the last closed one up to the day being closed now (the previous day, once the daily
 *    time has passed) — on the very first run, the whole history;
 *  - every past day a late batch marked (dirty marks written by ingest).
 * Rollups and summaries are whole overwrites, so running the job twice, or after a crash, is harmless.
 *
 * A sensor-day's rollup (the sum of its contributions) is the record of that day once its contributions expire
 * at the horizon; until then it repeats what the contributions say. So it is written when the day is sealed —
 * SEAL_MARGIN_DAYS before the horizon — and kept current after (a late batch for a sealed day rewrites it), not
 * at every close: a first run over a long backfill writes no rollup for its recent days, instead of one item
 * per sensor-day (1,710 writes, 3.3 s on DynamoDB Local, for the 190-day bench history).
 * One job at a time: the job holds the close lease while it runs. Days are closed oldest first in chunks
 * (bounded by their alerts), and the last closed day is recorded after each chunk, so a run cut short
 * resumes where it stopped.
 */
import type { PartnerChartData, PublicChartData, SeriesPoint } from '../charts/model.js';
import { partnerSpecs, publicDailySpec, type PartnerChartName } from '../charts/specs.js';
import { chartRenderer } from '../charts/load.js';
import type { renderChart } from '../charts/render.js';
import { sumAggregates, type DayAggregate } from '../counting/aggregate.js';
import type { Log } from '../log.js';
import { archiveKey, CACHE, PARTNER_INDEX, PUBLIC_KEYS } from '../publish/layout.js';
import { partnerIndexHtml, publicIndexHtml, type PartnerFigure } from '../publish/pages.js';
import type { PublishedObject, Publisher } from '../publish/publish.js';
import { daysBetween } from '../stats/daily.js';
import type { DynamoBatchLedger, SensorDay, StoredContribution } from '../store/ledger.js';
import type { SensorProfile, SensorRegistry } from '../store/registry.js';
import type { DaySummary, HistoryDay, SensorDayRollupWrite, SummaryStore } from '../store/summaries.js';
import { addDays, DAY_MS, utcDay } from '../util/days.js';
import { closeDays, type CloseDeps, type CloseResult } from '../lake/close.js';
import { mapLimit } from '../util/map-limit.js';
import { archiveCopies, renderObjects, type RenderAnalysis } from './objects.js';
import { buildPartnerStatistics, buildPeriodReport, classifyingOnce, type PartnerStatistics, type PeriodReport, type StatisticsEngine } from '../lake/report.js';
import { FactsSessions } from '../lake/query.js';
import { PARTNER_STATISTICS_KEY, RENDER_PENDING_KEY, REPORTS_PREFIX } from '../publish/layout.js';
import { ScratchTooSmallError, type FreeSpace } from '../lake/scratch.js';
import type { S3Lake } from '../lake/store.js';
import { judgeClosedDays, type WarningOptions } from '../warnings/judge.js';
import { historyDay, partnerChartData, publicChartData, toCsv, WINDOW_DAYS, DEFAULT_WATCHED_PORTS, firstDay } from './figures.js';

export interface RenderDeps {
  registry: Pick<SensorRegistry, 'listSensors'>;
  /** Days a day's contributions are kept (DESIGN §6): its rollup is written SEAL_MARGIN_DAYS before that. */
  horizonDays: number;
  ledger: Pick<DynamoBatchLedger, 'readSensorDays'>;
  summaries: SummaryStore;
  lake: S3Lake;
  /** Where the close brings the lake's objects and the engine spills (Lambda: /tmp). */
  scratchDir: string;
  engineMemoryLimit?: string;
  publisher: Publisher;
  clock: () => number;
  log: Log;
  /** Minutes after UTC midnight from which the previous day is closed (late batches get this long). */
  closeAfterMinutes: number;
  watchedPorts?: string[];
  /** Absolute base URL of the public CDN path, for the embed snippet. */
  publicBaseUrl: string;
  /** Chart renderer; a seam for tests that make a render fail. */
  renderChart?: typeof renderChart;
  /** How long the close lease lasts (at least the function's timeout), and how long to wait for a held one. */
  leaseMs?: number;
  leaseWaitMs?: number;
  /** Alerts closed per chunk: progress is recorded after each. */
  closeChunkAlerts?: number;
  /** Test seam: runs between the close of a chunk and the writing of its summaries. */
  afterClose?: (days: readonly string[]) => Promise<void>;
  /** Early warnings (DESIGN §15): thresholds, last-seen times, delivery. */
  warnings?: WarningOptions;
  /** Free bytes in the scratch directory (default: the file system's); a seam for tests of a full one. */
  scratchFree?: FreeSpace;
  /**
   * The engine for partner statistics whose facts do not fit in the scratch directory: Athena on AWS (the
   * same statement texts, each self-contained, over the Glue tables of the lake). Without it, such a run
   * skips the statistics and fails with `render_incomplete` once the rest is published.
   */
  distributedStatistics?: StatisticsEngine;
}

export class RenderBusyError extends Error {
  readonly code = 'render_busy';
}

/** A statement of the partner statistics failed on the distributed engine (Athena: its bytes-scanned cutoff, …). */
export class DistributedEngineError extends Error {
  readonly code = 'distributed_engine_failed';

  constructor(cause: unknown) {
    super(`the distributed engine failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Why a step after the close was skipped: its facts did not fit in the scratch directory, or Athena failed it. */
export type StepSkippedError = ScratchTooSmallError | DistributedEngineError;

/**
 * A run that published the public graph and closed its days but skipped a step (the partner statistics or the
 * warnings; their objects stay as last published, and the next runs compute them for the days they missed).
 */
export class RenderIncompleteError extends Error {
  readonly code = 'render_incomplete';

  constructor(readonly skipped: readonly { step: PendingStep; error: StepSkippedError }[]) {
    super(`the render published the public graph but skipped ${skipped.map((s) => `the ${s.step} (${s.error.message})`).join('; and ')}`);
  }
}

/** `render --date D` for a day the job has not closed yet: there is no finished graph of it to archive. */
export class DayNotClosedError extends Error {
  readonly code = 'day_not_closed';
}

/**
 * Closed days whose archive copy is missing (a backfill, or days closed before archive copies existed) get it at
 * the next run (DESIGN §8), after the live objects are published so the live graph is never delayed by them.
 * Each is a chart (~15–25 ms here, drawn on the live graph's kept view); a first run over years of history
 * writes the newest this many, and the next runs the rest.
 */
export const ARCHIVE_COPIES_PER_RUN = 400;

/**
 * Days before the horizon at which a sensor-day's rollup is written: the render job may stop for up to this
 * long (an outage, a broken deployment) before a day's contributions expire without a rollup.
 */
export const SEAL_MARGIN_DAYS = 60;

const DEFAULT_LEASE_MS = 16 * 60_000;
const DEFAULT_CHUNK_ALERTS = 5_000_000;

export interface RenderReport {
  today: string;
  /** Days whose archive copy this run wrote (`render --date` writes only that). */
  archived?: string[];
  closedThrough?: string;
  rolledUp: string[];
  published: number;
  ms: number;
  /** Where the time went, ms: rollUp, close, summaries, analysis, charts, publish, … */
  phases?: Record<string, number>;
  /**
   * The process's CPU in each phase, ms (user and system, every thread: the engine's and the rasteriser's
   * included). Above the phase's wall time, the phase kept more than one core busy; well below it, it waited
   * on storage.
   */
  cpu?: Record<string, number>;
}

/** The day that may be closed at `now`: yesterday once the daily time has passed, else the day before. */
export function closableDay(now: number, closeAfterMinutes: number): string {
  const today = utcDay(now);
  const minutes = Math.floor((now % DAY_MS) / 60_000);
  return addDays(today, minutes >= closeAfterMinutes ? -1 : -2);
}

/** The steps after the close that read the closed days' facts, and may be skipped (their facts did not fit). */
type PendingStep = 'analysis' | 'warnings';
const PENDING_STEPS: readonly PendingStep[] = ['analysis', 'warnings'];
type PendingDays = Partial<Record<PendingStep, string[]>>;

interface RolledDay {
  summary: DaySummary;
  contributions: { sensor: string; items: StoredContribution[] }[];
}

/**
 * Sums each sensor's contributions of a day (`read`: the sensor-days read for the run, keyed `<day>/<sensor>`).
 * For a sealed day, rollups that are missing or differ are added to `stale`, written in batches after.
 */
function rollUpDay(read: ReadonlyMap<string, SensorDay>, sensors: readonly string[], day: string, at: string, stale: SensorDayRollupWrite[], sealed: boolean): RolledDay {
  const bySensor: Record<string, number> = {};
  const counts: Record<string, number> = {};
  const aggregates: DayAggregate[] = [];
  const contributions: { sensor: string; items: StoredContribution[] }[] = [];
  for (const sensor of sensors) {
    const sd = read.get(`${day}/${sensor}`) ?? { contributions: [] };
    const live = sd.contributions.length;
    let agg: DayAggregate | undefined;
    if (live > 0) {
      agg = sumAggregates(sd.contributions.map((c) => c.aggregate));
      if (sealed && (!sd.rollup || sd.rollup.contributions !== live)) stale.push({ sensor, day, aggregate: agg, contributions: live, at });
      contributions.push({ sensor, items: sd.contributions });
    } else if (sd.rollup) {
      // Contributions are gone once the day is past the horizon; the rollup is then the record.
      agg = sd.rollup.aggregate;
    }
    if (agg) {
      bySensor[sensor] = agg.total;
      counts[sensor] = live || (sd.rollup?.contributions ?? 0);
      aggregates.push(agg);
    }
  }
  return { summary: { day, aggregate: sumAggregates(aggregates), bySensor, contributions: counts, computedAt: at }, contributions };
}

/**
 * The analysts' statistics of the partner charts (the last WINDOW_DAYS closed days) and the monthly reports of
 * closed months (DESIGN §14), on the engine over the lake. Computed when the run closed a day (a month's report
 * when a day of that month closed, or the report is missing); otherwise the statistics stored by the last run
 * that computed them are used again, so the hourly "today so far" runs cost no engine work.
 */
async function analyseClosedDays(
  deps: RenderDeps,
  input: { start: string; closeThrough: string; closedNow: ReadonlySet<string>; watched: readonly string[]; facts: FactsSessions },
): Promise<RenderAnalysis> {
  const { start, closeThrough, closedNow } = input;
  const [reportObjects, stored] = await Promise.all([deps.lake.list(REPORTS_PREFIX), deps.lake.readJson<PartnerStatistics>(PARTNER_STATISTICS_KEY)]);
  const published = new Set(reportObjects.map((o) => /(\d{4}-\d{2})\.json$/.exec(o.key)?.[1]).filter((m): m is string => !!m));
  const months = closeThrough < start ? [] : monthsBetween(start, closeThrough).filter((m) => monthEnd(m) <= closeThrough);
  const due = months.filter((m) => !published.has(m) || [...closedNow].some((d) => d.startsWith(m)));
  if (closedNow.size === 0 && due.length === 0 && stored) return { statistics: stored, reports: [], months };
  const windowFrom = [addDays(closeThrough, -(WINDOW_DAYS - 1)), start].sort().at(-1)!;
  const from = [windowFrom, ...due.map((m) => `${m}-01`)].sort()[0]!;
  const run = await statisticsEngine(deps, input.facts, { from, to: closeThrough }, due.length > 0);
  const isClosed = (d: string) => d <= closeThrough;
  const statistics = await buildPartnerStatistics(run, { from: windowFrom, to: closeThrough }, { isClosed, watchedPorts: input.watched });
  const reports: PeriodReport[] = [];
  // Whole months, as `report --from <first> --to <last>` gives them: equal JSON.
  for (const m of due) reports.push(await buildPeriodReport(run, { from: `${m}-01`, to: monthEnd(m) }, { isClosed }));
  await deps.lake.writeJson(PARTNER_STATISTICS_KEY, statistics);
  return { statistics, reports, months };
}

/**
 * Where the analysis runs: the embedded engine over a local copy of the period's facts when they fit in the
 * scratch directory (with months due as well as the window, the alerts of all of them classified once), else
 * the distributed engine when there is one. At national volumes the 30-day window alone outgrows Lambda's
 * 10 GB /tmp (~33 bytes of Parquet an alert: from about 9 M alerts a day), while every day still closes there.
 */
async function statisticsEngine(deps: RenderDeps, facts: FactsSessions, period: { from: string; to: string }, severalPeriods: boolean): Promise<StatisticsEngine> {
  let session;
  try {
    session = await facts.get(period);
  } catch (err) {
    if (!(err instanceof ScratchTooSmallError) || !deps.distributedStatistics) throw err;
    deps.log.info('render analysis on the distributed engine', { from: period.from, to: period.to, neededBytes: err.neededBytes, freeBytes: err.freeBytes });
    const distributed = deps.distributedStatistics;
    return {
      run: (sql) =>
        distributed.run(sql).catch((cause: unknown) => {
          throw new DistributedEngineError(cause);
        }),
    };
  }
  return severalPeriods ? classifyingOnce(session.engine.statistics, period) : session.engine.statistics;
}

function monthEnd(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let m = from.slice(0, 7); m <= to.slice(0, 7); m = addDays(monthEnd(m), 1).slice(0, 7)) out.push(m);
  return out;
}

async function holdLease(deps: RenderDeps, owner: string): Promise<void> {
  const deadline = Date.now() + (deps.leaseWaitMs ?? 0);
  for (;;) {
    const lease = await deps.summaries.acquireLease(owner, deps.clock(), deps.leaseMs ?? DEFAULT_LEASE_MS);
    if (lease.acquired) return;
    if (Date.now() >= deadline) {
      throw new RenderBusyError(`another render job (${lease.owner}) is closing days; its lease runs until ${lease.until}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function runRenderJob(deps: RenderDeps, opts: { date?: string; all?: boolean } = {}): Promise<RenderReport> {
  const owner = `render-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  await holdLease(deps, owner);
  try {
    return opts.date ? await rebuildArchiveCopy(deps, opts.date) : await renderHoldingLease(deps, opts);
  } finally {
    await deps.summaries.releaseLease(owner);
  }
}

/** Splits days (oldest first) into chunks of at most `maxAlerts` alerts (a day larger than that is a chunk). */
export function closeChunks(days: readonly string[], alerts: (day: string) => number, maxAlerts: number): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let total = 0;
  for (const day of days) {
    const n = alerts(day);
    if (current.length > 0 && total + n > maxAlerts) {
      chunks.push(current);
      current = [];
      total = 0;
    }
    current.push(day);
    total += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * `render --date D`: the archive copy of one closed day, (re)built from the stored history up to that day and
 * written over the old one; the live graphs and pages are left alone.
 */
async function rebuildArchiveCopy(deps: RenderDeps, day: string): Promise<RenderReport> {
  const started = Date.now();
  const state = await deps.summaries.getRenderState();
  if (!state.lastClosedDay || day > state.lastClosedDay) {
    throw new DayNotClosedError(`${day} is not closed yet (closed through ${state.lastClosedDay ?? 'no day'}): run render without --date first`);
  }
  const [sensors, history] = await Promise.all([deps.registry.listSensors(), deps.summaries.readHistory()]);
  const objects = await archiveCopies(deps, [day], sensors, history, new Date(deps.clock()).toISOString(), { replace: true });
  const { written } = await deps.publisher.publish(objects);
  return { today: utcDay(deps.clock()), closedThrough: state.lastClosedDay, archived: [day], rolledUp: [], published: written, ms: Date.now() - started };
}

async function renderHoldingLease(deps: RenderDeps, opts: { all?: boolean }): Promise<RenderReport> {
  const started = Date.now();
  let cpuMark = process.cpuUsage();
  // Loaded while the job waits on storage; a failure to load shows where the charts are drawn.
  if (!deps.renderChart) chartRenderer().catch(() => undefined);
  const now = deps.clock();
  const today = utcDay(now);
  const at = new Date(now).toISOString();
  const closeThrough = closableDay(now, deps.closeAfterMinutes);
  const watched = deps.watchedPorts ?? DEFAULT_WATCHED_PORTS;

  const [sensors, state, stored, marks] = await Promise.all([
    deps.registry.listSensors(),
    deps.summaries.getRenderState(),
    deps.summaries.readHistory(),
    deps.summaries.listDirty(),
  ]);
  const ids = sensors.map((s) => s.id);
  const history = new Map(stored);
  const dirty = marks.filter((m) => m.day < today);

  // Days to roll up, oldest first (new sources must be decided in day order).
  const start = firstDay(sensors, history, today);
  const fromClosed = opts.all || !state.lastClosedDay ? start : addDays(state.lastClosedDay, 1);
  const days = new Set<string>();
  if (fromClosed <= today) for (const d of daysBetween(fromClosed, today)) days.add(d);
  for (const m of dirty) days.add(m.day);
  days.add(today);
  const ordered = [...days].sort();

  const phases = { start: 0, rollUp: 0, close: 0, closeFetch: 0, closeCompact: 0, closeFigures: 0, closeStore: 0, summaries: 0, analysis: 0, charts: 0, publish: 0, archive: 0, finish: 0 };
  const cpu: Partial<Record<keyof typeof phases, number>> = {};
  let mark = started;
  const lap = (phase: keyof typeof phases) => {
    const t = Date.now();
    phases[phase] += t - mark;
    mark = t;
    const c = process.cpuUsage();
    cpu[phase] = (cpu[phase] ?? 0) + Math.round((c.user - cpuMark.user + c.system - cpuMark.system) / 1000);
    cpuMark = c;
  };
  lap('start');
  const rolled = new Map<string, RolledDay>();
  const stale: SensorDayRollupWrite[] = [];
  // Days sealed since the last run that this run does not roll up anyway (normally one a day, none at all on a
  // first run over less than horizon − SEAL_MARGIN_DAYS of history).
  const sealThrough = [addDays(today, -Math.max(0, deps.horizonDays - SEAL_MARGIN_DAYS)), closeThrough].sort()[0]!;
  const isSealed = (day: string) => day <= sealThrough;
  const sealFrom = state.lastSealedDay ? addDays(state.lastSealedDay, 1) : start;
  const sealing = sealFrom <= sealThrough ? daysBetween(sealFrom, sealThrough).filter((d) => !days.has(d)) : [];
  // The sensor-days to roll up, the stored summaries of the closable days, and the days whose steps are pending:
  // read at once.
  const [read, previous, pendingRead] = await Promise.all([
    deps.ledger.readSensorDays(ids, [...ordered, ...sealing]),
    deps.summaries.getDaySummaries(ordered.filter((d) => d <= closeThrough)),
    deps.lake.readJson<PendingDays>(RENDER_PENDING_KEY),
  ]);
  for (const day of ordered) rolled.set(day, rollUpDay(read, ids, day, at, stale, isSealed(day)));
  for (const day of sealing) rollUpDay(read, ids, day, at, stale, true);
  await deps.summaries.putSensorDayRollups(stale);
  // Every sealed day's rollup is written from here on: the state may say so at the first chunk already.
  const lastSealedDay = state.lastSealedDay && state.lastSealedDay > sealThrough ? state.lastSealedDay : sealThrough;
  lap('rollUp');
  const touchedMonths = new Set(ordered.map((d) => d.slice(0, 7)));
  let lastClosed = state.lastClosedDay;

  // Summaries are written in batches (one request per 25 days): a first run writes one per day of the history.
  const store = async (pairs: readonly { summary: DaySummary; old: DaySummary | undefined }[]) => {
    await deps.summaries.putDaySummaries(pairs.filter(({ summary, old }) => Object.keys(summary.bySensor).length > 0 || old).map((p) => p.summary));
    for (const { summary } of pairs) {
      if (Object.keys(summary.bySensor).length > 0) history.set(summary.day, historyDay(summary, watched));
      else history.delete(summary.day);
    }
  };

  const closable = ordered.filter((d) => d <= closeThrough);
  const closeDeps: CloseDeps = { lake: deps.lake, scratchDir: deps.scratchDir, memoryLimit: deps.engineMemoryLimit, log: deps.log };
  const queue = closeChunks(closable, (d) => rolled.get(d)!.summary.aggregate.total, deps.closeChunkAlerts ?? DEFAULT_CHUNK_ALERTS);
  const queued = new Set(closable);
  // Days closed by earlier runs whose analysis or warnings did not run (skipped for room, or the run stopped
  // first): each step takes them as closed now. This run's closed days join them before the close is recorded,
  // so that a run stopped after that still leaves them to the next.
  const pending: PendingDays = pendingRead ?? {};
  let storedPending = JSON.stringify(pending);
  while (queue.length > 0) {
    const chunk = queue.shift()!;
    // Days queued again because a late batch changed their new sources are rolled up here.
    const again = chunk.filter((d) => !rolled.has(d));
    if (again.length > 0) {
      const rollups: SensorDayRollupWrite[] = [];
      const readAgain = await deps.ledger.readSensorDays(ids, again);
      for (const day of again) rolled.set(day, rollUpDay(readAgain, ids, day, at, rollups, isSealed(day)));
      await deps.summaries.putSensorDayRollups(rollups);
      for (const [day, summary] of await deps.summaries.getDaySummaries(again)) previous.set(day, summary);
    }
    const toClose = chunk
      .filter((d) => rolled.get(d)!.contributions.some((c) => c.items.length > 0))
      .map((day) => ({
        day,
        counted: new Map(rolled.get(day)!.contributions.flatMap((c) => c.items.map((i): [string, string] => [`${c.sensor}/${i.idempotencyKey}`, i.rawDay]))),
      }));
    const closed: CloseResult | undefined = toClose.length > 0 ? await closeDays(closeDeps, toClose) : undefined;
    await deps.afterClose?.(chunk);
    if (toClose.length > 0) {
      for (const step of PENDING_STEPS) pending[step] = [...new Set([...(pending[step] ?? []), ...toClose.map((d) => d.day)])].sort();
      await deps.lake.writeJson(RENDER_PENDING_KEY, pending);
      storedPending = JSON.stringify(pending);
    }
    if (closed) {
      phases.closeFetch += closed.ms.fetch;
      phases.closeCompact += closed.ms.compact;
      phases.closeFigures += closed.ms.figures;
      phases.closeStore += closed.ms.store;
    }
    lap('close');
    const written = chunk.map((day) => {
      const { summary } = rolled.get(day)!;
      const old = previous.get(day);
      const figures = closed?.days.get(day);
      if (figures) {
        summary.sources = figures.sources;
        summary.newSources = closed!.newSources.get(day) ?? 0;
        summary.newUnknownSources = figures.newUnknownSources;
        summary.scanAlerts = figures.scanAlerts;
        summary.sourcesBySensor = figures.sourcesBySensor;
        summary.sourcesByPort = figures.sourcesByPort;
        summary.signatureNames = figures.signatureNames;
      } else if (old) {
        // Past the horizon the contributions are gone: keep what was computed when the day closed.
        summary.sources = old.sources;
        summary.newSources = old.newSources;
        summary.newUnknownSources = old.newUnknownSources;
        summary.scanAlerts = old.scanAlerts;
        summary.sourcesBySensor = old.sourcesBySensor;
        summary.sourcesByPort = old.sourcesByPort;
        summary.signatureNames = old.signatureNames;
      }
      touchedMonths.add(day.slice(0, 7));
      return { summary, old };
    });
    await store(written);
    // A late batch may have moved sources' first day back from a later closed day: that day's new sources (and
    // new sources of unknown traffic) change. The first-seen table is the record; every closed day is checked
    // against it, and a day that differs is closed again from its facts.
    if (closed) {
      const stale = [...history]
        .filter(([d, h]) => !queued.has(d) && h.nw !== undefined && h.nw !== (closed.newSources.get(d) ?? 0))
        .map(([d]) => d)
        .sort();
      if (stale.length > 0) {
        queue.push(stale);
        for (const d of stale) queued.add(d);
      }
    }
    const chunkEnd = chunk.at(-1)!;
    if (!lastClosed || chunkEnd > lastClosed) {
      lastClosed = chunkEnd;
      await deps.summaries.putRenderState({ lastClosedDay: lastClosed, lastRenderAt: at, lastSealedDay });
    }
    lap('summaries');
  }
  await store(ordered.filter((d) => d > closeThrough).map((day) => ({ summary: rolled.get(day)!.summary, old: undefined })));

  // Rewrite the history months that hold a rolled-up day (a first run: every month of the history, at once).
  await mapLimit([...touchedMonths], 8, (month) => {
    const entries: Record<string, HistoryDay> = {};
    for (const [d, h] of history) if (d.startsWith(month)) entries[d] = h;
    return deps.summaries.putHistoryMonth(month, entries);
  });

  // One facts session for both steps when their periods overlap (on a first run, both read the whole history).
  // A step whose facts do not fit in the scratch directory (or that fails on the distributed engine) is skipped
  // (its objects stay as published) and the run fails once the rest is published: the public graph keeps up,
  // and the failure is still seen.
  const facts = new FactsSessions(deps.lake, deps.scratchDir, start, { free: deps.scratchFree });
  const skipped: { step: PendingStep; error: StepSkippedError }[] = [];
  const unlessSkippable =
    (step: PendingStep) =>
    (err: unknown): undefined => {
      if (!(err instanceof ScratchTooSmallError || err instanceof DistributedEngineError)) throw err;
      skipped.push({ step, error: err });
      const room = err instanceof ScratchTooSmallError ? { neededBytes: err.neededBytes, freeBytes: err.freeBytes } : {};
      deps.log.error('render step skipped', { step, code: err.code, ...room, message: err.message });
      return undefined;
    };
  let warnings;
  let analysis;
  try {
    // A step's days closed now: this run's (added to the pending days as they closed) and earlier runs' left.
    const closedFor = (step: PendingStep) => new Set(pending[step] ?? []);
    analysis = await analyseClosedDays(deps, { start, closeThrough, closedNow: closedFor('analysis'), watched, facts }).catch(unlessSkippable('analysis'));
    warnings = await judgeClosedDays({ ...deps, facts }, { closedNow: closedFor('warnings'), closeThrough, sensors }).catch(unlessSkippable('warnings'));
  } finally {
    await facts.close();
  }
  // A step that ran has no pending days left; a skipped one keeps them for the next run.
  for (const step of PENDING_STEPS) if (!skipped.some((s) => s.step === step)) delete pending[step];
  if (JSON.stringify(pending) !== storedPending) {
    if (Object.keys(pending).length > 0) await deps.lake.writeJson(RENDER_PENDING_KEY, pending);
    else await deps.lake.delete([RENDER_PENDING_KEY]);
  }
  lap('analysis');

  const windowDays = daysBetween(addDays(closeThrough, -(WINDOW_DAYS - 1)), closeThrough);
  // Each closed day's own graph is archived once; later runs (and re-opened days) leave it as it was.
  const [window, archived] = await Promise.all([deps.summaries.getDaySummaries(windowDays), deps.publisher.archivedDays()]);
  const publicData = publicChartData({ generatedAt: at, today, sensors, history });
  const partnerData = partnerChartData({ generatedAt: at, today, lastClosedDay: closeThrough, sensors, history, window, watchedPorts: watched });
  const archiveDays = [...history.keys()].filter((d) => d >= start && d <= closeThrough && !archived.has(d)).sort().reverse().slice(0, ARCHIVE_COPIES_PER_RUN);
  lap('summaries');
  const objects = await renderObjects(deps, publicData, partnerData, sensors, {
    analysis,
    ...(warnings ? { warnings: { list: warnings, through: closeThrough, settings: deps.warnings?.settings } } : {}),
  });
  lap('charts');
  const { written } = await deps.publisher.publish(objects);
  lap('publish');
  const copies = await deps.publisher.publish(await archiveCopies(deps, archiveDays, sensors, history, at, { replace: false }));
  lap('archive');

  await deps.summaries.clearDirtyMarks(dirty);
  const closedThrough = !state.lastClosedDay || closeThrough > state.lastClosedDay ? closeThrough : state.lastClosedDay;
  await deps.summaries.putRenderState({ lastClosedDay: closedThrough, lastRenderAt: at, lastSealedDay });
  lap('finish');
  const report = { today, closedThrough, archived: archiveDays, rolledUp: ordered, published: written + copies.written, ms: Date.now() - started, phases, cpu };
  deps.log.info('render', { today, closedThrough, days: ordered.length, published: written, ms: report.ms, phases, cpu });
  if (skipped.length > 0) throw new RenderIncompleteError(skipped);
  return report;
}

