/**
 * Batches by UTC day (issue 11, items 3 and 4): a backfill never sends more distinct days in one batch than the
 * service's cap, and a full batch that holds several days is cut where its last day began, so that each day
 * costs the service one contribution (and mark) rather than one more per batch boundary. The days are read
 * from the lines' own timestamps (EVE with its offset, Snort 3 seconds, native time).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Batcher, DEFAULT_MAX_DAYS_PER_BATCH, lineDay, type CutBatch } from '../../lib/client/batcher.js';
import { pushLog } from '../../lib/client/push.js';
import { Spool } from '../../lib/client/spool.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../../lib/signing/keys.js';

const key = privateKeyFromPem(generateSensorKeyPair().privateKeyPem);
const DAY = 86_400_000;
const dayOf = (iso: string) => Math.floor(Date.parse(iso) / DAY);
const day = (line: string, format: 'eve' | 'snort' | 'native') => lineDay(Buffer.from(`${line}\n`), 0, line.length, format);

describe('lineDay', () => {
  it('reads the UTC day of EVE (offsets ±HHMM, ±HH:MM, Z), native and Snort 3 lines', () => {
    // 2021-06-07T01:30+0200 is still 2021-06-06 in UTC; 2021-06-06T23:30-0500 is already 2021-06-07.
    expect(day('{"timestamp":"2021-06-07T01:30:00.457984+0200","event_type":"alert"}', 'eve')).toBe(dayOf('2021-06-06T00:00:00Z'));
    expect(day('{"event_type":"alert","timestamp":"2021-06-06T23:30:00.000000-0500"}', 'eve')).toBe(dayOf('2021-06-07T00:00:00Z'));
    expect(day('{"time":"2026-11-21T00:10:00+01:00","srcIp":"198.51.100.7"}', 'native')).toBe(dayOf('2026-11-20T00:00:00Z'));
    expect(day('{"time":"2026-11-21T10:00:00Z"}', 'native')).toBe(dayOf('2026-11-21T00:00:00Z'));
    expect(day('{"seconds":1764000000,"src_addr":"198.51.100.7"}', 'snort')).toBe(Math.floor(1_764_000_000 / 86_400));
  });

  it('lines that share date and minute but not the zone get their own day (the last stamp is reused only when equal)', () => {
    expect(day('{"timestamp":"2026-11-21T00:10:00.100000+0100"}', 'eve')).toBe(dayOf('2026-11-20T00:00:00Z'));
    expect(day('{"timestamp":"2026-11-21T00:10:00.200000+0100"}', 'eve')).toBe(dayOf('2026-11-20T00:00:00Z'));
    expect(day('{"timestamp":"2026-11-21T00:10:00.300000Z"}', 'eve')).toBe(dayOf('2026-11-21T00:00:00Z'));
    expect(day('{"timestamp":"2026-11-21T00:10:00.300000-0100"}', 'eve')).toBe(dayOf('2026-11-21T00:00:00Z'));
    expect(day('{"timestamp":"2026-11-21T23:40:00.300000-0100"}', 'eve')).toBe(dayOf('2026-11-22T00:00:00Z'));
    expect(day('{"time":"2026-11-21T23:40:00-01:00"}', 'native')).toBe(dayOf('2026-11-22T00:00:00Z'));
  });

  it('is undefined for a line without a readable time, and never reads the next line', () => {
    const two = Buffer.from('{"event_type":"alert"}\n{"timestamp":"2021-06-06T10:00:00Z"}\n');
    expect(lineDay(two, 0, 22, 'eve')).toBeUndefined();
    expect(day('{"timestamp":"yesterday"}', 'eve')).toBeUndefined();
    expect(day('{"timestamp":"11/21-10:00:00.123456"}', 'snort')).toBeUndefined();
  });
});

function feed(b: Batcher, lines: { text: string; day?: number }[]): CutBatch[] {
  const cuts: CutBatch[] = [];
  let end = 0;
  for (const l of lines) {
    end += Buffer.byteLength(l.text) + 1;
    const cut = b.add(Buffer.from(l.text), end, 0, l.day);
    if (cut) cuts.push({ ...cut, ndjson: Buffer.from(cut.ndjson) });
  }
  const rest = b.take();
  if (rest) cuts.push({ ...rest, ndjson: Buffer.from(rest.ndjson) });
  return cuts;
}
const texts = (c: CutBatch) => c.ndjson.toString().split('\n').filter(Boolean);

describe('Batcher by UTC day', () => {
  it('starts a new batch at the first line of a day beyond maxDays', () => {
    const lines = Array.from({ length: 10 }, (_, i) => ({ text: `d${i}`, day: i }));
    const cuts = feed(new Batcher({ maxLines: 100, maxBytes: 1 << 20, maxDays: 4 }), lines);
    expect(cuts.map(texts)).toEqual([['d0', 'd1', 'd2', 'd3'], ['d4', 'd5', 'd6', 'd7'], ['d8', 'd9']]);
    // Byte ranges stay contiguous.
    expect(cuts.map((c) => [c.start, c.end])).toEqual([[0, 12], [12, 24], [24, 30]]);
  });

  it('a day already in the batch does not count again (out-of-order lines)', () => {
    const lines = [0, 1, 0, 1, 2, 0].map((d, i) => ({ text: `l${i}d${d}`, day: d }));
    const cuts = feed(new Batcher({ maxLines: 100, maxBytes: 1 << 20, maxDays: 2 }), lines);
    expect(cuts.map(texts)).toEqual([['l0d0', 'l1d1', 'l2d0', 'l3d1'], ['l4d2', 'l5d0']]);
  });

  it('wholeDays: a full batch is cut where its last day began; that day starts the next batch', () => {
    // 3 lines of day 0, 3 of day 1, 3 of day 2, batches of 4: a plain cut splits days 0 and 1 and 2 (3 batches
    // touching 5 day-batch pairs); whole-day cuts give 3 batches touching each day once.
    const lines = [0, 0, 0, 1, 1, 1, 2, 2, 2].map((d, i) => ({ text: `l${i}`, day: d }));
    const plain = feed(new Batcher({ maxLines: 4, maxBytes: 1 << 20 }), lines);
    expect(plain.map(texts)).toEqual([['l0', 'l1', 'l2', 'l3'], ['l4', 'l5', 'l6', 'l7'], ['l8']]);
    const whole = feed(new Batcher({ maxLines: 4, maxBytes: 1 << 20, wholeDays: true }), lines);
    expect(whole.map(texts)).toEqual([['l0', 'l1', 'l2'], ['l3', 'l4', 'l5'], ['l6', 'l7', 'l8']]);
    // Each batch accounts for exactly the bytes of its lines, contiguously.
    expect(whole.map((c) => [c.start, c.end])).toEqual([[0, 9], [9, 18], [18, 27]]);
  });

  it('wholeDays: a day larger than a batch is still cut by count; lines of no known day stay with their run', () => {
    const lines = [
      { text: 'a0', day: 5 },
      ...Array.from({ length: 6 }, (_, i) => ({ text: `b${i}`, day: 6 })),
      { text: 'x' },
      { text: 'c0', day: 7 },
    ];
    const cuts = feed(new Batcher({ maxLines: 4, maxBytes: 1 << 20, wholeDays: true }), lines);
    // Full at b2 (a0 b0 b1 b2): a0 alone; full again at b3 with one day only: a plain cut; full at c0: c0 waits.
    expect(cuts.map(texts)).toEqual([['a0'], ['b0', 'b1', 'b2', 'b3'], ['b4', 'b5', 'x'], ['c0']]);
  });
});

describe('push of a backfill', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'push-days-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('never sends more than the cap of distinct days per batch, cuts at day boundaries, and sends every line once', async () => {
    // 90 past days, 7 alerts a day (sparse, like a honeypot), batches of 50 lines.
    const first = Date.UTC(2026, 5, 1);
    const lines: string[] = [];
    for (let d = 0; d < 90; d++) {
      for (let k = 0; k < 7; k++) {
        lines.push(JSON.stringify({ timestamp: new Date(first + d * DAY + k * 3_600_000).toISOString(), event_type: 'alert', n: lines.length }));
      }
    }
    const file = join(dir, 'eve.json');
    await writeFile(file, `${lines.join('\n')}\n`);
    const batches: string[][] = [];
    const impl = (async (_url: URL, init: RequestInit) => {
      batches.push(gunzipSync(Buffer.from(init.body as Uint8Array)).toString('utf8').split('\n').filter(Boolean));
      return new Response(JSON.stringify({ accepted: batches.at(-1)!.length, rejected: 0, skipped: 0, duplicate: false, writeUnits: 0 }), { status: 202 });
    }) as unknown as typeof fetch;
    const daysOf = (batch: string[]) => new Set(batch.map((l) => (JSON.parse(l) as { timestamp: string }).timestamp.slice(0, 10)));
    const push = (opts: object) =>
      pushLog(file, { endpoint: 'http://127.0.0.1:9', sensor: 's', privateKey: key, batchSize: 50, retryForMs: 0, spool: new Spool(join(dir, 'spool')), fetchImpl: impl, ...opts });

    // Whole days: 7 days (49 lines) per batch, each day in exactly one batch.
    await push({});
    expect(batches.flat()).toEqual(lines);
    expect(batches.map((b) => b.length)).toEqual([...Array(12).fill(49), 42]);
    const pairs = batches.reduce((n, b) => n + daysOf(b).size, 0);
    expect(pairs).toBe(90);

    // A cap below the batch size: 3 days per batch at most.
    batches.length = 0;
    await push({ maxDaysPerBatch: 3 });
    expect(batches.flat()).toEqual(lines);
    expect(Math.max(...batches.map((b) => daysOf(b).size))).toBe(3);
    expect(batches).toHaveLength(30);

    // The default cap holds for a batch size that would otherwise span 1,000 lines over 142 days.
    batches.length = 0;
    await push({ batchSize: 1000 });
    expect(batches.flat()).toEqual(lines);
    expect(batches.map((b) => daysOf(b).size)).toEqual([DEFAULT_MAX_DAYS_PER_BATCH, DEFAULT_MAX_DAYS_PER_BATCH, 28]);
  });
});
