/**
 * The bucket layout (DESIGN §8), shared by the render job, the local CDN and the CDK stack.
 * One private bucket; CloudFront serves `public/` to anyone and `partners/` only with a signed URL;
 * `raw/` is never served.
 */

export const PUBLIC_PREFIX = 'public/';
export const PARTNERS_PREFIX = 'partners/';
export const RAW_PREFIX = 'raw/';

export const PUBLIC_KEYS = {
  png: 'public/alerts-daily.png',
  svg: 'public/alerts-daily.svg',
  json: 'public/alerts-daily.json',
  csv: 'public/alerts-daily.csv',
  index: 'public/index.html',
} as const;

export const ARCHIVE_PREFIX = 'public/archive/';

export function archiveKey(day: string): string {
  return `${ARCHIVE_PREFIX}${day}/alerts-daily.png`;
}

export const PARTNER_INDEX = 'partners/index.html';

/** Monthly partner reports (DESIGN §14): `partners/reports/YYYY-MM.json` and `.html`. */
export const REPORTS_PREFIX = 'partners/reports/';
export function reportKey(month: string, ext: 'json' | 'html'): string {
  return `${REPORTS_PREFIX}${month}.${ext}`;
}

/**
 * Early warnings for partners (DESIGN §15): the last 90 days' surge and new warnings as JSON, an Atom 1.0
 * feed and IDEA records. The store of every warning (silent sensors included) is private: `WARNINGS_STORE_KEY`.
 */
export const PARTNER_WARNINGS_KEYS = {
  json: 'partners/warnings.json',
  atom: 'partners/warnings.atom',
  idea: 'partners/warnings.idea.json',
} as const;

/** Cache-Control per kind of object. */
export const CACHE = {
  /** The stable public objects change at every render (hourly): short, so embeds stay fresh. */
  short: 'public, max-age=300, stale-while-revalidate=600',
  /** A day's archive copy never changes again. */
  immutable: 'public, max-age=31536000, immutable',
  /** Partner objects: never in shared caches. */
  private: 'private, max-age=300',
} as const;

/** Paths under which a CDN may serve objects; anything else (raw/ included) is never served. */
export function isServable(key: string): boolean {
  return key.startsWith(PUBLIC_PREFIX) || key.startsWith(PARTNERS_PREFIX);
}

/**
 * The alert lake (DESIGN §13), private like `raw/`:
 *  - `staging/<day>/<sensor>/<idempotencyKey>.csv` — one batch's facts, written by ingest, under the batch's
 *                                                   earliest day (as its raw copy);
 *  - `facts/day=<day>/part-0.parquet`                — a day's compacted facts (the Glue table's location);
 *  - `lake/first-seen/day=<day>.parquet`             — pseudonym → first day for the sources first seen that
 *    `lake/first-seen/month=<YYYY-MM>.parquet`        day (days of the latest closed month) or month (before
 *                                                   it), so a close writes only its new sources, and a cold
 *                                                   close fetches a few dozen objects, not one per day (the
 *                                                   folder is the location of its Glue table);
 *                                                   `part-0.parquet` there is the older one-object table, split
 *                                                   into day objects by the first close that finds it;
 *  - `athena-results/`                               — what Athena writes for `query --stack`.
 */
export const STAGING_PREFIX = 'staging/';
export const FACTS_PREFIX = 'facts/';
export const LAKE_PREFIX = 'lake/';
export const FIRST_SEEN_PREFIX = 'lake/first-seen/';
/** The first-seen table as one object (before day objects); read, then replaced by day objects by a close. */
export const FIRST_SEEN_KEY = `${FIRST_SEEN_PREFIX}part-0.parquet`;

/**
 * The first-seen table's objects: `day=<day>` for each day of the latest closed day's month, `month=<YYYY-MM>`
 * for each month before it (a close that enters a new month folds the last month's day objects into one).
 */
export function firstSeenPartOf(day: string, latestClosedDay: string): string {
  return day.slice(0, 7) < latestClosedDay.slice(0, 7) ? `month=${day.slice(0, 7)}` : `day=${day}`;
}

export function firstSeenKey(part: string): string {
  return `${FIRST_SEEN_PREFIX}${part}.parquet`;
}

/** `lake/first-seen/day=<day>.parquet` → `day=<day>` (or `month=<YYYY-MM>`); undefined for the older one-object table. */
export function firstSeenPart(key: string): string | undefined {
  return /^lake\/first-seen\/((?:day=\d{4}-\d{2}-\d{2})|(?:month=\d{4}-\d{2}))\.parquet$/.exec(key)?.[1];
}
export const ATHENA_RESULTS_PREFIX = 'athena-results/';
/**
 * Per closed day, each warning subject's alerts and distinct sources (lib/warnings/judge.ts), one object per
 * month: judging a day then reads one day of facts and the baseline's one or two month objects, not 29 days of
 * facts; a first run over a long history writes one object a month, not one a day.
 */
export const SUBJECT_DAYS_PREFIX = 'lake/subject-days/';
export function subjectMonthKey(month: string): string {
  return `${SUBJECT_DAYS_PREFIX}month=${month}.json`;
}
/** Every warning ever raised (lib/warnings/store.ts): private, read whole by the render job and the CLI. */
export const WARNINGS_STORE_KEY = 'lake/warnings.json';
/** The partner charts' statistics of the last close, reused by the hourly runs in between. */
export const PARTNER_STATISTICS_KEY = 'lake/partner-statistics.json';
/**
 * Closed days whose analysis or warnings have not run yet (a run skipped that step, or stopped before it):
 * `{"analysis": [days], "warnings": [days]}`, written before a close is recorded, cleared once the step ran.
 */
export const RENDER_PENDING_KEY = 'lake/render-pending.json';

export function stagingKey(day: string, sensor: string, idempotencyKey: string): string {
  return `${STAGING_PREFIX}${day}/${sensor}/${idempotencyKey}.csv`;
}

export function factsKey(day: string): string {
  return `${FACTS_PREFIX}day=${day}/part-0.parquet`;
}

/** `staging/<day>/<sensor>/<key>.csv` → its parts, or undefined for anything else. */
export function parseStagingKey(key: string): { day: string; sensor: string; idempotencyKey: string } | undefined {
  const m = /^staging\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/([^/]+)\.csv$/.exec(key);
  return m ? { day: m[1]!, sensor: m[2]!, idempotencyKey: m[3]! } : undefined;
}
