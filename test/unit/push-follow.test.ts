/**
 * `push --follow` against a fake service that dedupes by Idempotency-Key like the real one: rotation by
 * rename and by truncation, restart from the checkpoint, a crash between delivery and checkpoint, heartbeats,
 * spooling while the endpoint is down, a key rotated under a running follower. Real files, short intervals.
 */
import { appendFile, mkdtemp, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../lib/client/checkpoint.js';
import { followLog, heartbeatBatch, type FollowOptions } from '../../lib/client/follow.js';
import { Spool } from '../../lib/client/spool.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../../lib/signing/keys.js';

const key = privateKeyFromPem(generateSensorKeyPair().privateKeyPem);

/** Counts lines once per key, as the service's ledger does; `mode` makes it fail on demand. */
function fakeService() {
  const counted = new Map<string, string[]>();
  const sent: { key: string; lines: string[]; duplicate: boolean }[] = [];
  const state = { mode: 'up' as 'up' | 'down' | 'unauthorized' };
  const impl = (async (_url: URL, init: RequestInit) => {
    if (state.mode === 'down') throw new TypeError('fetch failed');
    if (state.mode === 'unauthorized') return new Response('{"code":"signature_invalid"}', { status: 401 });
    const headers = init.headers as Record<string, string>;
    const raw = Buffer.from(init.body as Uint8Array);
    const text = (headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    const lines = headers['content-type'] === 'application/json'
      ? (JSON.parse(text) as { alerts: unknown[] }).alerts.map((a) => JSON.stringify(a))
      : text.split('\n').filter(Boolean);
    const k = headers['idempotency-key']!;
    const duplicate = counted.has(k);
    if (!duplicate) counted.set(k, lines);
    sent.push({ key: k, lines, duplicate });
    return new Response(JSON.stringify({ accepted: duplicate ? 0 : lines.length, rejected: 0, skipped: 0, duplicate, writeUnits: 1 }), { status: duplicate ? 200 : 202 });
  }) as unknown as typeof fetch;
  const lines = () => [...counted.values()].flat();
  return { impl, counted, sent, state, lines };
}

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const alert = (i: number) => JSON.stringify({ event_type: 'alert', n: i });
const block = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${alert(from + i)}\n`).join('');
const expected = (n: number) => Array.from({ length: n }, (_, i) => alert(i));
const sorted = (a: string[]) => [...a].sort();

let dir: string;
let log: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'push-follow-'));
  log = join(dir, 'eve.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function start(service: ReturnType<typeof fakeService>, extra: Partial<FollowOptions> = {}) {
  const stop = new AbortController();
  const messages: string[] = [];
  const run = followLog({
    endpoint: 'http://127.0.0.1:9',
    sensor: 'edge-1',
    privateKey: key,
    batchSize: 5,
    retryForMs: 200,
    spool: new Spool(join(dir, 'spool')),
    fetchImpl: service.impl,
    path: log,
    checkpointFile: join(dir, 'follow', 'edge-1.json'),
    flushAfterMs: 50,
    heartbeatMs: 0,
    pollMs: 10,
    rotateGraceMs: 50,
    stopRetryMs: 200,
    signal: stop.signal,
    log: (l) => messages.push(l),
    ...extra,
  });
  return { stop: async () => (stop.abort(), run), run, messages };
}

describe('push --follow', () => {
  it('follows appends and a rotation by rename; a stop flushes the partial batch; each line once', async () => {
    const svc = fakeService();
    let read = 0;
    await writeFile(log, block(0, 12));
    // No time-based flush here: partial batches go out only at the rotation and at the stop.
    const f = start(svc, { flushAfterMs: 60_000, onProgress: (s) => (read = s.lines) });
    await waitUntil('two full batches', () => svc.lines().length === 10);
    await appendFile(log, block(12, 15));
    await waitUntil('third batch', () => svc.lines().length === 15);
    await appendFile(log, block(15, 17));
    await rename(log, `${log}.1`);
    await appendFile(`${log}.1`, block(17, 18)); // the writer has not reopened yet
    await writeFile(log, block(18, 21));
    await waitUntil('the old file finished', () => svc.lines().length === 18);
    await waitUntil('the new file read', () => read === 21);
    expect(svc.lines()).toHaveLength(18);
    const summary = await f.stop();
    expect(sorted(svc.lines())).toEqual(sorted(expected(21)));
    expect(svc.sent.filter((s) => s.duplicate)).toEqual([]);
    expect(summary.accepted).toBe(21);
    expect(f.messages.some((m) => m.includes('rotated'))).toBe(true);
  });

  it('a restarted follower continues from the checkpoint: nothing re-sent, nothing missed', async () => {
    const svc = fakeService();
    await writeFile(log, block(0, 8));
    let f = start(svc);
    await waitUntil('first run', () => svc.lines().length === 8);
    await f.stop();
    const cp = await readCheckpoint(join(dir, 'follow', 'edge-1.json'));
    expect(cp).toMatchObject({ offset: block(0, 8).length, path: log });
    expect(cp?.pending).toBeUndefined();
    await appendFile(log, block(8, 13));
    f = start(svc);
    await waitUntil('second run', () => svc.lines().length === 13);
    await f.stop();
    expect(sorted(svc.lines())).toEqual(sorted(expected(13)));
    expect(svc.sent.every((s) => !s.duplicate)).toBe(true);
  });

  it('a crash after sending and before checkpointing re-sends exactly the same batch (counted once)', async () => {
    const svc = fakeService();
    await writeFile(log, block(0, 3)); // a partial batch: it goes out on the time-based flush
    let f = start(svc, {
      afterDeliver: () => {
        throw new Error('simulated crash');
      },
    });
    await expect(f.run).rejects.toThrow('simulated crash');
    expect(svc.sent).toHaveLength(1);
    const cp = await readCheckpoint(join(dir, 'follow', 'edge-1.json'));
    expect(cp).toMatchObject({ offset: 0, pending: { end: block(0, 3).length } });
    // More lines arrive while it is down: a naive restart would now cut a batch of 5 with a new key.
    await appendFile(log, block(3, 9));
    f = start(svc);
    await waitUntil('after restart', () => svc.lines().length === 9);
    await f.stop();
    expect(svc.sent[1]).toMatchObject({ key: svc.sent[0]!.key, duplicate: true });
    expect(sorted(svc.lines())).toEqual(sorted(expected(9)));
  });

  it('finishes a file rotated while it was stopped before following the new one', async () => {
    const svc = fakeService();
    await writeFile(log, block(0, 4));
    let f = start(svc);
    await waitUntil('first run', () => svc.lines().length === 4);
    await f.stop();
    await appendFile(log, block(4, 7));
    await rename(log, `${log}.1`);
    await writeFile(log, block(7, 10));
    f = start(svc);
    await waitUntil('both files', () => svc.lines().length === 10);
    await f.stop();
    expect(sorted(svc.lines())).toEqual(sorted(expected(10)));
    expect(f.messages.some((m) => m.includes('rotated while stopped'))).toBe(true);
  });

  it('follows a copytruncate rotation (the file shrinks under it), and resumes after it on restart', async () => {
    const svc = fakeService();
    await writeFile(log, block(0, 40)); // over 1 KiB: the fingerprint covers the first KiB of old content
    const f = start(svc);
    await waitUntil('before truncation', () => svc.lines().length === 40);
    await truncate(log, 0);
    await waitUntil('truncation noticed', () => f.messages.some((m) => m.includes('truncated')));
    await appendFile(log, block(40, 42));
    await waitUntil('after truncation', () => svc.lines().length === 42);
    await f.stop();
    // The checkpoint describes the file's new content: a restart resumes, it does not start over.
    await appendFile(log, block(42, 44));
    const g = start(svc);
    await waitUntil('after restart', () => svc.lines().length === 44);
    await g.stop();
    expect(sorted(svc.lines())).toEqual(sorted(expected(44)));
    expect(svc.sent.filter((x) => x.duplicate)).toEqual([]);
    expect(g.messages.filter((m) => m.includes('beginning'))).toEqual([]);
  });

  it('sends an empty heartbeat batch, keyed by time bucket, while the sensor is quiet', async () => {
    const svc = fakeService();
    await writeFile(log, '');
    const f = start(svc, { heartbeatMs: 100 });
    await waitUntil('a heartbeat', () => svc.sent.some((s) => s.key.startsWith('heartbeat-')));
    const summary = await f.stop();
    expect(summary.heartbeats).toBeGreaterThan(0);
    const hb = svc.sent.find((s) => s.key.startsWith('heartbeat-'))!;
    expect(hb.lines).toEqual([]);
    expect(heartbeatBatch(1_800_000_123_456, 300_000).idempotencyKey).toBe(heartbeatBatch(1_800_000_299_999, 300_000).idempotencyKey);
    expect(heartbeatBatch(1_800_000_123_456, 300_000).idempotencyKey).not.toBe(heartbeatBatch(1_800_000_300_000, 300_000).idempotencyKey);
  });

  it('spools while the endpoint is down, keeps reading, and drains the spool when it is back', async () => {
    const svc = fakeService();
    svc.state.mode = 'down';
    await writeFile(log, block(0, 7));
    const f = start(svc);
    const spool = new Spool(join(dir, 'spool'));
    await waitUntil('spooled', async () => (await spool.list()).length === 2);
    await appendFile(log, block(7, 11));
    await waitUntil('more spooled', async () => (await spool.list()).length >= 3);
    svc.state.mode = 'up';
    await waitUntil('drained', () => svc.lines().length === 11, 20_000);
    const summary = await f.stop();
    expect(sorted(svc.lines())).toEqual(sorted(expected(11)));
    expect(await spool.list()).toEqual([]);
    expect(summary.spooledBatches).toBeGreaterThanOrEqual(3);
    expect(summary.drainedBatches).toBe(summary.spooledBatches);
  }, 30_000);

  it('after a 401 it re-reads the key; if that does not help the batch is spooled, not lost', async () => {
    const svc = fakeService();
    svc.state.mode = 'unauthorized';
    let reloads = 0;
    await writeFile(log, block(0, 5));
    const f = start(svc, {
      reloadKey: async () => {
        reloads++;
        return key;
      },
    });
    const spool = new Spool(join(dir, 'spool'));
    await waitUntil('spooled on 401', async () => (await spool.list()).length === 1);
    expect(reloads).toBeGreaterThan(0);
    svc.state.mode = 'up'; // the new key got registered
    await waitUntil('sent', () => svc.lines().length === 5, 20_000);
    await f.stop();
    expect(f.messages.filter((m) => m.includes('401'))).toHaveLength(1);
  }, 30_000);

  it('refuses a checkpoint that belongs to another file', async () => {
    const svc = fakeService();
    await writeFile(log, block(0, 1));
    const f = start(svc);
    await waitUntil('sent', () => svc.lines().length === 1);
    await f.stop();
    await writeFile(join(dir, 'other.json'), block(0, 1));
    const g = start(svc, { path: join(dir, 'other.json') });
    await expect(g.run).rejects.toThrow(/belongs to/);
    expect(JSON.parse(await readFile(join(dir, 'follow', 'edge-1.json'), 'utf8')).path).toBe(log);
  });
});
