/**
 * Token buckets for the ingest's own flood protection (issue 11 item 2): a budget per verified sensor, checked
 * before the body is digested, decompressed, parsed or stored, and the budget of registry reads for key ids
 * never seen before (lib/ingest/sensor-keys.ts). Per process: on AWS each Lambda container has its own, which
 * is why the stage throttle and a WAF rule (docs/DEPLOY.md) sit in front.
 */

export class TokenBucket {
  private tokens: number;
  private updatedAt: number | undefined;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token if there is one at `now` (ms). */
  take(now: number): boolean {
    if (!this.has(now)) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether there is a token at `now`, without taking it. */
  has(now: number): boolean {
    if (this.updatedAt !== undefined) this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    return this.tokens >= 1;
  }

  /** Seconds until the next token (at least 1, for Retry-After). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }
}

/** One bucket per verified sensor. Sensors are registered, so the map is bounded by the registry's size. */
export class SensorBudgets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    readonly batchesPerSecond: number,
    readonly burst: number,
  ) {}

  /** Takes one batch from `sensor`'s budget; the seconds to wait when there is none, else 0. */
  take(sensor: string, now: number): number {
    let bucket = this.buckets.get(sensor);
    if (bucket === undefined) this.buckets.set(sensor, (bucket = new TokenBucket(this.batchesPerSecond, this.burst)));
    return bucket.take(now) ? 0 : bucket.retryAfterSeconds();
  }
}
