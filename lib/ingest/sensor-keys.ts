/**
 * Sensor public keys for signature verification, cached per process.
 *
 * One Ed25519 KeyObject per sensor is built once and reused: building it per request halves verify speed.
 *
 * How late a change is seen (issue 11): a registered sensor's entry lives at most MAX_SENSOR_CACHE_TTL_MS
 * (10 s, whatever the configured TTL says), so a revocation bites everywhere within 10 s; a new key (`sensor add`
 * on an existing id) is seen at once, because a signature that does not verify with the cached key makes the
 * verifier ask for the registry's current key (`refreshedKeyFor`, at most one read per sensor a second). The
 * local stack sets the TTL to 0, so there the first request after `sensor add`/`sensor revoke` sees the change.
 *
 * What junk costs (issue 11 item 2): an id the registry does not know is remembered for UNKNOWN_TTL_MS in a
 * bounded negative cache (first in, first out), so repeating it costs no read; ids never seen before are
 * looked up only while a budget of misses shared by the process has room (over it: 429 rate_limited, no read).
 * Only a lookup that finds nothing spends it, so without a flood an honest sensor is never refused, and
 * sensors already known are never subject to it at all (measured: `npm run bench -- --only flood`).
 */
import type { KeyObject } from 'node:crypto';
import { RateLimitedError, SignatureError } from '../errors.js';
import { publicKeyFromBase64url } from '../signing/keys.js';
import type { SensorRegistry } from '../store/registry.js';
import { TokenBucket } from './rate-limit.js';

interface Entry {
  key?: KeyObject;
  /** The registry's base64url key the KeyObject was built from. */
  raw?: string;
  status: 'active' | 'revoked';
  /** The registry's deployment day (YYYY-MM-DD) of an active sensor. */
  deployedAt?: string;
  fetchedAt: number;
}

/** The longest a registered sensor's key or status is trusted without reading the registry again. */
export const MAX_SENSOR_CACHE_TTL_MS = 10_000;
const UNKNOWN_TTL_MS = 5_000;
/** A failed signature re-reads a sensor's key at most this often. */
const MIN_REFRESH_MS = 1_000;

export interface SensorKeyCacheOptions {
  /** Made-up ids remembered at once (default 10,000: about 1 MB). */
  maxUnknown?: number;
  /** Lookups that find no sensor, per second and as a burst (defaults 10 and 20), before new ids are refused. */
  lookupsPerSecond?: number;
  lookupBurst?: number;
}

export class SensorKeyCache {
  private readonly entries = new Map<string, Entry>();
  /** Ids the registry did not know → when that was read. */
  private readonly unknown = new Map<string, number>();
  private readonly pending = new Map<string, Promise<Entry | undefined>>();
  /** When a failed signature last made a sensor's key be read again. */
  private readonly lastMismatchRead = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxUnknown: number;
  private readonly lookups: TokenBucket;

  constructor(
    private readonly registry: Pick<SensorRegistry, 'getSensor'>,
    ttlMs: number,
    private readonly clock: () => number = Date.now,
    options: SensorKeyCacheOptions = {},
  ) {
    this.ttlMs = Math.min(ttlMs, MAX_SENSOR_CACHE_TTL_MS);
    this.maxUnknown = options.maxUnknown ?? 10_000;
    this.lookups = new TokenBucket(options.lookupsPerSecond ?? 10, options.lookupBurst ?? 20);
  }

  /** The key to verify `sensorId`'s signatures with; throws SignatureError for unknown or revoked sensors. */
  async keyFor(sensorId: string): Promise<KeyObject> {
    const now = this.clock();
    let entry = this.entries.get(sensorId);
    if (entry === undefined) {
      const seenUnknown = this.unknown.get(sensorId);
      if (seenUnknown !== undefined && now - seenUnknown < Math.min(UNKNOWN_TTL_MS, this.ttlMs)) throw unknownSensor(sensorId);
      if (seenUnknown === undefined && !this.lookups.has(now)) {
        throw new RateLimitedError('too many requests for sensors this service does not know; retry in a second', 1);
      }
      entry = await this.refresh(sensorId, now);
    } else if (now - entry.fetchedAt >= this.ttlMs) {
      entry = await this.refresh(sensorId, now);
    }
    if (entry === undefined) throw unknownSensor(sensorId);
    if (entry.status === 'revoked') throw new SignatureError('sensor_revoked', `sensor "${sensorId}" has been revoked`);
    return entry.key!;
  }

  /**
   * After a signature failed with the cached key: the registry's current key if it differs (a rotation), else
   * undefined. Reads at most once a second per sensor, so bad signatures for a real id cost no read each.
   */
  async refreshedKeyFor(sensorId: string): Promise<KeyObject | undefined> {
    const now = this.clock();
    const cached = this.entries.get(sensorId);
    if (cached === undefined || now - (this.lastMismatchRead.get(sensorId) ?? -Infinity) < MIN_REFRESH_MS) return undefined;
    this.lastMismatchRead.set(sensorId, now);
    const entry = await this.refresh(sensorId, now);
    if (entry === undefined) throw unknownSensor(sensorId);
    if (entry.status === 'revoked') throw new SignatureError('sensor_revoked', `sensor "${sensorId}" has been revoked`);
    return entry.raw !== cached.raw ? entry.key : undefined;
  }

  /** The deployment day of a sensor whose key was just looked up (undefined if unknown or not recorded). */
  deployedAt(sensorId: string): string | undefined {
    return this.entries.get(sensorId)?.deployedAt || undefined;
  }

  /** How many made-up ids are remembered (bounded by `maxUnknown`). */
  get unknownCount(): number {
    return this.unknown.size;
  }

  /** Forgets a sensor at once, or everything. */
  invalidate(sensorId?: string): void {
    if (sensorId === undefined) {
      this.entries.clear();
      this.unknown.clear();
    } else {
      this.entries.delete(sensorId);
      this.unknown.delete(sensorId);
    }
  }

  private refresh(sensorId: string, now: number): Promise<Entry | undefined> {
    // Concurrent requests for one sensor share one registry read.
    let inFlight = this.pending.get(sensorId);
    if (inFlight === undefined) {
      inFlight = this.load(sensorId, now).finally(() => this.pending.delete(sensorId));
      this.pending.set(sensorId, inFlight);
    }
    return inFlight;
  }

  private async load(sensorId: string, now: number): Promise<Entry | undefined> {
    const profile = await this.registry.getSensor(sensorId);
    if (profile === undefined) {
      this.entries.delete(sensorId);
      this.lookups.take(now);
      if (!this.unknown.has(sensorId) && this.unknown.size >= this.maxUnknown) this.unknown.delete(this.unknown.keys().next().value!);
      this.unknown.set(sensorId, now);
      return undefined;
    }
    this.unknown.delete(sensorId);
    let entry: Entry;
    if (profile.status === 'revoked') entry = { status: 'revoked', fetchedAt: now };
    else {
      const cached = this.entries.get(sensorId);
      // Reuse the KeyObject when the key did not change (the common case on refresh).
      const key =
        cached?.key !== undefined && cached.raw === profile.publicKey ? cached.key : publicKeyFromBase64url(profile.publicKey);
      entry = { key, raw: profile.publicKey, status: 'active', deployedAt: profile.deployedAt, fetchedAt: now };
    }
    this.entries.set(sensorId, entry);
    return entry;
  }
}

function unknownSensor(sensorId: string): SignatureError {
  return new SignatureError('unknown_sensor', `sensor "${sensorId}" is not registered`);
}
