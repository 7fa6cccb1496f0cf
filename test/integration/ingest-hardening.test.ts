/**
 * Hostile and racy requests against the ingest API (issue 11): each case reproduces a defect found by review,
 * through real HTTP, the ingest code, DynamoDB Local and s3rver.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreparedBatch } from '../../lib/client/sign-batch.js';
import { contentDigestHeader } from '../../lib/signing/content-digest.js';
import { REQUIRED_COMPONENTS } from '../../lib/signing/profile.js';
import { signRequest } from '../../lib/signing/rfc9421.js';
import { eveAlert } from '../helpers/eve.js';
import { ndjsonBatch, postBatch, startHarness, type Harness, type TestSensor } from '../helpers/harness.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const now = Date.now();
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
let h: Harness;
let sensor: TestSensor;

beforeAll(async () => {
  h = await startHarness();
  sensor = await h.addSensor('s-hard');
});
afterAll(async () => h?.close());

/** Headers of a batch signed over the profile plus `extra` components. */
function signedWith(s: TestSensor, batch: PreparedBatch, extra: string[]): Record<string, string> {
  const url = new URL(`${h.url}/v1/batches`);
  const headers: Record<string, string> = {
    'content-type': batch.contentType,
    'content-digest': contentDigestHeader(batch.body),
    'idempotency-key': batch.idempotencyKey,
  };
  if (batch.gzip) headers['content-encoding'] = 'gzip';
  const sig = signRequest(
    { method: 'POST', path: url.pathname, authority: url.host, scheme: 'http', headers },
    { keyId: s.id, privateKey: s.privateKey, created: Math.floor(Date.now() / 1000), components: [...REQUIRED_COMPONENTS, ...extra] },
  );
  return { ...headers, ...sig };
}

