/**
 * The analysts' statistics (DESIGN §14) as SQL over `facts` and `first_seen`, one text for DuckDB and Athena.
 *
 * Definitions, as DESIGN §14 states them:
 *  - a port is a TCP or UDP destination port, `tcp/445`;
 *  - a scan source-day is a source whose alerts on one UTC day, over all sensors, reach `minPorts` distinct
 *    destination ports (TCP/UDP) or `minDestinations` distinct destination addresses; scan alerts are all the
 *    alerts of scan source-days plus every alert whose signature text or category contains "scan" (`sig_scan`);
 *  - unknown traffic is every alert that is not a scan alert;
 *  - an ICMP source (over a period) has at least one ICMP alert in it; the others are non-ICMP sources;
 *  - a source's activity days are the distinct UTC days with at least one alert from it;
 *  - a new source of a day is first seen that day (`first_seen`, over every counted alert); a new source of
 *    unknown traffic also has at least one unknown-traffic alert that day.
 * Every query starts from the same common table expressions (baseCtes), so each definition is written once;
 * the close's per-day figures (closeDayStatisticsQuery) share its scan source-days and count the same classes
 * per source-day rather than per alert.
 */
import { inList, literal } from './sql.js';

export interface ScanThresholds {
  /** Distinct TCP/UDP destination ports of a source-day that make it a (vertical) scan. */
  minPorts: number;
  /** Distinct destination addresses of a source-day that make it a (horizontal) scan. */
  minDestinations: number;
}

export const DEFAULT_SCAN_THRESHOLDS: ScanThresholds = { minPorts: 20, minDestinations: 20 };

/** Activity cohorts (DESIGN §14): exactly 1 day, at least 10, at least 100. `maxDays` null: open. */
export interface Cohort {
  minDays: number;
  maxDays: number | null;
}

export const DEFAULT_COHORTS: Cohort[] = [
  { minDays: 1, maxDays: 1 },
  { minDays: 10, maxDays: null },
  { minDays: 100, maxDays: null },
];

export interface Period {
  from: string;
  to: string;
}

/** `tcp/445` of a fact row, NULL when it has no port (ICMP, other, or no destination port). */
export const PORT_EXPR = `CASE WHEN proto IN ('tcp', 'udp') AND dst_port IS NOT NULL THEN proto || '/' || CAST(dst_port AS VARCHAR) END`;

/**
 * A TCP/UDP destination port as one number, for counting a source-day's distinct ports: the same pairs
 * (protocol, port) are distinct as with PORT_EXPR, and NULL for the same rows, without making a string per
 * alert (measured on the national day's 9 M alerts of busy sources: 4.3 → 3.5 s).
 */
function portNumber(row: string): string {
  return `CASE WHEN ${row}.proto IN ('tcp', 'udp') AND ${row}.dst_port IS NOT NULL THEN CAST(${row}.dst_port AS BIGINT) * 2 + CASE WHEN ${row}.proto = 'udp' THEN 1 ELSE 0 END END`;
}

/** Scan source-days among `busy` (day, src) pairs of `facts`: 20 ports or 20 destinations by default. */
function scanDaysCte(facts: string, busy: string, t: ScanThresholds): string {
  return `scan_days AS (
  SELECT f.day, f.src FROM ${facts} f JOIN ${busy} b ON b.day = f.day AND b.src = f.src GROUP BY f.day, f.src
  HAVING count(DISTINCT ${portNumber('f')}) >= ${t.minPorts} OR count(DISTINCT f.dst) >= ${t.minDestinations}
)`;
}

/**
 * The period's facts (`pf`), its scan source-days (`scan_days`) and every alert with its class (`classified`:
 * `port`, `scan`), as common table expressions. Scan source-days are judged on whole days, so a period is
 * always whole days. `pfMarker`: NOT_MATERIALIZED in the texts that run on DuckDB only.
 */
