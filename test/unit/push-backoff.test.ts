/** Backoff with full jitter, Retry-After, what is retried and what is not, 413 splits. Fake fetch, fake clock. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backoffBound, parseRetryAfter, retryDelay } from '../../lib/client/backoff.js';
import { prepareBatch } from '../../lib/client/delivery.js';
import { pushLog, SpooledExit, type PushOptions } from '../../lib/client/push.js';
import { BatchSender } from '../../lib/client/sender.js';
import { Spool } from '../../lib/client/spool.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../../lib/signing/keys.js';
import { Readable } from 'node:stream';

const key = privateKeyFromPem(generateSensorKeyPair().privateKeyPem);

/** A clock that only moves when the code under test sleeps. */
function fakeTime() {
  let t = 1_800_000_000_000;
  const sleeps: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)), sleeps, advance: (ms: number) => (t += ms) };
}

interface Call {
  key: string;
  lines: string[];
}

function fakeFetch(answer: (call: Call, n: number) => Response | Error) {
  const calls: Call[] = [];
  const impl = (async (_url: URL, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    const raw = Buffer.from(init.body as Uint8Array);
    const text = (headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    const lines = headers['content-type'] === 'application/json'
      ? (JSON.parse(text) as { alerts: unknown[] }).alerts.map((a) => JSON.stringify(a))
      : text.split('\n').filter(Boolean);
    const call = { key: headers['idempotency-key']!, lines };
    calls.push(call);
    const r = answer(call, calls.length);
    if (r instanceof Error) throw r;
    return r;
  }) as unknown as typeof fetch;
  return { impl, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const receipt = (n: number) => json(202, { accepted: n, rejected: 0, skipped: 0, duplicate: false, writeUnits: 1 });

describe('backoff', () => {
  it('full jitter: the wait is uniform between 0 and base·2^attempt, capped', () => {
    const policy = { baseMs: 250, capMs: 30_000 };
    expect(retryDelay(0, undefined, () => 0, policy)).toBe(0);
    expect(retryDelay(0, undefined, () => 0.999999, policy)).toBeCloseTo(250, 0);
    expect(retryDelay(3, undefined, () => 0.5, policy)).toBe(1000);
    expect(backoffBound(20, policy)).toBe(30_000);
    expect(backoffBound(5000, policy)).toBe(30_000);
    for (let attempt = 0; attempt < 30; attempt++) {
      const d = retryDelay(attempt, undefined, Math.random, policy);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(30_000, 250 * 2 ** attempt));
    }
  });

  it('Retry-After is a floor; the jitter added to it is at most as much again', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      for (const r of [0, 0.3, 0.999]) {
        const d = retryDelay(attempt, 2000, () => r);
        expect(d).toBeGreaterThanOrEqual(2000);
        expect(d).toBeLessThanOrEqual(2000 + Math.min(2000, backoffBound(attempt)));
      }
    }
  });

  it('reads Retry-After as seconds or as an HTTP-date', () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sat, 21 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sat, 21 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('BatchSender', () => {
  const batch = prepareBatch('edge-1', ['{"a":1}', '{"a":2}'], 'eve', true);

  it('waits at least what Retry-After asks, and retries with the same key', async () => {
    const time = fakeTime();
    const { impl, calls } = fakeFetch((_c, n) => (n < 3 ? json(503, { code: 'retry_later' }, { 'retry-after': '2' }) : receipt(2)));
    const sender = new BatchSender({ endpoint: 'http://127.0.0.1:9', sensor: 'edge-1', privateKey: key, retryForMs: 60_000, fetchImpl: impl, ...time });
    const outcome = await sender.sendWithRetry(batch);
    expect(outcome?.kind).toBe('ok');
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.key))).toEqual(new Set([batch.idempotencyKey]));
    for (const s of time.sleeps) expect(s).toBeGreaterThanOrEqual(2000);
  });

  it('gives up when the budget is spent (the last attempt on the deadline), or when Retry-After exceeds it', async () => {
    const time = fakeTime();
    const { impl, calls } = fakeFetch(() => new TypeError('fetch failed'));
    const sender = new BatchSender({ endpoint: 'http://127.0.0.1:9', sensor: 'edge-1', privateKey: key, retryForMs: 10_000, fetchImpl: impl, ...time });
    const start = time.now();
    expect(await sender.sendWithRetry(batch)).toBeUndefined();
    expect(time.now() - start).toBe(10_000);
    expect(calls.length).toBeGreaterThan(2);

    const t2 = fakeTime();
    const slow = fakeFetch(() => json(503, {}, { 'retry-after': '120' }));
    const s2 = new BatchSender({ endpoint: 'http://127.0.0.1:9', sensor: 'edge-1', privateKey: key, retryForMs: 60_000, fetchImpl: slow.impl, ...t2 });
    expect(await s2.sendWithRetry(batch)).toBeUndefined();
    expect(slow.calls).toHaveLength(1);
    expect(t2.sleeps).toEqual([]);
  });

  it.each([400, 401, 403, 409, 415])('does not retry %i', async (status) => {
    const time = fakeTime();
    const { impl, calls } = fakeFetch(() => json(status, { code: 'x', detail: 'no' }));
    const sender = new BatchSender({ endpoint: 'http://127.0.0.1:9', sensor: 'edge-1', privateKey: key, retryForMs: 60_000, fetchImpl: impl, ...time });
    expect(await sender.sendWithRetry(batch)).toMatchObject({ kind: 'refused', status, problem: { code: 'x', detail: 'no' } });
    expect(calls).toHaveLength(1);
  });

  it.each([408, 429, 500, 502, 503, 504])('retries %i', async (status) => {
    const time = fakeTime();
    const { impl, calls } = fakeFetch((_c, n) => (n === 1 ? json(status, {}) : receipt(2)));
    const sender = new BatchSender({ endpoint: 'http://127.0.0.1:9', sensor: 'edge-1', privateKey: key, retryForMs: 60_000, fetchImpl: impl, ...time });
    expect((await sender.sendWithRetry(batch))?.kind).toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it('reports a redirect instead of following it (a POST would become a GET)', async () => {
    const time = fakeTime();
    const { impl } = fakeFetch(() => new Response(null, { status: 308, headers: { location: 'https://elsewhere.example/v1/batches' } }));
    const sender = new BatchSender({ endpoint: 'http://127.0.0.1:9', sensor: 'edge-1', privateKey: key, retryForMs: 60_000, fetchImpl: impl, ...time });
    const outcome = await sender.sendWithRetry(batch);
    expect(outcome).toMatchObject({ kind: 'refused', status: 308 });
    expect(outcome?.problem?.detail).toContain('https://elsewhere.example');
  });
});

describe('pushLog', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'push-unit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ event_type: 'alert', n: i }));
  const input = () => Readable.from([Buffer.from(`${lines.join('\n')}\n`)]);
  const options = (impl: typeof fetch, extra: Partial<PushOptions> = {}): PushOptions => ({
    endpoint: 'http://127.0.0.1:9', sensor: 'edge-1', privateKey: key, batchSize: 4, retryForMs: 5_000,
    spool: new Spool(join(dir, 'spool')), fetchImpl: impl, ...fakeTime(), ...extra,
  });

  it('a refused batch is reported and the rest goes on', async () => {
    const { impl, calls } = fakeFetch((c, n) => (n === 2 ? json(400, { code: 'invalid_alert', detail: 'line 1: bad' }) : receipt(c.lines.length)));
    const summary = await pushLog(input(), options(impl));
    expect(calls.map((c) => c.lines.length)).toEqual([4, 4, 2]);
    expect(summary).toMatchObject({ batches: 3, accepted: 6, failedBatches: 1 });
    expect(summary.errors).toEqual([{ batch: calls[1]!.key, status: 400, code: 'invalid_alert', detail: 'line 1: bad' }]);
  });

  it('413 splits a batch into halves with content-derived keys; a re-run splits it the same way', async () => {
    const run = async () => {
      const { impl, calls } = fakeFetch((c) => (c.lines.length > 2 ? json(413, { code: 'too_large' }) : receipt(c.lines.length)));
      const summary = await pushLog(input(), options(impl));
      return { summary, sent: calls.filter((c) => c.lines.length <= 2) };
    };
    const first = await run();
    expect(first.summary.accepted).toBe(10);
    expect(first.sent.flatMap((c) => c.lines)).toEqual(lines);
    const second = await run();
    expect(second.sent.map((c) => c.key)).toEqual(first.sent.map((c) => c.key));
    expect(first.sent.map((c) => c.key)).toEqual(first.sent.map((c) => prepareBatch('edge-1', c.lines, 'eve', true).idempotencyKey));
  });

  it('spools after --retry-for and throws SpooledExit; the next run drains the spool first with the same keys', async () => {
    const down = fakeFetch(() => new TypeError('fetch failed'));
    const err = await pushLog(input(), options(down.impl)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpooledExit);
    expect((err as SpooledExit).summary.spooledBatches).toBe(3);
    // Only the first batch was retried; once the endpoint is known to be down the rest is spooled at once.
    expect(new Set(down.calls.map((c) => c.key)).size).toBe(1);

    const up = fakeFetch((c) => receipt(c.lines.length));
    const summary = await pushLog(undefined, options(up.impl));
    expect(summary).toMatchObject({ accepted: 10, drainedBatches: 3, batches: 3 });
    expect(up.calls.flatMap((c) => c.lines)).toEqual(lines);
    const direct = [lines.slice(0, 4), lines.slice(4, 8), lines.slice(8)].map((l) => prepareBatch('edge-1', l, 'eve', true).idempotencyKey);
    expect(up.calls.map((c) => c.key)).toEqual(direct);
    expect(await new Spool(join(dir, 'spool')).list()).toEqual([]);
  });

  it('a spooled batch that meets a 413 is split into the halves the direct path would send (native too)', async () => {
    const native = Array.from({ length: 6 }, (_, i) => `{ "time": "2026-01-01T00:00:0${i}Z", "srcIp": "192.0.2.${i}" }`);
    const nativeInput = () => Readable.from([Buffer.from(`${native.join('\n')}\n`)]);
    const down = fakeFetch(() => new TypeError('fetch failed'));
    await pushLog(nativeInput(), options(down.impl, { batchSize: 6 })).catch(() => undefined);
    const viaSpool = fakeFetch((c) => (c.lines.length > 3 ? json(413, {}) : receipt(c.lines.length)));
    await pushLog(undefined, options(viaSpool.impl));
    const direct = fakeFetch((c) => (c.lines.length > 3 ? json(413, {}) : receipt(c.lines.length)));
    await pushLog(nativeInput(), options(direct.impl, { batchSize: 6, spool: new Spool(join(dir, 'other')) }));
    const halves = (calls: Call[]) => calls.filter((c) => c.lines.length <= 3).map((c) => c.key);
    expect(halves(viaSpool.calls)).toHaveLength(2);
    expect(halves(viaSpool.calls)).toEqual(halves(direct.calls));
  });

  it('counts retries by status', async () => {
    const { impl } = fakeFetch((c, n) => (n === 1 ? json(503, {}, { 'retry-after': '1' }) : receipt(c.lines.length)));
    const summary = await pushLog(input(), options(impl));
    expect(summary.retries).toBe(1);
    expect(summary.retryStatuses).toEqual({ '503': 1 });
  });
});