async function send(headers: Record<string, string>, body: Uint8Array, url = h.url) {
  const res = await fetch(`${url}/v1/batches`, { method: 'POST', headers, body });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe('a 20-way race on one batch', () => {
  for (const [name, times] of [
    ['one day', [now - 2 * HOUR, now - 2 * HOUR + 1000]],
    ['three days', [now - 2 * DAY, now - DAY, now - 2 * HOUR]],
  ] as const) {
    it(`returns exactly one counted receipt (202) and counts once: ${name}`, async () => {
      const lines = times.map((t, i) => eveAlert({ time: t, dstPort: 1000 + i }));
      const batch = ndjsonBatch(sensor.id, lines, `race-${name.replace(' ', '-')}`);
      const before = await h.totals([sensor.id], dayOf(now - 3 * DAY), dayOf(now));
      const results = await Promise.all(Array.from({ length: 20 }, () => postBatch(h.url, sensor, batch)));
      expect(results.map((r) => r.status).sort()).toEqual([...Array(19).fill(200), 202]);
      expect(results.filter((r) => r.json.duplicate === false)).toHaveLength(1);
      const after = await h.totals([sensor.id], dayOf(now - 3 * DAY), dayOf(now));
      const added = Object.entries(after).reduce((n, [d, v]) => n + v - (before[d] ?? 0), 0);
      expect(added).toBe(times.length);
    });
  }
});

describe('the race that gave two counted receipts', () => {
  // Deterministic interleaving: A creates the claim, and its contribution waits until B (which found the claim)
  // has written the contribution itself; A's own put then finds it there.
  let gated: Harness;
  let s: TestSensor;
  let release!: () => void;
  const bDone = new Promise<void>((r) => (release = r));
  let puts = 0;
  beforeAll(async () => {
    gated = await startHarness({
      wrapLedger: (ledger) => ({
        claimBatch: (c) => ledger.claimBatch(c),
        countedDays: (...a) => ledger.countedDays(...a),
        markDayChanged: (...a) => ledger.markDayChanged(...a),
        putContribution: async (c) => {
          const mine = ++puts;
          if (mine === 1) await bDone;
          const out = await ledger.putContribution(c);
          if (mine === 2) release();
          return out;
        },
      }),
    });
    s = await gated.addSensor('s-race');
  });
  afterAll(async () => gated?.close());

  it('the claim\'s creator whose contribution was written by another request says duplicate; one 202 in all', async () => {
    const batch = ndjsonBatch(s.id, [eveAlert({ time: now - HOUR })], 'gated-race-1');
    const a = postBatch(gated.url, s, batch);
    // B starts once A holds the claim (A's put is waiting).
    while (puts < 1) await new Promise((r) => setTimeout(r, 5));
    const b = await postBatch(gated.url, s, batch);
    const results = [await a, b];
    expect(results.map((r) => r.status).sort()).toEqual([200, 202]);
    expect(await gated.totals([s.id], dayOf(now - DAY), dayOf(now))).toEqual({ [dayOf(now - HOUR)]: 1 });
  });
});

describe('Content-Encoding', () => {
  const gz = (key: string): PreparedBatch => ({
    idempotencyKey: key,
    contentType: 'application/x-ndjson',
    body: gzipSync(`${eveAlert({ time: now - HOUR })}\n`),
    gzip: true,
    lines: 1,
  });

  it('covered by the signature: verified like any component, so stripping it is a signature failure (401), not a 400', async () => {
    const batch = gz('ce-covered-1');
    const headers = signedWith(sensor, batch, ['content-encoding']);
    const stripped = { ...headers };
    delete stripped['content-encoding'];
    const refused = await send(stripped, batch.body);
    expect(refused.status).toBe(401);
    expect(refused.json.code).toBe('signature_invalid');
    const changed = await send({ ...headers, 'content-encoding': 'identity' }, batch.body);
    expect(changed.status).toBe(401);
    const ok = await send(headers, batch.body);
    expect(ok.status).toBe(202);
    expect(ok.json.accepted).toBe(1);
  });

  it('not covered: a signature without it stays valid (DESIGN §4)', async () => {
    const batch = gz('ce-uncovered-1');
    const ok = await send(signedWith(sensor, batch, []), batch.body);
    expect(ok.status).toBe(202);
  });
});

describe('alerts dated before the sensor\'s deployment', () => {
  it('are counted (a sensor may run before it is registered) and reported in the receipt as beforeDeployment', async () => {
    const deployedAt = dayOf(now - DAY);
    const late = await h.addSensor('s-deployed-yesterday', { deployedAt });
    const lines = [eveAlert({ time: now - 3 * DAY }), eveAlert({ time: now - 2 * DAY }), eveAlert({ time: now - HOUR })];
    const res = await postBatch(h.url, late, ndjsonBatch(late.id, lines, 'before-deployment-1'));
    expect(res.status).toBe(202);
    expect(res.json.accepted).toBe(3);
    expect(res.json.beforeDeployment).toEqual({ deployedAt, alerts: 2 });
    // A batch with nothing before the deployment says so with zero.
    const after = await postBatch(h.url, late, ndjsonBatch(late.id, [eveAlert({ time: now - HOUR + 5 })], 'before-deployment-2'));
    expect(after.json.beforeDeployment).toEqual({ deployedAt, alerts: 0 });
  });
});

describe('days per batch', () => {
  let capped: Harness;
  let s: TestSensor;
  let inFlight = 0;
  let maxInFlight = 0;
  beforeAll(async () => {
    capped = await startHarness({
      config: { maxDaysPerBatch: 5 },
      wrapLedger: (ledger) => ({
        claimBatch: (c) => ledger.claimBatch(c),
        countedDays: (...a) => ledger.countedDays(...a),
        putContribution: (c) => ledger.putContribution(c),
        markDayChanged: async (...a) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          try {
            return await ledger.markDayChanged(...a);
          } finally {
            inFlight--;
          }
        },
      }),
    });
    s = await capped.addSensor('s-days');
  });
  afterAll(async () => capped?.close());

  const spread = (days: number, from = 10) => Array.from({ length: days }, (_, i) => eveAlert({ time: now - (from - i) * DAY }));

  it('refuses a batch over the cap with 413 too_many_days, naming the cap, and counts nothing', async () => {
    const res = await postBatch(capped.url, s, ndjsonBatch(s.id, spread(6), 'days-6'));
    expect(res.status).toBe(413);
    expect(res.json.code).toBe('too_many_days');
    expect(res.json.maxDays).toBe(5);
    expect(res.json.days).toBe(6);
    expect(await capped.totals([s.id], dayOf(now - 20 * DAY), dayOf(now))).toEqual({});
  });

  it('accepts a batch at the cap, and marks its past days for the render job concurrently', async () => {
    const res = await postBatch(capped.url, s, ndjsonBatch(s.id, spread(5), 'days-5'));
    expect(res.status).toBe(202);
    expect(Object.keys(res.json.days as object)).toHaveLength(5);
    expect(maxInFlight).toBeGreaterThan(1);
  });
});

describe('key rotation and revocation with a warm cache', () => {
  let cached: Harness;
  beforeAll(async () => {
    cached = await startHarness({ config: { sensorCacheTtlMs: 60_000 } });
  });
  afterAll(async () => cached?.close());

  it('accepts the new key on the first request after `sensor add` replaced it (the cached key fails, the registry is asked)', async () => {
    const s = await cached.addSensor('s-rotate');
    expect((await postBatch(cached.url, s, ndjsonBatch(s.id, [eveAlert({ time: now - HOUR })], 'rot-1'))).status).toBe(202);
    const rotated = await cached.addSensor('s-rotate'); // same id, new key pair
    const res = await postBatch(cached.url, rotated, ndjsonBatch(s.id, [eveAlert({ time: now - HOUR + 1 })], 'rot-2'));
    expect(res.status).toBe(202);
    // The old key no longer works once the new one was seen.
    expect((await postBatch(cached.url, s, ndjsonBatch(s.id, [eveAlert({ time: now - HOUR + 2 })], 'rot-3'))).status).toBe(401);
  });
});

