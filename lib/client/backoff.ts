/**
 * When to try a batch again. Exponential backoff with "full jitter" (a uniform wait between zero and the
 * exponential bound), which spreads many sensors that failed together far better than a fixed or
 * equal-jitter wait; and the server's Retry-After (RFC 9110 §10.2.3) is a floor, never shortened.
 */

export interface BackoffPolicy {
  /** Bound of the first wait. */
  baseMs: number;
  /** No single wait's jitter bound exceeds this. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 30_000 };

/** The jitter bound after `attempt` failures (0-based): base·2^attempt, capped. */
export function backoffBound(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  // 2 ** 60 already overflows any cap; clamping the exponent keeps the arithmetic finite for long outages.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 40));
}

/**
 * The wait before the next attempt. Without Retry-After: uniform in [0, bound]. With it: at least what the
 * server asked, plus a jitter of at most the same amount again (and at most the bound), so that sensors told
 * "2 s" at the same moment do not all come back at the same moment.
 */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, random: () => number = Math.random, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const bound = backoffBound(attempt, policy);
  if (retryAfterMs === undefined) return random() * bound;
  return retryAfterMs + random() * Math.min(bound, retryAfterMs);
}

/**
 * Retry-After as milliseconds from `now`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). Undefined when
 * absent or unreadable (then the backoff alone decides).
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** A wait that ends early (resolving false) when `signal` aborts: a stopping follower must not sleep on. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
