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

export function archiveKey(day: string): string {
  return `public/archive/${day}/alerts-daily.png`;
}

export const PARTNER_INDEX = 'partners/index.html';

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
