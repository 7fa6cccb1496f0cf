/**
 * The render job's warning step (DESIGN §15): after the close, the days this run closed (and the days whose
 * baseline holds them) are judged on the engine over the lake's facts, silent sensors are judged on every run
 * (hourly), the store is upserted by id, and what was raised or cleared is handed to the notifier.
 */
import { loadWarningSettings, type WarningSettings } from '../config.js';
import type { Log } from '../log.js';
import type { FactsSessions } from '../lake/query.js';
import type { S3Lake } from '../lake/store.js';
import type { SensorProfile } from '../store/registry.js';
import { addDays, daysBetween, utcDay } from '../util/days.js';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LakeEngine } from '../lake/engine.js';
import { SUBJECT_DAYS_PREFIX, subjectMonthKey } from '../publish/layout.js';
import { mapLimit } from '../util/map-limit.js';
import { fromJudgedRow, mergeJudged, newestFirst, warningId, type Warning } from './model.js';
import { daysToJudge, judgeableDays, judgeFiguresQuery, subjectDaysJsonQuery, type JudgedRow, type WarningRules } from './rules.js';
import { WarningStore } from './store.js';

/** When each sensor last sent a batch (any batch, a heartbeat included), ISO 8601. */
export interface LastSeenReader {
  lastSeen(sensors: readonly string[]): Promise<Map<string, string>>;
}

/** Where raised and cleared warnings go (SNS on AWS; nothing locally). */
export interface WarningNotifier {
  notify(change: { raised: readonly Warning[]; updated: readonly Warning[]; cleared: readonly Warning[] }): Promise<void>;
}

export interface WarningOptions {
  settings?: WarningSettings;
  lastSeen?: LastSeenReader;
  notifier?: WarningNotifier;
}

export interface WarningJobDeps {
  lake: S3Lake;
  /** The job's facts sessions (shared with its other steps). */
  facts: FactsSessions;
  scratchDir: string;
  clock: () => number;
  log: Log;
  warnings?: WarningOptions;
}

/** Surge and new warnings of this many days up to the last closed day are sent when raised; older ones only stored. */
export const NOTIFY_DAYS = 3;

export function rulesOf(s: WarningSettings): WarningRules {
  return {
    baselineDays: s.baselineDays,
    minActiveDays: s.minActiveDays,
    surgeFactor: s.surgeFactor,
    surgeMinAlerts: s.surgeMinAlerts,
    surgeMinSources: s.surgeMinSources,
    newMinSources: s.newMinSources,
  };
}

/** The first sensor's deployment day, undefined without sensors. */
export function firstDeployment(sensors: readonly Pick<SensorProfile, 'deployedAt'>[]): string | undefined {
  return sensors.map((s) => s.deployedAt).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort()[0];
}

/**
 * Silent sensors (pure): a sensor that has sent at least one batch and none for more than `afterSeconds` gets
 * one `silent` warning (its day: the day the silence crossed the threshold); a later batch clears it. A sensor
 * silent again after that gets a warning again — the same one (reopened) when the new silence crosses the
 * threshold on the same day, since a warning's id is its day, kind and subject. Revoked sensors are not judged;
 * a sensor that never sent anything is not silent: it has not started.
 */