describe('flood protection', () => {
  // The load figure (200 junk requests a second against one honest sensor) is measured by the bench: bench/flood.ts.
  it('refuses a sensor over its budget with 429 rate_limited and Retry-After before any work, and counts nothing of it', async () => {
    // A budget of 1 batch a second with a burst of 5, so that the test does not depend on this machine's speed.
    const tight = await startHarness({ config: { sensorBatchesPerSecond: 1, sensorBatchBurst: 5 } });
    try {
      const greedy = await tight.addSensor('s-greedy');
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      const sends = Array.from({ length: 15 }, (_, i) => postBatch(tight.url, greedy, ndjsonBatch(greedy.id, [eveAlert({ time: now - HOUR, dstPort: i })], `greedy-${i}`)));
      const started = performance.now();
      for (const r of await Promise.all(sends)) {
        statuses.push(r.status);
        if (r.status === 429) {
          expect(r.json.code).toBe('rate_limited');
          retryAfter = r.headers.get('retry-after');
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const accepted = statuses.filter((s) => s === 202).length;
      // The burst, plus at most what the budget refilled while the requests were being answered.
      expect(accepted).toBeGreaterThanOrEqual(5);
      expect(accepted).toBeLessThanOrEqual(5 + Math.ceil(seconds));
      expect(statuses.filter((s) => s !== 202).every((s) => s === 429)).toBe(true);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      const total = Object.values(await tight.totals([greedy.id], dayOf(now - DAY), dayOf(now))).reduce((a, b) => a + b, 0);
      expect(total).toBe(accepted);
    } finally {
      await tight.close();
    }
  });

  it('refuses junk without a registry read per request: a repeated made-up id, and bad signatures for a real id', async () => {
    let reads = 0;
    const counting = await startHarness({ config: { sensorCacheTtlMs: 10_000 } });
    try {
      const real = await counting.addSensor('s-real');
      const keys = counting.api.keys as unknown as { registry: { getSensor: (id: string) => Promise<unknown> } };
      const original = keys.registry.getSensor.bind(keys.registry);
      keys.registry.getSensor = (id) => ((reads += 1), original(id));
      const junkOf = (id: string, i: number) => ({
        'content-type': 'application/x-ndjson',
        'content-digest': `sha-256=:${Buffer.alloc(32).toString('base64')}:`,
        'idempotency-key': `junk-${i}`,
        'signature-input': `sig1=("@method" "@path" "content-digest" "content-type" "idempotency-key");created=${Math.floor(Date.now() / 1000)};keyid="${id}";alg="ed25519"`,
        signature: `sig1=:${Buffer.alloc(64, i).toString('base64')}:`,
      });
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await send(junkOf('made-up', i), Buffer.from('{}\n'), counting.url)).status);
      for (let i = 0; i < 30; i++) statuses.push((await send(junkOf(real.id, i), Buffer.from('{}\n'), counting.url)).status);
      expect(statuses.every((st) => st === 401)).toBe(true);
      // One read for the made-up id, one for the real id's key, and at most one a second for its bad signatures.
      expect(reads).toBeLessThanOrEqual(5);
    } finally {
      await counting.close();
    }
  });
});

describe('a storage stall', () => {
  let stalled: Harness;
  let s: TestSensor;
  let stall = true;
  beforeAll(async () => {
    stalled = await startHarness({
      config: { deadlineMs: 1_000 },
      wrapLedger: (ledger) => ({
        claimBatch: (c) => ledger.claimBatch(c),
        countedDays: (...a) => ledger.countedDays(...a),
        markDayChanged: (...a) => ledger.markDayChanged(...a),
        // A contribution put that never answers while `stall` is set (a DynamoDB request hanging).
        putContribution: (c) => (stall ? new Promise(() => undefined) : ledger.putContribution(c)),
      }),
    });
    s = await stalled.addSensor('s-stall');
  });
  afterAll(async () => stalled?.close());

  it('answers 503 retry_later with Retry-After before the deadline runs out, and the retry counts the batch once', async () => {
    const batch = ndjsonBatch(s.id, [eveAlert({ time: now - HOUR }), eveAlert({ time: now - HOUR + 1 })], 'stall-1');
    const t = performance.now();
    const first = await postBatch(stalled.url, s, batch);
    const ms = performance.now() - t;
    expect(first.status).toBe(503);
    expect(first.json.code).toBe('retry_later');
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(5_000);
    expect(await stalled.totals([s.id], dayOf(now - DAY), dayOf(now))).toEqual({});
    stall = false;
    const retry = await postBatch(stalled.url, s, batch);
    expect(retry.status).toBe(202);
    expect(await stalled.totals([s.id], dayOf(now - DAY), dayOf(now))).toEqual({ [dayOf(now - HOUR)]: 2 });
  });
});