function baseCtes(period: Period, t: ScanThresholds, pfMarker = ''): string[] {
  return [
    `pf AS ${pfMarker}(
  SELECT * FROM facts WHERE day >= ${literal(period.from)} AND day <= ${literal(period.to)}
)`,
    // A source-day with fewer alerts than the lower threshold cannot reach either: the distinct counts, the
    // costly part, are taken only over the others (measured: half the time of the whole close's statistics
    // on Zipf-like volumes, where most sources send a few alerts).
    `busy_days AS (
  SELECT day, src FROM pf GROUP BY day, src HAVING count(*) >= ${Math.min(t.minPorts, t.minDestinations)}
)`,
    scanDaysCte('pf', 'busy_days', t),
    `classified AS (
  SELECT pf.day, pf.src, pf.proto, pf.src_net, pf.dst_port, pf.sensor, ${PORT_EXPR} AS port,
    (pf.sig_scan OR sd.src IS NOT NULL) AS scan
  FROM pf LEFT JOIN scan_days sd ON sd.day = pf.day AND sd.src = pf.src
)`,
  ];
}

/**
 * Where the statistics queries of one period read `classified` from: the common table expressions themselves
 * (one self-contained text per query, as Athena runs them), or a table made once by `materializeStatistics`
 * (the embedded engine: a report's dozen queries then classify the period's alerts once, not a dozen times).
 */
export interface StatisticsScope {
  period: Period;
  thresholds?: ScanThresholds;
  materialized?: boolean;
}

function statement(scope: StatisticsScope, extra: string[], body: string): string {
  const ctes = [...(scope.materialized ? [] : baseCtes(scope.period, scope.thresholds ?? DEFAULT_SCAN_THRESHOLDS)), ...extra];
  return `${ctes.length > 0 ? `WITH ${ctes.join(',\n')}\n` : ''}${body}`;
}

/**
 * DuckDB materialises a common table expression that is read more than once: every column of the period's
 * facts copied into memory before the first reader starts. Marked not materialised, each reader scans the
 * Parquet itself and reads only the columns it uses. DuckDB syntax (Athena has no such marker): for the texts
 * that run on the embedded engine only.
 */
const NOT_MATERIALIZED = 'NOT MATERIALIZED ';

/** DuckDB: the table `classified` (or `table`) of the period, for queries with `materialized: true`. */
export function materializeStatistics(period: Period, t: ScanThresholds = DEFAULT_SCAN_THRESHOLDS, table = 'classified'): string {
  return `CREATE OR REPLACE TEMP TABLE ${table} AS WITH ${baseCtes(period, t, NOT_MATERIALIZED).join(',\n')}\nSELECT * FROM classified`;
}

/**
 * DuckDB: the table `classified` of a period, taken from a table of classified alerts of a longer period. An
 * alert's class depends only on its own source-day (scan source-days are judged on whole days), so the rows of
 * the shorter period are exactly what `materializeStatistics` would make for it.
 */
export function classifiedWithin(table: string, period: Period): string {
  return `CREATE OR REPLACE TEMP TABLE classified AS SELECT * FROM ${table} WHERE day >= ${literal(period.from)} AND day <= ${literal(period.to)}`;
}

/** Alerts and distinct sources of the period. */
export function headlineQuery(scope: StatisticsScope): string {
  return statement(scope, [], `SELECT count(*) AS alerts, count(DISTINCT src) AS sources FROM classified`);
}

/** Sources with and without an ICMP alert, and all their alerts (`icmp` 1 or 0). */
export function icmpSplitQuery(scope: StatisticsScope): string {
  return statement(
    scope,
    [`per_source AS (
  SELECT src, max(CASE WHEN proto = 'icmp' THEN 1 ELSE 0 END) AS icmp, count(*) AS alerts FROM classified GROUP BY src
)`],
    `SELECT icmp, count(*) AS sources, sum(alerts) AS alerts FROM per_source GROUP BY icmp`,
  );
}

/** Scan sources and alerts, and the scan alerts of the source with the most of them. */
export function scansQuery(scope: StatisticsScope): string {
  return statement(
    scope,
    [`per_source AS (SELECT src, count(*) AS alerts FROM classified WHERE scan GROUP BY src)`],
    `SELECT count(*) AS sources, coalesce(sum(alerts), 0) AS alerts, coalesce(max(alerts), 0) AS largest FROM per_source`,
  );
}

/**
 * Sources per cohort of activity days, and each cohort's top ports by alerts, in one statement: a source's
 * activity days are counted once, then matched against every cohort (a source may be in several: at least 10
 * days and at least 100). Rows: `cohort` (its index in `cohorts`) with `sources`, or with `port` and `alerts`,
 * at most `top` per cohort, in order of alerts (ties by port). Athena does not keep a common table expression
 * that is read twice: this reads the period's alerts three times there, against nine for the two statements per
 * cohort it replaces; DuckDB keeps `members` and reads them once (the render's first run: 620 → ~200 ms for its
 * eight periods).
 */
