/**
 * The early-warning rules of DESIGN §15 as SQL over `facts`, one text for DuckDB and Athena (both accept every
 * construct used here: `date_diff('day', DATE …, CAST(day AS DATE))`, window functions, `E0` double literals).
 *
 * A subject is a TCP/UDP destination port (`tcp/445`) or a signature (`sid:<id>`, or `msg:<text>` when the
 * alert has no signature id). A judged day D is compared with the `baselineDays` days before it (D-28 … D-1);
 * a day without alerts for the subject counts as 0, so the median of the 28 values is taken over the subject's
 * active days padded with zeros: with k active days out of N, the zeros fill sorted positions 1 … N-k, and
 * sorted position p holds the (p - (N - k))-th smallest active value (a zero when that is < 1). For N = 28 the
 * median is the mean of positions 14 and 15.
 *
 *  - new:   k = 0 and distinct sources on D ≥ newMinSources;
 *  - surge: k ≥ minActiveDays and (alerts ≥ factor × median alerts and ≥ surgeMinAlerts,
 *           or sources ≥ factor × median sources and ≥ surgeMinSources);
 *  - 1 ≤ k < minActiveDays: not judged.
 * One row per subject and day at most (a subject has one row per day in `subject_days`).
 */
import { inList, literal } from '../lake/sql.js';
import { addDays } from '../util/days.js';
import { SETTINGS } from '../settings.js';

/** The thresholds of DESIGN §15; every one is a setting (lib/settings.ts), whose defaults these are. */
export interface WarningRules {
  /** Days before a judged day that make its baseline. */
  baselineDays: number;
  /** Active days (of the baseline) a subject needs to be judged for a surge. */
  minActiveDays: number;
  /** How many times its median a day's figure must reach to be a surge. */
  surgeFactor: number;
  surgeMinAlerts: number;
  surgeMinSources: number;
  /** Distinct sources on the day that make a subject quiet for the whole baseline `new`. */
  newMinSources: number;
}

export const DEFAULT_WARNING_RULES: WarningRules = {
  baselineDays: SETTINGS.warnBaselineDays.default,
  minActiveDays: SETTINGS.warnMinActiveDays.default,
  surgeFactor: SETTINGS.warnSurgeFactor.default,
  surgeMinAlerts: SETTINGS.warnSurgeMinAlerts.default,
  surgeMinSources: SETTINGS.warnSurgeMinSources.default,
  newMinSources: SETTINGS.warnNewMinSources.default,
};

/** A subject of an alert that is a port: `tcp/445`; NULL for ICMP, other protocols or no port. */
export const PORT_SUBJECT = `CASE WHEN proto IN ('tcp', 'udp') AND dst_port IS NOT NULL THEN proto || '/' || CAST(dst_port AS VARCHAR) END`;

/** A subject of an alert that is a signature: `sid:<id>`, `msg:<text>` without an id, NULL without either. */
export const SIGNATURE_SUBJECT = `CASE WHEN sig_id IS NOT NULL THEN 'sid:' || CAST(sig_id AS VARCHAR) WHEN signature IS NOT NULL THEN 'msg:' || signature END`;

/** The sorted positions whose mean is the median of n values (1-based): 14 and 15 for 28, 14 and 14 for 27. */
export function medianPositions(n: number): [number, number] {
  return [Math.floor((n + 1) / 2), Math.floor(n / 2) + 1];
}

/** A number as a double literal both engines read as DOUBLE (a bare `3.5` is a DECIMAL in Athena). */
function double(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  return `${x}E0`;
}

function int(x: number): string {
  if (!Number.isInteger(x)) throw new RangeError(`not an integer: ${x}`);
  return String(x);
}

/** One row of `judgeQuery`: a subject on a day that the rules turn into a warning. */
export interface JudgedRow {
  day: string;
  kind: 'surge' | 'new';
  subject: string;
  /** A signature's text on the day (NULL for ports). */
  name: string | null;
  alerts: number;
  sources: number;
  active_days: number;
  median_alerts: number;
  median_sources: number;
}

