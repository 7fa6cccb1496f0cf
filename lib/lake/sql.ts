/**
 * Every SQL text of the lake, in one place (DESIGN §13).
 *
 * The fact table has one schema for both engines: DuckDB here (the close, `query`, reports) and Athena on AWS
 * (`query --stack`). Query texts are written in the subset both dialects share — standard aggregates,
 * `count(DISTINCT …)`, `CASE`, `CAST`, `||`, string comparison of `day` (a `YYYY-MM-DD` string in both, so
 * no date function is needed to select a period). Where the dialects differ, the variants stand side by side
 * in `DIALECT`, named by engine.
 *
 * Reading staging CSV and writing Parquet are DuckDB's alone (Athena reads only the compacted Parquet through
 * the Glue table), so those texts are DuckDB-only and say so.
 */

/** The name of the fact table: the view of `query` and the Glue table on AWS. */
export const FACTS_TABLE = 'facts';

/** The first-seen table: one row per source ever seen on a closed day, with that day. */
export const FIRST_SEEN_TABLE = 'first_seen';
export const FIRST_SEEN_COLUMNS = [
  { name: 'src', duckdb: 'VARCHAR', athena: 'string', comment: 'source pseudonym' },
  { name: 'first_day', duckdb: 'VARCHAR', athena: 'string', comment: 'the first UTC day any sensor saw it, YYYY-MM-DD' },
] as const;

/** The columns of `facts` (DESIGN §13), with their type in each engine. `day` is the Hive partition. */
export const FACT_COLUMNS = [
  { name: 'day', duckdb: 'VARCHAR', athena: 'string', comment: 'UTC day of the alert, YYYY-MM-DD (partition)' },
  { name: 'time', duckdb: 'TIMESTAMP', athena: 'timestamp', comment: 'UTC instant of the alert' },
  { name: 'sensor', duckdb: 'VARCHAR', athena: 'string', comment: 'sensor id (from the signature)' },
  { name: 'src', duckdb: 'VARCHAR', athena: 'string', comment: 'source address as a keyed HMAC-SHA256 pseudonym' },
  { name: 'src_net', duckdb: 'VARCHAR', athena: 'string', comment: 'source network: IPv4 /8 or IPv6 /16' },
  { name: 'src_port', duckdb: 'INTEGER', athena: 'int', comment: 'source port' },
  { name: 'dst', duckdb: 'VARCHAR', athena: 'string', comment: 'destination address pseudonym' },
  { name: 'dst_port', duckdb: 'INTEGER', athena: 'int', comment: 'destination port' },
  { name: 'proto', duckdb: 'VARCHAR', athena: 'string', comment: 'tcp, udp, icmp or other' },
  { name: 'sig_id', duckdb: 'BIGINT', athena: 'bigint', comment: 'signature id' },
  { name: 'signature', duckdb: 'VARCHAR', athena: 'string', comment: 'signature text' },
  { name: 'category', duckdb: 'VARCHAR', athena: 'string', comment: 'alert category' },
  { name: 'severity', duckdb: 'INTEGER', athena: 'int', comment: 'severity (1 = highest)' },
  { name: 'sig_scan', duckdb: 'BOOLEAN', athena: 'boolean', comment: 'signature text or category contains "scan"' },
  { name: 'batch', duckdb: 'VARCHAR', athena: 'string', comment: 'sensor/Idempotency-Key of the batch that carried it' },
] as const;

export type FactColumn = (typeof FACT_COLUMNS)[number]['name'];

/** The columns stored in a day's Parquet file: all but the partition column. */
export const PARQUET_COLUMNS = FACT_COLUMNS.filter((c) => c.name !== 'day');

/** Where the two dialects differ. Each entry: the same meaning, one text per engine. */
export const DIALECT = {
  duckdb: {
    /** Exact median. Athena has only approximate percentiles; medians of short series are taken in code. */
    median: (expr: string) => `median(${expr})`,
    /** Integer division, rounding down. */
    intDiv: (a: string, b: string) => `(${a} // ${b})`,
  },
  athena: {
    median: (expr: string) => `approx_percentile(${expr}, 0.5)`,
    intDiv: (a: string, b: string) => `(${a} / ${b})`,
  },
} as const;

export type Engine = keyof typeof DIALECT;

/** A string literal, quoted for either engine. */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `IN (…)` list of string literals; never empty (an empty list matches nothing). */
export function inList(values: readonly string[]): string {
  return values.length === 0 ? '(NULL)' : `(${values.map(literal).join(', ')})`;
}

// ---------------------------------------------------------------------------------------------------------
// DuckDB only: reading staging CSV and compacted Parquet from the job's scratch directory.

const STAGING_CSV_COLUMNS =
  "{'time_ms': 'BIGINT', 'src': 'VARCHAR', 'src_net': 'VARCHAR', 'src_port': 'INTEGER', 'dst': 'VARCHAR', " +
  "'dst_port': 'INTEGER', 'proto': 'VARCHAR', 'sig_id': 'BIGINT', 'signature': 'VARCHAR', 'category': 'VARCHAR', " +
  "'severity': 'INTEGER', 'sig_scan': 'BOOLEAN'}";

/** An empty relation with the fact columns, for when there are no files to read. */
export const EMPTY_FACTS = `SELECT ${FACT_COLUMNS.map((c) => `CAST(NULL AS ${c.duckdb}) AS ${c.name}`).join(', ')} WHERE false`;

/**
 * DuckDB: the facts in staging CSV files under `<dir>/staging/<day>/<sensor>/<key>.csv` (a glob). Sensor and
 * batch come from the path, as they do from the object key; the day from each alert's time (a batch may span
 * several days).
 */