export function activityQuery(scope: StatisticsScope, cohorts: readonly Cohort[], top: number): string {
  const bound = (n: number | null) => (n === null ? 'CAST(NULL AS BIGINT)' : `CAST(${Math.trunc(n)} AS BIGINT)`);
  const values = cohorts.map((c, i) => `(${i}, ${bound(c.minDays)}, ${bound(c.maxDays)})`).join(', ');
  return statement(
    scope,
    [
      `activity AS (SELECT src, count(DISTINCT day) AS days FROM classified GROUP BY src)`,
      `members AS (
  SELECT k.cohort, a.src FROM activity a
  JOIN (SELECT * FROM (VALUES ${values}) AS v (cohort, min_days, max_days)) k
    ON a.days >= k.min_days AND (k.max_days IS NULL OR a.days <= k.max_days)
)`,
      `cohort_ports AS (
  SELECT m.cohort, c.port, count(*) AS alerts FROM classified c JOIN members m ON m.src = c.src
  WHERE c.port IS NOT NULL GROUP BY m.cohort, c.port
)`,
      `ranked AS (
  SELECT cohort, port, alerts, row_number() OVER (PARTITION BY cohort ORDER BY alerts DESC, port) AS port_rank FROM cohort_ports
)`,
    ],
    `SELECT cohort, count(*) AS sources, CAST(NULL AS VARCHAR) AS port, CAST(NULL AS BIGINT) AS alerts FROM members GROUP BY cohort
UNION ALL
SELECT cohort, CAST(NULL AS BIGINT) AS sources, port, alerts FROM ranked WHERE port_rank <= ${Math.trunc(top)}
ORDER BY cohort, alerts DESC, port`,
  );
}

/** Per day: alerts, distinct sources, scan alerts; new sources and new sources of unknown traffic. */
export function perDayQuery(scope: StatisticsScope): string {
  const { from, to } = scope.period;
  return statement(
    scope,
    [
      // The sources first seen in the period, once: the new sources per day count them, and the new sources
      // of unknown traffic join the period's alerts against them rather than against every source ever seen
      // (measured on the 190-day bench history's first render: 300 → 200 ms for its eight periods).
      `period_first_seen AS (
  SELECT src, first_day FROM first_seen WHERE first_day >= ${literal(from)} AND first_day <= ${literal(to)}
)`,
      `new_unknown AS (
  SELECT c.day, count(DISTINCT c.src) AS n FROM classified c
  JOIN period_first_seen fs ON fs.src = c.src AND fs.first_day = c.day
  WHERE NOT c.scan GROUP BY c.day
)`,
      `new_sources AS (SELECT first_day AS day, count(*) AS n FROM period_first_seen GROUP BY first_day)`,
      `days AS (
  SELECT day, count(*) AS alerts, count(DISTINCT src) AS sources, sum(CASE WHEN scan THEN 1 ELSE 0 END) AS scan_alerts
  FROM classified GROUP BY day
)`,
    ],
    `SELECT d.day, d.alerts, d.sources, d.scan_alerts, coalesce(n.n, 0) AS new_sources, coalesce(u.n, 0) AS new_unknown_sources
FROM days d LEFT JOIN new_sources n ON n.day = d.day LEFT JOIN new_unknown u ON u.day = d.day
ORDER BY d.day`,
  );
}

/** The top ports of the period by alerts, with distinct sources. */
export function portsQuery(scope: StatisticsScope, top: number): string {
  return statement(
    scope,
    [],
    `SELECT port, count(*) AS alerts, count(DISTINCT src) AS sources FROM classified
WHERE port IS NOT NULL GROUP BY port ORDER BY alerts DESC, port LIMIT ${top}`,
  );
}

/** Alerts by source network and port bin of 1,024 ports (bin 0: ports 0–1023), all and scans only. */
export function matrixQuery(scope: StatisticsScope): string {
  return statement(
    scope,
    [],
    `SELECT src_net, CAST(floor(dst_port / 1024.0) AS INTEGER) AS port_bin, count(*) AS alerts,
  sum(CASE WHEN scan THEN 1 ELSE 0 END) AS scan_alerts
FROM classified WHERE port IS NOT NULL
GROUP BY src_net, CAST(floor(dst_port / 1024.0) AS INTEGER)`,
  );
}