export function judgeSilent(
  stored: readonly Warning[],
  sensors: readonly Pick<SensorProfile, 'id' | 'status'>[],
  lastSeen: ReadonlyMap<string, string>,
  now: number,
  afterSeconds: number,
): { warnings: Warning[]; raised: Warning[]; cleared: Warning[] } {
  const at = new Date(now).toISOString();
  const out = [...stored];
  const raised: Warning[] = [];
  const cleared: Warning[] = [];
  for (const sensor of sensors) {
    if (sensor.status !== 'active') continue;
    const seen = lastSeen.get(sensor.id);
    if (!seen) continue;
    const seenMs = Date.parse(seen);
    const seenAt = new Date(seenMs).toISOString();
    const subject = `sensor:${sensor.id}`;
    // A batch after the silence began clears its warning.
    const open = out.findIndex((w) => w.kind === 'silent' && w.subject === subject && !w.clearedAt);
    if (open >= 0 && Date.parse(out[open]!.lastSeenAt ?? '') < seenMs) {
      const w: Warning = { ...out[open]!, clearedAt: seenAt, updatedAt: at };
      out[open] = w;
      cleared.push(w);
    }
    if (now - seenMs <= afterSeconds * 1000) continue;
    if (out.some((w) => w.kind === 'silent' && w.subject === subject && !w.clearedAt)) continue;
    const day = utcDay(seenMs + afterSeconds * 1000);
    const id = warningId(day, 'silent', subject);
    const base = {
      id,
      day,
      kind: 'silent' as const,
      subject,
      figures: { alerts: 0, sources: 0 },
      baseline: { alerts: 0, sources: 0 },
      updatedAt: at,
      lastSeenAt: seenAt,
    };
    const same = out.findIndex((w) => w.id === id);
    const w: Warning = same >= 0 ? { ...base, raisedAt: out[same]!.raisedAt } : { ...base, raisedAt: at };
    if (same >= 0) out[same] = w;
    else out.push(w);
    raised.push(w);
  }
  out.sort(newestFirst);
  return { warnings: out, raised, cleared };
}

/**
 * Judges what this run closed and the silent sensors, stores the result and notifies. Returns every stored
 * warning (newest first), for the partner objects.
 */
export async function judgeClosedDays(
  deps: WarningJobDeps,
  input: { closedNow: ReadonlySet<string>; closeThrough: string; sensors: readonly SensorProfile[] },
): Promise<Warning[]> {
  const settings = deps.warnings?.settings ?? loadWarningSettings({});
  const rules = rulesOf(settings);
  const store = new WarningStore(deps.lake);
  const stored = await store.list();
  const now = deps.clock();
  const at = new Date(now).toISOString();
  let warnings = stored;
  let raised: Warning[] = [];
  let updated: Warning[] = [];
  let cleared: Warning[] = [];
  let changed = false;

  const days = judgeableDays(daysToJudge(input.closedNow, input.closeThrough, rules), firstDeployment(input.sensors), rules);
  if (days.length > 0) {
    const started = Date.now();
    const rows = await judgeDays(deps, days, input.closedNow, rules);
    const merged = mergeJudged(warnings, rows.map((r) => fromJudgedRow(r, at)), new Set(days));
    warnings = merged.warnings;
    raised = merged.added;
    updated = merged.updated;
    changed = merged.added.length + merged.updated.length + merged.dropped.length > 0;
    deps.log.info('warnings judged', {
      days: days.length,
      from: days[0],
      to: days.at(-1),
      raised: merged.added.length,
      updated: merged.updated.length,
      dropped: merged.dropped.length,
      ms: Date.now() - started,
    });
  }

  if (deps.warnings?.lastSeen) {
    const silent = judgeSilent(warnings, input.sensors, await deps.warnings.lastSeen.lastSeen(input.sensors.map((s) => s.id)), now, settings.silentAfterSeconds);
    warnings = silent.warnings;
    raised = [...raised, ...silent.raised];
    cleared = silent.cleared;
    if (silent.raised.length + silent.cleared.length > 0) {
      changed = true;
      deps.log.info('silent sensors judged', { raised: silent.raised.map((w) => w.subject), cleared: cleared.map((w) => w.subject) });
    }
  }

  if (changed) {
    await store.save(warnings);
    // Stored first: a failed delivery is logged and not retried, rather than failing the render (the warning
    // is in the store, the partner objects and `alertgraph warnings` either way).
    try {
      // A first run or a rebuild judges the whole history: only the last days' warnings are news worth sending.
      const fresh = raised.filter((w) => w.kind === 'silent' || w.day >= addDays(input.closeThrough, -(NOTIFY_DAYS - 1)));
      await deps.warnings?.notifier?.notify({ raised: fresh, updated, cleared });
    } catch (err) {
      deps.log.error('warnings could not be delivered', { error: (err as Error)?.message ?? String(err) });
    }
  }
  return warnings;
}

/** One subject's figures on one day: [subject, signature text or '', alerts, sources]. */
type FigureRow = [string, string, number, number];

/** A month's stored figures: every day computed so far (a day without alerts has no rows). */
interface StoredMonth {
  month: string;
  days: Record<string, FigureRow[]>;
}

