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

/** A list of local files for DuckDB's readers, `['a', 'b']`. */
export function fileList(paths: readonly string[]): string {
  return `[${paths.map(literal).join(', ')}]`;
}

/**
 * DuckDB, the close: the tables that say which staged rows it takes. `close_objects`: the staging objects
 * brought to `<dir>/b=<n>/s.csv` (a number per object, so the path gives it as a Hive partition: no per-row
 * work on file names), with their sensor and batch; `close_counted`: the counted batch days not compacted yet,
 * by object number and UTC day number (epoch days), with the day's name.
 */
export const CLOSE_TABLES = [
  `CREATE TEMP TABLE close_objects (b INTEGER, sensor VARCHAR, batch VARCHAR)`,
  `CREATE TEMP TABLE close_counted (b INTEGER, day_number INTEGER, day VARCHAR)`,
];

/** The partition of the close's output that holds staged rows it does not take (other days, or held ones). */
export const NOT_TAKEN = 'rest';

/**
 * DuckDB, the close, in one pass over the staging objects: every staged row, with `part` its day when it
 * belongs to a counted batch day not compacted yet, else NOT_TAKEN; plus every row of the days' Parquet it
 * rewrites (`old`: files of `facts/day=<day>/`). The columns are those of a day's Parquet.
 */
function closeRows(stagingGlob: string | undefined, old: readonly string[]): string {
  const columns = PARQUET_COLUMNS.map((c) => c.name);
  const parts: string[] = [];
  if (stagingGlob) {
    const from: Record<string, string> = { sensor: 'o.sensor', batch: 'o.batch', time: 'epoch_ms(s.time_ms)' };
    parts.push(`SELECT coalesce(c.day, ${literal(NOT_TAKEN)}) AS part, ${columns.map((c) => `${from[c] ?? `s.${c}`} AS ${c}`).join(', ')}
FROM read_csv(${literal(stagingGlob)}, header = false, auto_detect = false, quote = '"', escape = '"', allow_quoted_nulls = false,
  columns = ${STAGING_CSV_COLUMNS}, hive_partitioning = true, hive_types = {'b': INTEGER}, hive_types_autocast = false) s
JOIN close_objects o ON o.b = s.b
LEFT JOIN close_counted c ON c.b = s.b AND c.day_number = s.time_ms // 86400000`);
  }
  if (old.length > 0) {
    parts.push(`SELECT day AS part, ${columns.join(', ')}
FROM read_parquet(${fileList(old)}, hive_partitioning = true, hive_types = {'day': VARCHAR}, hive_types_autocast = false)`);
  }
  return parts.join('\nUNION ALL\n');
}

/**
 * DuckDB, the close: writes the rows of `closeRows` as Parquet in one pass, a file per part at
 * `<dir>/part=<day>/part-0.parquet` (no `day` column in the file: it is the partition). Not sorted by time:
 * the sort cost more than the write itself, for no measured gain (bench/lake.ts).
 */
export function copyCloseFacts(stagingGlob: string | undefined, old: readonly string[], dir: string): string {
  return `COPY (${closeRows(stagingGlob, old)})
TO ${literal(dir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part), FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE)`;
}

/** DuckDB: the first-seen rows of local Parquet files (the day objects, or the older one-object table). */
export function readFirstSeen(paths: readonly string[]): string {
  return paths.length === 0
    ? `SELECT CAST(NULL AS VARCHAR) AS src, CAST(NULL AS VARCHAR) AS first_day WHERE false`
    : `SELECT src, first_day FROM read_parquet(${fileList(paths)})`;
}

/**
 * DuckDB, the close's first-seen update, over `close_source_days` (CLOSE_SOURCE_DAYS) and the table's local files:
 *  - `close_mins`: each source of the closed days with its earliest day among them;
 *  - `close_known`: those sources' rows in the table;
 *  - `close_added`: sources first seen on a closed day (not in the table on that day or before);
 *  - `close_moved`: rows of the table whose source a late batch now shows earlier (to drop from their file),
 *    with that file's path.
 * The file of a row is wanted only for the moved ones (almost always none): it is given per file as a constant,
 * not read with `filename = true`, which would make a string for each of the table's rows (measured on the
 * national day, 20 M rows: the join 2.6 s without it, 7.0–9.6 s with it).
 */
export function firstSeenUpdate(files: readonly string[]): string[] {
  const none = `SELECT CAST(NULL AS VARCHAR) AS src, CAST(NULL AS VARCHAR) AS day, CAST(NULL AS VARCHAR) AS first_day WHERE false`;
  const known = files.length === 0 ? none : `SELECT m.src, m.day, f.first_day FROM read_parquet(${fileList(files)}) f JOIN close_mins m ON f.src = m.src`;
  const moved =
    files.length === 0
      ? `SELECT CAST(NULL AS VARCHAR) AS src, CAST(NULL AS VARCHAR) AS filename WHERE false`
      : files
          .map((f) => `SELECT s.src, ${literal(f)} AS filename FROM read_parquet(${literal(f)}) s WHERE s.src IN (SELECT src FROM close_known WHERE first_day > day)`)
          .join('\nUNION ALL\n');
  return [
    `CREATE TEMP TABLE close_mins AS SELECT src, min(day) AS day FROM close_source_days GROUP BY src`,
    // The hash table is built on the closed days' sources and the table's rows probe it, as written: DuckDB
    // takes the Parquet side for the smaller (it guesses a list of files' rows from the first one) and built it
    // from the whole table. Measured on the national day (2 M sources against 20 M rows in 13 objects): the
    // join 5.3–5.9 s and 10.4–11.6 s of CPU as the optimiser ordered it, 1.2–1.3 s and 2.3 s as written.
    `SET disabled_optimizers = 'join_order,build_side_probe_side'`,
    `CREATE TEMP TABLE close_known AS ${known}`,
    `RESET disabled_optimizers`,
    `CREATE TEMP TABLE close_added AS SELECT m.src, m.day AS first_day FROM close_mins m
WHERE NOT EXISTS (SELECT 1 FROM close_known k WHERE k.src = m.src AND k.first_day <= m.day)`,
    `CREATE TEMP TABLE close_moved AS ${moved}`,
  ];
}