/** Per sensor and watched port, alerts from ICMP sources and from the others (over the period). */
export function watchedPortsQuery(scope: StatisticsScope, ports: readonly string[]): string {
  return statement(
    scope,
    [`icmp_sources AS (SELECT DISTINCT src FROM classified WHERE proto = 'icmp')`],
    `SELECT c.sensor, c.port, CASE WHEN i.src IS NULL THEN 0 ELSE 1 END AS icmp, count(*) AS alerts
FROM classified c LEFT JOIN icmp_sources i ON i.src = c.src
WHERE c.port IN ${inList(ports)}
GROUP BY c.sensor, c.port, CASE WHEN i.src IS NULL THEN 0 ELSE 1 END`,
  );
}

/** Alerts of every port of the period (for the port classes). */
export function allPortsQuery(scope: StatisticsScope): string {
  return statement(scope, [], `SELECT port, count(*) AS alerts FROM classified WHERE port IS NOT NULL GROUP BY port`);
}

/**
 * DuckDB (the close runs on the embedded engine only). Per closed day: scan alerts and new sources of unknown
 * traffic (for the daily summaries and `stats`) — the same figures as `classified` gives, from one row per
 * source-day instead of one per alert: a scan source's alerts are all scan alerts, another source's only those
 * its signature marks; a source is of unknown traffic when it has an alert that is no scan. The per-source
 * rows come from the close's `close_source_days` (CLOSE_SOURCE_DAYS), so the alerts are read once more, for
 * the scan test's columns only. Measured on the national day's facts (14.4 M alerts): 9.7 s when this query
 * grouped them by source itself from a materialised `pf`, ~5 s now (plus 1.5 s for `close_source_days`, which
 * the day figures and the first-seen update use too).
 */
export function closeDayStatisticsQuery(days: readonly string[], t: ScanThresholds = DEFAULT_SCAN_THRESHOLDS): string {
  const within = `day IN ${inList([...days].sort())}`;
  return `WITH pf AS (
  SELECT day, src, dst, proto, dst_port FROM facts WHERE ${within}
),
per_source AS (
  SELECT day, src, alerts, sig_scan_alerts, plain_alerts FROM close_source_days WHERE ${within}
),
busy_days AS (SELECT day, src FROM per_source WHERE alerts >= ${Math.min(t.minPorts, t.minDestinations)}),
${scanDaysCte('pf', 'busy_days', t)},
judged AS (
  SELECT p.day, p.src, p.alerts, p.sig_scan_alerts, p.plain_alerts, s.src IS NOT NULL AS scan_source
  FROM per_source p LEFT JOIN scan_days s ON s.day = p.day AND s.src = p.src
),
new_unknown AS (
  SELECT j.day, count(DISTINCT j.src) AS n FROM judged j
  JOIN first_seen fs ON fs.src = j.src AND fs.first_day = j.day
  WHERE NOT j.scan_source AND j.plain_alerts > 0 GROUP BY j.day
)
SELECT j.day, sum(CASE WHEN j.scan_source THEN j.alerts ELSE j.sig_scan_alerts END) AS scan_alerts, coalesce(max(u.n), 0) AS new_unknown_sources
FROM judged j LEFT JOIN new_unknown u ON u.day = j.day
GROUP BY j.day`;
}

/** Alerts per signature (its id, or `msg:<text>` without one) with its text, top `top`. */
export function signaturesQuery(period: Period, top: number): string {
  const key = `CASE WHEN sig_id IS NULL THEN 'msg:' || signature ELSE CAST(sig_id AS VARCHAR) END`;
  return `SELECT ${key} AS sig, min(signature) AS name, count(*) AS alerts FROM facts
WHERE day >= ${literal(period.from)} AND day <= ${literal(period.to)} AND (sig_id IS NOT NULL OR signature IS NOT NULL)
GROUP BY ${key} ORDER BY alerts DESC, sig LIMIT ${top}`;
}

/** Alerts per category, top `top`. */
export function categoriesQuery(period: Period, top: number): string {
  return `SELECT category, count(*) AS alerts FROM facts
WHERE day >= ${literal(period.from)} AND day <= ${literal(period.to)} AND category IS NOT NULL
GROUP BY category ORDER BY alerts DESC, category LIMIT ${top}`;
}
