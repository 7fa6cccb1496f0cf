/**
 * `push --follow`'s default flush (issue 11, item 4): at one alert a second, partial batches wait up to ten
 * minutes, so each holds about 600 alerts — at about 2 write units a batch, ≤ 5 per 1,000 alerts — and no
 * heartbeat is sent while a batch is waiting. A simulated clock drives follower and log together.
 */
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FLUSH_AFTER_MS, followLog } from '../../lib/client/follow.js';
import { Spool } from '../../lib/client/spool.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../../lib/signing/keys.js';

const key = privateKeyFromPem(generateSensorKeyPair().privateKeyPem);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'push-follow-flush-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('push --follow default flush', () => {
  it('is ten minutes: 25 minutes at one alert a second go out in 3 batches (2 full waits and the stop), no heartbeat', async () => {
    expect(DEFAULT_FLUSH_AFTER_MS).toBe(600_000);
    const start = Date.UTC(2026, 11, 3, 8, 0, 0);
    let clock = start;
    const sent: { key: string; lines: number; at: number }[] = [];
    const fetchImpl = (async (_url: URL, init: RequestInit) => {
      const headers = init.headers as Record<string, string>;
      const raw = Buffer.from(init.body as Uint8Array);
      const text = (headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const lines = headers['content-type'] === 'application/json' ? 0 : text.split('\n').filter(Boolean).length;
      sent.push({ key: headers['idempotency-key']!, lines, at: clock });
      return new Response(JSON.stringify({ accepted: lines, rejected: 0, skipped: 0, duplicate: false, writeUnits: 2 }), { status: 202 });
    }) as unknown as typeof fetch;

    const log = join(dir, 'eve.json');
    await writeFile(log, '');
    const stop = new AbortController();
    let read = 0;
    const follower = followLog({
      endpoint: 'http://127.0.0.1:9',
      sensor: 's',
      privateKey: key,
      batchSize: 1000,
      retryForMs: 1000,
      spool: new Spool(join(dir, 'spool')),
      fetchImpl,
      now: () => clock,
      path: log,
      checkpointFile: join(dir, 'cp.json'),
      flushAfterMs: DEFAULT_FLUSH_AFTER_MS,
      heartbeatMs: 5 * 60_000,
      signal: stop.signal,
      pollMs: 1,
      onProgress: (s) => (read = s.bytesRead),
    });
    let written = 0;
    // One alert a second for 25 minutes, written 10 s at a time; the clock moves once the follower has read them.
    for (let t = 0; t < 25 * 60; t += 10) {
      const text = Array.from({ length: 10 }, (_, i) => `${JSON.stringify({ event_type: 'alert', timestamp: new Date(start + (t + i) * 1000).toISOString() })}\n`).join('');
      await appendFile(log, text);
      written += text.length;
      const deadline = Date.now() + 5_000;
      while (read < written && Date.now() < deadline) await new Promise((w) => setTimeout(w, 1));
      clock = start + (t + 10) * 1000;
      await new Promise((w) => setTimeout(w, 2));
    }
    stop.abort();
    const summary = await follower;

    expect(summary.heartbeats).toBe(0);
    expect(sent.some((s) => s.key.startsWith('heartbeat-'))).toBe(false);
    expect(sent.reduce((n, s) => n + s.lines, 0)).toBe(1500);
    expect(sent).toHaveLength(3);
    // The first two waited the full ten minutes (± one 10 s step) and hold about 600 alerts each.
    expect(sent[0]!.lines).toBeGreaterThanOrEqual(590);
    expect(sent[0]!.at - start).toBeGreaterThanOrEqual(600_000);
    expect(sent[0]!.at - start).toBeLessThanOrEqual(620_000);
    // At 2 write units a batch, the two full waits cost ≤ 5 units per 1,000 alerts.
    expect((2 * 2 * 1000) / (sent[0]!.lines + sent[1]!.lines)).toBeLessThanOrEqual(5);
  });
});