/** The day number of `day` (days since 1970-01-01), in both dialects, so that "the 28 days before" is arithmetic. */
const DAY_NUMBER = `date_diff('day', DATE '1970-01-01', CAST(day AS DATE))`;

/** Each alert once per subject it has (a port, a signature), with the signature's text for titles. */
function subjectAlertsCte(within: string): string {
  return `subject_alerts AS (
  SELECT day, src, ${PORT_SUBJECT} AS subject, CAST(NULL AS VARCHAR) AS name FROM facts WHERE ${within}
  UNION ALL
  SELECT day, src, ${SIGNATURE_SUBJECT} AS subject, signature AS name FROM facts WHERE ${within}
)`;
}

const SUBJECT_FIGURES = `SELECT day, subject, min(name) AS name, count(*) AS alerts, count(DISTINCT src) AS sources
  FROM subject_alerts WHERE subject IS NOT NULL GROUP BY day, subject`;

/**
 * A day's figures per subject (alerts, distinct sources, a signature's text), from `facts`: what the judge
 * keeps per closed day (`lake/subject-days/`), so judging a day reads one day of facts, not 29.
 */
export function subjectDaysQuery(days: readonly string[]): string {
  if (days.length === 0) throw new RangeError('subjectDaysQuery needs at least one day');
  return `WITH ${subjectAlertsCte(`day IN ${inList([...days].sort())}`)}
${SUBJECT_FIGURES}
ORDER BY day, subject`;
}

/**
 * DuckDB: subjectDaysQuery's rows as one JSON text per day, `[[subject, name or "", alerts, sources], …]` in
 * subject order — the form the judge stores. A first run over a long history has a hundred thousand
 * subject-days; one row per day instead of one per subject-day saves most of the cost of bringing them into
 * JavaScript. Days without alerts have no row.
 */
export function subjectDaysJsonQuery(days: readonly string[]): string {
  return `SELECT day, CAST(to_json(list(json_array(subject, coalesce(name, ''), alerts, sources) ORDER BY subject)) AS VARCHAR) AS figures
FROM (${subjectDaysQuery(days)}) GROUP BY day`;
}

/** The rules proper, from `subject_days` (day, n, subject, name, alerts, sources) on. */
function rulesCtes(sorted: readonly string[], rules: WarningRules): string[] {
  const n = rules.baselineDays;
  const [lo, hi] = medianPositions(n);
  const candidateSources = Math.min(rules.surgeMinSources, rules.newMinSources);
  // Sorted position p of the padded series is the active value of rank p - (n - k).
  const at = (p: number, column: string, rank: string) => `sum(CASE WHEN ${rank} = k - ${int(n - p)} THEN ${column} ELSE 0 END)`;
  return [
    `candidates AS (
  SELECT day, n, subject, name, alerts, sources FROM subject_days
  WHERE day IN ${inList(sorted)} AND (alerts >= ${int(rules.surgeMinAlerts)} OR sources >= ${int(candidateSources)})
)`,
    `history AS (
  SELECT c.day, c.subject, h.alerts, h.sources,
    count(*) OVER (PARTITION BY c.day, c.subject) AS k,
    row_number() OVER (PARTITION BY c.day, c.subject ORDER BY h.alerts) AS ra,
    row_number() OVER (PARTITION BY c.day, c.subject ORDER BY h.sources) AS rs
  FROM candidates c JOIN subject_days h ON h.subject = c.subject AND h.n >= c.n - ${int(n)} AND h.n <= c.n - 1
)`,
    `baseline AS (
  SELECT day, subject, max(k) AS k,
    ${at(lo, 'alerts', 'ra')} + ${at(hi, 'alerts', 'ra')} AS alerts2,
    ${at(lo, 'sources', 'rs')} + ${at(hi, 'sources', 'rs')} AS sources2
  FROM history GROUP BY day, subject
)`,
    `judged AS (
  SELECT c.day, c.subject, c.name, c.alerts, c.sources, coalesce(b.k, 0) AS active_days,
    CAST(coalesce(b.alerts2, 0) AS DOUBLE) / 2 AS median_alerts,
    CAST(coalesce(b.sources2, 0) AS DOUBLE) / 2 AS median_sources
  FROM candidates c LEFT JOIN baseline b ON b.day = c.day AND b.subject = c.subject
)`,
    `flagged AS (
  SELECT day, subject, name, alerts, sources, active_days, median_alerts, median_sources,
    CASE
      WHEN active_days = 0 AND sources >= ${int(rules.newMinSources)} THEN 'new'
      WHEN active_days >= ${int(rules.minActiveDays)} AND (
        (alerts >= ${double(rules.surgeFactor)} * median_alerts AND alerts >= ${int(rules.surgeMinAlerts)})
        OR (sources >= ${double(rules.surgeFactor)} * median_sources AND sources >= ${int(rules.surgeMinSources)})
      ) THEN 'surge'
    END AS kind
  FROM judged
)`,
  ];
}