/**
 * DuckDB: the new content of the first-seen objects the close rewrites (`touched`: their rows but the moved
 * ones, plus the added rows), a file per object at `<dir>/part=<day-YYYY-MM-DD | month-YYYY-MM>/` (see
 * firstSeenPartOf: days of `latestMonth`, months before it) — with both columns in the file (Athena reads the
 * objects as they are, without partitions).
 */
export function copyFirstSeen(touched: readonly string[], dir: string, latestMonth: string): string {
  const kept =
    touched.length === 0
      ? ''
      : `SELECT src, first_day FROM read_parquet(${fileList(touched)}, filename = true) f
WHERE NOT EXISTS (SELECT 1 FROM close_moved m WHERE m.src = f.src AND m.filename = f.filename)
UNION ALL
`;
  return `COPY (SELECT src, first_day, ${firstSeenPartSql(latestMonth)} AS part FROM (${kept}SELECT src, first_day FROM close_added))
TO ${literal(dir)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (part), FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE)`;
}

/** DuckDB: the object a first-seen row belongs in (firstSeenPartOf), as a partition value: `day-…`, `month-…`. */
export function firstSeenPartSql(latestMonth: string): string {
  return `CASE WHEN substr(first_day, 1, 7) < ${literal(latestMonth)} THEN 'month-' || substr(first_day, 1, 7) ELSE 'day-' || first_day END`;
}

/** DuckDB: new sources per first day in local first-seen objects that hold several days (month objects). */
export function firstSeenPerDay(paths: readonly string[]): string {
  return `SELECT first_day AS day, count(*) AS n FROM read_parquet(${fileList(paths)}) GROUP BY first_day`;
}

/** DuckDB: the number of rows of each local Parquet file, from its footer (no data read). */
export function fileRows(paths: readonly string[]): string {
  return `SELECT file_name AS path, num_rows AS n FROM parquet_file_metadata(${fileList(paths)})`;
}

// ---------------------------------------------------------------------------------------------------------
// The daily close: shared subset. `facts` is the relation of the days being closed, `first_seen` the
// table (src, first_day) of every source seen on a closed day before this close.

/** Distinct sources per day. */
export const DAY_SOURCES = `SELECT day, count(DISTINCT src) AS sources FROM facts GROUP BY day`;

/**
 * DuckDB: the closed days' source-days, one row per (day, source) with its alerts, those its signature marks
 * as a scan and the others. Grouped once, it gives the days' alerts and distinct sources (CLOSE_DAY_FIGURES),
 * each source's earliest day (firstSeenUpdate) and the per-source rows of the close statistics
 * (closeDayStatisticsQuery), which would otherwise each group the alerts by source again (measured on the
 * national day, 14.4 M alerts: 9.3 → 7.1 s for the three).
 */
export const CLOSE_SOURCE_DAYS = `CREATE TEMP TABLE close_source_days AS
SELECT day, src, count(*) AS alerts, sum(CASE WHEN sig_scan THEN 1 ELSE 0 END) AS sig_scan_alerts,
  sum(CASE WHEN NOT sig_scan THEN 1 ELSE 0 END) AS plain_alerts
FROM facts GROUP BY day, src`;

/** DuckDB: alerts and distinct sources per day, from `close_source_days`. */
export const CLOSE_DAY_FIGURES = `SELECT day, sum(alerts) AS alerts, count(*) AS sources FROM close_source_days GROUP BY day`;

/** Distinct sources per day and sensor. */
export const SENSOR_SOURCES = `SELECT day, sensor, count(DISTINCT src) AS sources FROM facts GROUP BY day, sensor`;

/** Alerts and distinct sources per day and port (TCP/UDP destination ports only, DESIGN §14). */
export const PORT_FIGURES = `SELECT day, proto || '/' || CAST(dst_port AS VARCHAR) AS port, count(*) AS alerts, count(DISTINCT src) AS sources
FROM facts
WHERE proto IN ('tcp', 'udp') AND dst_port IS NOT NULL
GROUP BY day, proto, dst_port`;

/**
 * DuckDB: PORT_FIGURES' distinct sources as one text per day, `tcp/445=12,udp/53=3,…` (ports hold neither `,`
 * nor `=`). A long history's close has a hundred thousand day-ports; one row per day instead of one per
 * day-port saves most of the cost of bringing them into JavaScript (measured: 390 → 150 ms on the bench's
 * 190-day history).
 */
export const PORT_SOURCES_PER_DAY = `SELECT day, string_agg(port || '=' || CAST(sources AS VARCHAR), ',') AS ports FROM (${PORT_FIGURES}) GROUP BY day`;

/** Signature texts per day, keyed as the counters key signatures: the id, or `msg:<text>` without one. */
export const SIGNATURE_NAMES = `SELECT day, CASE WHEN sig_id IS NULL THEN 'msg:' || signature ELSE CAST(sig_id AS VARCHAR) END AS sig, min(signature) AS name
FROM facts
WHERE signature IS NOT NULL
GROUP BY day, CASE WHEN sig_id IS NULL THEN 'msg:' || signature ELSE CAST(sig_id AS VARCHAR) END`;
