/**
 * Sensor public keys for signature verification, cached per process.
 *
 * One Ed25519 KeyObject per sensor is built once and reused: building it per request halves verify speed.
 * Entries live at most `ttlMs` (≤ 60 s), so a revocation takes effect everywhere within a minute; unknown
 * ids are remembered briefly too, so a flood of requests for a made-up sensor does not become a flood of reads.
 */
import type { KeyObject } from 'node:crypto';
import { SignatureError } from '../errors.js';
import { publicKeyFromBase64url } from '../signing/keys.js';
import type { SensorRegistry } from '../store/registry.js';

interface Entry {
  key?: KeyObject;
  /** The registry's base64url key the KeyObject was built from. */
  raw?: string;
  status: 'active' | 'revoked' | 'unknown';
  /** The registry's deployment day (YYYY-MM-DD) of an active sensor. */
  deployedAt?: string;
  fetchedAt: number;
}

const UNKNOWN_TTL_MS = 5_000;

export class SensorKeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();

  constructor(
    private readonly registry: Pick<SensorRegistry, 'getSensor'>,
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The key to verify `sensorId`'s signatures with; throws SignatureError for unknown or revoked sensors. */
  async keyFor(sensorId: string): Promise<KeyObject> {
    const now = this.clock();
    let entry = this.entries.get(sensorId);
    const ttl = entry?.status === 'unknown' ? Math.min(UNKNOWN_TTL_MS, this.ttlMs) : this.ttlMs;
    if (entry === undefined || now - entry.fetchedAt >= ttl) entry = await this.refresh(sensorId, now);
    if (entry.status === 'unknown') throw new SignatureError('unknown_sensor', `sensor "${sensorId}" is not registered`);
    if (entry.status === 'revoked') throw new SignatureError('sensor_revoked', `sensor "${sensorId}" has been revoked`);
    return entry.key!;
  }

  /** The deployment day of a sensor whose key was just looked up (undefined if unknown or not recorded). */
  deployedAt(sensorId: string): string | undefined {
    return this.entries.get(sensorId)?.deployedAt || undefined;
  }

  /** Forgets a sensor at once (used by the local stack right after `sensor revoke`). */
  invalidate(sensorId?: string): void {
    if (sensorId === undefined) this.entries.clear();
    else this.entries.delete(sensorId);
  }

  private refresh(sensorId: string, now: number): Promise<Entry> {
    // Concurrent requests for one sensor share one registry read.
    let inFlight = this.pending.get(sensorId);
    if (inFlight === undefined) {
      inFlight = this.load(sensorId, now).finally(() => this.pending.delete(sensorId));
      this.pending.set(sensorId, inFlight);
    }
    return inFlight;
  }

  private async load(sensorId: string, now: number): Promise<Entry> {
    const profile = await this.registry.getSensor(sensorId);
    let entry: Entry;
    if (profile === undefined) entry = { status: 'unknown', fetchedAt: now };
    else if (profile.status === 'revoked') entry = { status: 'revoked', fetchedAt: now };
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