/**
 * Each day's subject figures: from the store (`lake/subject-days/`, one object per month), or computed from the
 * facts on the engine for the days this run (re)closed and the days not stored yet — then stored, each month
 * that gained days rewritten once. Objects of the older one-per-day layout are recomputed into months and go.
 */
async function dayFigures(deps: WarningJobDeps, needed: readonly string[], changed: ReadonlySet<string>): Promise<Map<string, FigureRow[]>> {
  const listed = (await deps.lake.list(SUBJECT_DAYS_PREFIX)).map((o) => o.key);
  const months = [...new Set(needed.map((d) => d.slice(0, 7)))];
  const stored = new Map<string, StoredMonth>();
  await mapLimit(
    months.filter((m) => listed.includes(subjectMonthKey(m))),
    8,
    async (m) => void stored.set(m, (await deps.lake.readJson<StoredMonth>(subjectMonthKey(m))) ?? { month: m, days: {} }),
  );
  const out = new Map<string, FigureRow[]>();
  const missing: string[] = [];
  for (const d of needed) {
    const rows = stored.get(d.slice(0, 7))?.days[d];
    if (rows && !changed.has(d)) out.set(d, rows);
    else missing.push(d);
  }
  if (missing.length > 0) {
    for (const d of missing) out.set(d, []);
    const session = await deps.facts.get({ from: missing[0]!, to: missing.at(-1)! });
    for (const r of await session.engine.rows<{ day: string; figures: string }>(subjectDaysJsonQuery(missing))) {
      if (out.has(r.day)) out.set(r.day, JSON.parse(r.figures) as FigureRow[]);
    }
    const gained = [...new Set(missing.map((d) => d.slice(0, 7)))];
    await mapLimit(gained, 8, async (m) => {
      const month = stored.get(m) ?? { month: m, days: {} };
      for (const d of missing) if (d.startsWith(m)) month.days[d] = out.get(d)!;
      await deps.lake.writeJson(subjectMonthKey(m), month satisfies StoredMonth);
    });
  }
  const legacy = listed.filter((k) => !k.startsWith(`${SUBJECT_DAYS_PREFIX}month=`));
  if (legacy.length > 0) await deps.lake.delete(legacy);
  return out;
}

/**
 * The rules on the engine over the stored per-day figures of the judged days and their baselines. Only the
 * subjects that can be flagged on a judged day (the rules' candidates) are loaded, with their whole baseline:
 * the rules look at nothing else, so the answer is the one `judgeQuery` gives over the facts.
 */
async function judgeDays(deps: WarningJobDeps, days: readonly string[], changed: ReadonlySet<string>, rules: WarningRules): Promise<JudgedRow[]> {
  const needed = daysBetween(addDays(days[0]!, -rules.baselineDays), days.at(-1)!);
  const figures = await dayFigures(deps, needed, changed);
  const minSources = Math.min(rules.surgeMinSources, rules.newMinSources);
  const candidates = new Set<string>();
  for (const d of days) for (const [subject, , alerts, sources] of figures.get(d) ?? []) if (alerts >= rules.surgeMinAlerts || sources >= minSources) candidates.add(subject);
  if (candidates.size === 0) return [];
  await mkdir(deps.scratchDir, { recursive: true });
  const work = await mkdtemp(join(deps.scratchDir, 'warnings-'));
  const engine = await LakeEngine.open({ scratchDir: work });
  try {
    await engine.run(`CREATE TABLE figures_text (day VARCHAR, subject VARCHAR, name VARCHAR, alerts VARCHAR, sources VARCHAR)`);
    const rows: string[][] = [];
    for (const [day, list] of figures) {
      for (const [subject, name, alerts, sources] of list) if (candidates.has(subject)) rows.push([day, subject, name, String(alerts), String(sources)]);
    }
    await engine.appendRows('figures_text', rows);
    await engine.run(
      `CREATE TABLE subject_figures AS SELECT day, subject, NULLIF(name, '') AS name, CAST(alerts AS BIGINT) AS alerts, CAST(sources AS BIGINT) AS sources FROM figures_text`,
    );
    return await engine.rows<JudgedRow>(judgeFiguresQuery(days, rules));
  } finally {
    engine.close();
    await rm(work, { recursive: true, force: true });
  }
}