const FLAGGED = `SELECT day, kind, subject, name, alerts, sources, active_days, median_alerts, median_sources
FROM flagged WHERE kind IS NOT NULL
ORDER BY day, subject`;

/**
 * The warnings of the given days, straight from `facts`: every (day, subject) the rules of §15 flag, with its
 * figures and baseline medians, ordered by day and subject — one self-contained text (Athena runs it as is).
 * `days` must be days whose baseline is complete (see `judgeableDays`).
 */
export function judgeQuery(days: readonly string[], rules: WarningRules = DEFAULT_WARNING_RULES): string {
  if (days.length === 0) throw new RangeError('judgeQuery needs at least one day');
  const sorted = [...days].sort();
  const from = addDays(sorted[0]!, -rules.baselineDays);
  const within = `day >= ${literal(from)} AND day <= ${literal(sorted.at(-1)!)}`;
  return `WITH ${subjectAlertsCte(within)},
subject_figures AS (
  ${SUBJECT_FIGURES}
),
subject_days AS (SELECT day, ${DAY_NUMBER} AS n, subject, name, alerts, sources FROM subject_figures),
${rulesCtes(sorted, rules).join(',\n')}
${FLAGGED}`;
}

/**
 * The same rules over a relation `subject_figures` (day, subject, name, alerts, sources) that holds the stored
 * per-day figures of the judged days and their baselines (the embedded engine's path).
 */
export function judgeFiguresQuery(days: readonly string[], rules: WarningRules = DEFAULT_WARNING_RULES): string {
  if (days.length === 0) throw new RangeError('judgeFiguresQuery needs at least one day');
  const sorted = [...days].sort();
  return `WITH subject_days AS (SELECT day, ${DAY_NUMBER} AS n, subject, name, alerts, sources FROM subject_figures),
${rulesCtes(sorted, rules).join(',\n')}
${FLAGGED}`;
}

/**
 * The days among `days` that may be judged: only once `baselineDays` days have passed since the first
 * sensor's deployment (the first judged day is deployment + 28, whose baseline is the 28 days from deployment).
 */
export function judgeableDays(days: Iterable<string>, firstDeployment: string | undefined, rules: WarningRules = DEFAULT_WARNING_RULES): string[] {
  if (!firstDeployment) return [];
  const first = addDays(firstDeployment, rules.baselineDays);
  return [...new Set(days)].filter((d) => d >= first).sort();
}

/**
 * The closed days whose warnings may change when `changed` days were (re)closed: each of them and the
 * `baselineDays` days after it (their baseline holds it), up to the last closed day.
 */
export function daysToJudge(changed: Iterable<string>, lastClosed: string, rules: WarningRules = DEFAULT_WARNING_RULES): string[] {
  const out = new Set<string>();
  for (const d of changed) {
    for (let i = 0; i <= rules.baselineDays; i++) {
      const day = addDays(d, i);
      if (day > lastClosed) break;
      out.add(day);
    }
  }
  return [...out].sort();
}
