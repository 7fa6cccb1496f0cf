/**
 * The ingest's cache of sensor keys (issue 11 items 2 and 7): how late a revocation or a new key is seen, and
 * what a flood of made-up key ids costs the registry. A fake registry counts reads; the clock is the test's.
 */
import { describe, expect, it } from 'vitest';
import { SignatureError } from '../../lib/errors.js';
import { SensorKeyCache } from '../../lib/ingest/sensor-keys.js';
import { generateSensorKeyPair } from '../../lib/signing/keys.js';
import type { SensorProfile } from '../../lib/store/registry.js';

function fakeRegistry() {
  const sensors = new Map<string, SensorProfile>();
  let reads = 0;
  return {
    sensors,
    reads: () => reads,
    async getSensor(id: string) {
      reads++;
      return sensors.get(id);
    },
    add(id: string, status: 'active' | 'revoked' = 'active') {
      sensors.set(id, { id, publicKey: generateSensorKeyPair().publicKey, name: id, deployedAt: '2026-01-01', status, createdAt: '' });
    },
  };
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: SignatureError) => e.code);

describe('revocation lag', () => {
  it('sees a revocation within 10 s even when configured for a minute', async () => {
    const registry = fakeRegistry();
    registry.add('s1');
    let t = 1_000_000;
    const cache = new SensorKeyCache(registry, 60_000, () => t);
    await cache.keyFor('s1');
    registry.sensors.get('s1')!.status = 'revoked';
    t += 9_999;
    expect(await codeOf(cache.keyFor('s1'))).toBe('resolved');
    t += 1;
    expect(await codeOf(cache.keyFor('s1'))).toBe('sensor_revoked');
  });

  it('gives a new key at once when the cached one fails (key rotation), at most one registry read a second', async () => {
    const registry = fakeRegistry();
    registry.add('s1');
    let t = 1_000_000;
    const cache = new SensorKeyCache(registry, 10_000, () => t);
    const old = await cache.keyFor('s1');
    registry.add('s1'); // `sensor add` on an existing id: a new key
    t += 1_000;
    const fresh = await cache.refreshedKeyFor('s1');
    expect(fresh).toBeDefined();
    expect(fresh!.equals(old)).toBe(false);
    expect(await cache.keyFor('s1')).toBe(fresh);
    // A flood of bad signatures for a real id: the registry is asked again only after a second.
    const reads = registry.reads();
    for (let i = 0; i < 100; i++) expect(await cache.refreshedKeyFor('s1')).toBeUndefined();
    expect(registry.reads()).toBe(reads);
    t += 1_000;
    await cache.refreshedKeyFor('s1');
    expect(registry.reads()).toBe(reads + 1);
  });

  it('a sensor added after its id was looked up and found unknown is accepted within 5 s', async () => {
    const registry = fakeRegistry();
    let t = 1_000_000;
    const cache = new SensorKeyCache(registry, 10_000, () => t);
    expect(await codeOf(cache.keyFor('late'))).toBe('unknown_sensor');
    registry.add('late');
    t += 5_000;
    expect(await codeOf(cache.keyFor('late'))).toBe('resolved');
  });
});

describe('made-up key ids', () => {
  it('are remembered in a bounded negative cache: a repeated id costs no read, and memory stays bounded', async () => {
    const registry = fakeRegistry();
    const t = 1_000_000;
    const cache = new SensorKeyCache(registry, 10_000, () => t, { maxUnknown: 100, lookupsPerSecond: 1e9, lookupBurst: 1e9 });
    for (let i = 0; i < 1_000; i++) expect(await codeOf(cache.keyFor(`junk-${i}`))).toBe('unknown_sensor');
    expect(cache.unknownCount).toBeLessThanOrEqual(100);
    const reads = registry.reads();
    for (let i = 0; i < 50; i++) await codeOf(cache.keyFor('junk-999'));
    expect(registry.reads()).toBe(reads);
  });

  it('cost at most the lookup budget in registry reads; known sensors are never refused by it', async () => {
    const registry = fakeRegistry();
    registry.add('honest');
    let t = 1_000_000;
    const cache = new SensorKeyCache(registry, 10_000, () => t, { lookupsPerSecond: 20, lookupBurst: 20 });
    await cache.keyFor('honest');
    const reads = registry.reads();
    const codes = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const code = await codeOf(cache.keyFor(`random-${i}`));
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    // Only lookups that find nothing spend the budget: the honest sensor's own did not.
    expect(registry.reads() - reads).toBe(20);
    expect(codes.get('unknown_sensor')).toBe(20);
    expect(codes.get('rate_limited')).toBe(480);
    // A sensor registered during the flood is refused until the budget refills, then accepted.
    registry.add('newcomer');
    expect(await codeOf(cache.keyFor('newcomer'))).toBe('rate_limited');
    t += 1_000;
    expect(await codeOf(cache.keyFor('newcomer'))).toBe('resolved');
    // The honest sensor's refresh after its TTL is not subject to that budget.
    t += 10_000;
    expect(await codeOf(cache.keyFor('honest'))).toBe('resolved');
  });
});