export function stagingFacts(glob: string): string {
  return `SELECT strftime(epoch_ms(time_ms), '%Y-%m-%d') AS day, epoch_ms(time_ms) AS time, p.sensor AS sensor, src, src_net, src_port,
  dst, dst_port, proto, sig_id, signature, category, severity, sig_scan, p.sensor || '/' || p.key AS batch
FROM (
  SELECT *, regexp_extract(filename, '/staging/[^/]+/([^/]+)/([^/]+)\\.csv$', ['sensor', 'key']) AS p
  FROM read_csv(${literal(glob)}, header = false, auto_detect = false, filename = true, quote = '"', escape = '"',
    allow_quoted_nulls = false, columns = ${STAGING_CSV_COLUMNS})
)`;
}

/** DuckDB: compacted facts under `<dir>/facts/day=<day>/*.parquet` (a glob), with `day` from the path. */
export function parquetFacts(glob: string): string {
  return `SELECT ${FACT_COLUMNS.map((c) => c.name).join(', ')}
FROM read_parquet(${literal(glob)}, hive_partitioning = true, hive_types = {'day': VARCHAR}, hive_types_autocast = false)`;
}

/**
 * DuckDB: all facts, compacted and staged, each batch's day once: a staged batch's rows of a day that
 * compaction already holds are left out (a batch spanning days may be compacted for some of them, and a
 * compacted staging object may not have been deleted yet).
 */
export function allFacts(parts: { parquet?: string; staging?: string }): string {
  const compacted = parts.parquet ? parquetFacts(parts.parquet) : EMPTY_FACTS;
  if (!parts.staging) return compacted;
  return `WITH compacted AS (${compacted})
SELECT * FROM compacted
UNION ALL
SELECT * FROM (${stagingFacts(parts.staging)}) s
WHERE NOT EXISTS (SELECT 1 FROM compacted c WHERE c.batch = s.batch AND c.day = s.day)`;
}

/**
 * DuckDB: writes the given days' facts as Parquet in one pass, one file per day at `<dir>/day=<day>/part-0.parquet`
 * (the `day` column is the partition in the path, not in the file).
 */
export function copyDaysToParquet(source: string, days: readonly string[], dir: string): string {
  const columns = ['day', ...PARQUET_COLUMNS.map((c) => c.name)].join(', ');
  return `COPY (SELECT ${columns} FROM ${source} WHERE day IN ${inList(days)} ORDER BY day, time)
TO ${literal(dir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day), FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE)`;
}

export function readFirstSeen(path: string): string {
  return `SELECT src, first_day FROM read_parquet(${literal(path)})`;
}

export function writeFirstSeen(table: string, path: string): string {
  return `COPY (SELECT src, first_day FROM ${table} ORDER BY first_day) TO ${literal(path)} (FORMAT parquet, COMPRESSION zstd)`;
}

/**
 * DuckDB, the close: the facts of the days being closed — what their Parquet (`old`) held, plus the staged
 * rows (`staged`) of counted batch days (`counted`) that it did not hold.
 */
export const CLOSE_FACTS = `SELECT * FROM old
UNION ALL
SELECT s.* FROM staged s JOIN counted c ON c.day = s.day AND c.batch = s.batch
WHERE NOT EXISTS (SELECT 1 FROM old o WHERE o.day = s.day AND o.batch = s.batch)`;

// ---------------------------------------------------------------------------------------------------------
// The daily close: shared subset. `facts` is the relation of the days being closed, `first_seen` the
// table (src, first_day) of every source seen on a closed day before this close.

/** Distinct sources per day. */
export const DAY_SOURCES = `SELECT day, count(DISTINCT src) AS sources FROM facts GROUP BY day`;

/** Distinct sources per day and sensor. */
export const SENSOR_SOURCES = `SELECT day, sensor, count(DISTINCT src) AS sources FROM facts GROUP BY day, sensor`;

/** Alerts and distinct sources per day and port (TCP/UDP destination ports only, DESIGN §14). */
export const PORT_FIGURES = `SELECT day, proto || '/' || CAST(dst_port AS VARCHAR) AS port, count(*) AS alerts, count(DISTINCT src) AS sources
FROM facts
WHERE proto IN ('tcp', 'udp') AND dst_port IS NOT NULL
GROUP BY day, proto, dst_port`;

/** Signature texts per day, keyed as the counters key signatures: the id, or `msg:<text>` without one. */
export const SIGNATURE_NAMES = `SELECT day, CASE WHEN sig_id IS NULL THEN 'msg:' || signature ELSE CAST(sig_id AS VARCHAR) END AS sig, min(signature) AS name
FROM facts
WHERE signature IS NOT NULL
GROUP BY day, CASE WHEN sig_id IS NULL THEN 'msg:' || signature ELSE CAST(sig_id AS VARCHAR) END`;

/**
 * The first-seen table after the close: every source's earliest day over what it held and the closed days.
 * A late batch for an early day moves a source's first day back; nothing ever moves it later.
 */
export const MERGE_FIRST_SEEN = `SELECT src, min(first_day) AS first_day FROM (
  SELECT src, first_day FROM first_seen
  UNION ALL
  SELECT src, min(day) AS first_day FROM facts GROUP BY src
) AS seen GROUP BY src`;

/** Days whose new sources change with the merge: those some source's first day moved away from. */
export const MOVED_FIRST_DAYS = `SELECT DISTINCT o.first_day AS day
FROM first_seen o JOIN first_seen_next n ON n.src = o.src
WHERE n.first_day < o.first_day`;

/** New sources of the given days: sources whose first day it is (DESIGN §6). */
export function newSources(days: readonly string[]): string {
  return `SELECT first_day AS day, count(*) AS new_sources FROM first_seen_next WHERE first_day IN ${inList(days)} GROUP BY first_day`;
}
