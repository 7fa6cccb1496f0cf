/**
 * Exactly once under retries and crashes: a failure is injected at every point of one batch's writes —
 * after the claim, between archive and facts, between facts and counting, between any two contribution
 * writes, and after the last write with the response lost — then the sensor retries the same batch. The
 * counters (DynamoDB Local) and the facts (read by DuckDB) must end up holding each alert exactly once, and a
 * further retry must be a duplicate that writes no facts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BatchLedger } from '../../lib/store/ledger.js';
import type { RawArchive } from '../../lib/store/raw-archive.js';
import type { FactsWriter } from '../../lib/lake/store.js';
import { openFactsSession } from '../../lib/lake/query.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eveAlert } from '../helpers/eve.js';
import { ndjsonBatch, postBatch, startHarness, type Harness } from '../helpers/harness.js';

const DAY = 86_400_000;
const now = Date.now();
const todayStart = Math.floor(now / DAY) * DAY;
const from = new Date(todayStart - 3 * DAY).toISOString().slice(0, 10);
const to = new Date(todayStart).toISOString().slice(0, 10);

/** A batch touching three UTC days (4, 3 and 2 alerts), so one batch makes three contribution writes. */
function threeDayLines(tag: number): string[] {
  const lines: string[] = [];
  const spec = [
    [todayStart - 2 * DAY + 3_600_000, 4],
    [todayStart - DAY + 3_600_000, 3],
    [todayStart + 60_000, 2],
  ] as const;
  for (const [start, n] of spec) {
    for (let i = 0; i < n; i++) lines.push(eveAlert({ time: Math.min(start + i * 1000, now - 1000), dstPort: 1000 + tag }));
  }
  return lines;
}

const EXPECTED: Record<string, number> = {
  [new Date(todayStart - 2 * DAY).toISOString().slice(0, 10)]: 4,
  [new Date(todayStart - DAY).toISOString().slice(0, 10)]: 3,
  [new Date(todayStart).toISOString().slice(0, 10)]: 2,
};

class InjectedCrash extends Error {}

/**
 * Counts every storage write of the batch (claim, archive, contributions) in call order and crashes at
 * write number `at`: either before it reaches storage, or after it was stored (the response is lost).
 */
function faults(at: number, when: 'before' | 'after') {
  let n = 0;
  let armed = true;
  let factWrites = 0;
  const step = async <T>(op: () => Promise<T>): Promise<T> => {
    const mine = ++n;
    if (armed && mine === at && when === 'before') {
      armed = false;
      throw new InjectedCrash(`crash before write ${mine}`);
    }
    const result = await op();
    if (armed && mine === at && when === 'after') {
      armed = false;
      throw new InjectedCrash(`crash after write ${mine}`);
    }
    return result;
  };
  return {
    wrapLedger: (l: BatchLedger): BatchLedger => ({
      claimBatch: (c) => step(() => l.claimBatch(c)),
      putContribution: (c) => step(() => l.putContribution(c)),
      markDayChanged: (d, s, at) => l.markDayChanged(d, s, at),
      countedDays: (s, k, d) => l.countedDays(s, k, d),
    }),
    wrapArchive: (a: RawArchive): RawArchive => ({ archiveBatch: (b) => step(() => a.archiveBatch(b)) }),
    wrapFacts: (w: FactsWriter): FactsWriter => ({
      writeFacts: (d, s, k, csv) => {
        factWrites++;
        return step(() => w.writeFacts(d, s, k, csv));
      },
    }),
    factWrites: () => factWrites,
    reset: () => {
      n = 0;
      factWrites = 0;
    },
  };
}

/** Facts per day, counted by the engine over the view `facts` (staging objects here: nothing compacted yet). */
async function factsPerDay(h: Harness, sensor: string): Promise<Record<string, number>> {
  const session = await openFactsSession(h.lake, join(tmpdir(), 'alertgraph-test'));
  try {
    const rows = await session.engine.rows<{ day: string; n: number }>(
      `SELECT day, count(*) AS n FROM facts WHERE sensor = '${sensor}' GROUP BY day ORDER BY day`,
    );
    return Object.fromEntries(rows.map((r) => [r.day, r.n]));
  } finally {
    await session.close();
  }
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('exactly once with a crash at any write', () => {
  // Writes of one batch: 1 claim, 2 archive, 3 its facts, 4–6 the three day contributions.
  const points = [1, 2, 3, 4, 5, 6].flatMap((at) => (['before', 'after'] as const).map((when) => ({ at, when })));

  for (const { at, when } of points) {
    it(`crash ${when} write ${at}, then retries: counted once`, async () => {
      const f = faults(at, when);
      h = await startHarness({ wrapLedger: f.wrapLedger, wrapArchive: f.wrapArchive, wrapFacts: f.wrapFacts });
      const sensor = await h.addSensor('s-crash');
      const batch = ndjsonBatch(sensor.id, threeDayLines(at));

      const first = await postBatch(h.url, sensor, batch);
      expect(first.status).toBe(500); // the injected crash is not a storage error: it surfaces as a 500

      f.reset();
      const retry = await postBatch(h.url, sensor, batch);
      // Contributions are written in parallel, so after a crash the other writes may still have landed:
      // then the retry finds everything counted (200, duplicate); otherwise it completes the rest (202).
      expect([200, 202]).toContain(retry.status);
      expect(retry.json.accepted).toBe(9);
      expect(await h.totals([sensor.id], from, to)).toEqual(EXPECTED);

      expect(await factsPerDay(h, sensor.id)).toEqual(EXPECTED);

      f.reset();
      const again = await postBatch(h.url, sensor, batch);
      expect(again.status).toBe(200);
      expect(again.json.duplicate).toBe(true);
      expect(f.factWrites()).toBe(0);
      expect(await h.totals([sensor.id], from, to)).toEqual(EXPECTED);
      expect(await factsPerDay(h, sensor.id)).toEqual(EXPECTED);

      // The raw archive holds the batch once, under its earliest day.
      const keys: string[] = [];
      for await (const k of h.archive.listBatchKeys()) keys.push(k);
      const earliest = new Date(todayStart - 2 * DAY).toISOString().slice(0, 10);
      expect(keys).toEqual([`raw/${earliest}/${sensor.id}/${batch.idempotencyKey}.ndjson.gz`]);
    });
  }
});

describe('concurrent retries', () => {
  it('the same batch sent 8 times at once is counted once', async () => {
    h = await startHarness();
    const sensor = await h.addSensor('s-race');
    const batch = ndjsonBatch(sensor.id, threeDayLines(99));
    const results = await Promise.all(Array.from({ length: 8 }, () => postBatch(h!.url, sensor, batch)));
    for (const r of results) expect([200, 202]).toContain(r.status);
    expect(results.filter((r) => r.json.duplicate === false).length).toBeGreaterThanOrEqual(1);
    expect(await h.totals([sensor.id], from, to)).toEqual(EXPECTED);
    expect(await factsPerDay(h, sensor.id)).toEqual(EXPECTED);
  });

  it('many sensors and batches in parallel: totals are exact', async () => {
    h = await startHarness();
    const sensors = await Promise.all(Array.from({ length: 4 }, (_, i) => h!.addSensor(`s-par-${i}`)));
    const posts = sensors.flatMap((s) => [1, 2, 3].map((tag) => postBatch(h!.url, s, ndjsonBatch(s.id, threeDayLines(tag)))));
    const results = await Promise.all(posts);
    for (const r of results) expect(r.status).toBe(202);
    const totals = await h.totals(sensors.map((s) => s.id), from, to);
    for (const [day, n] of Object.entries(EXPECTED)) expect(totals[day]).toBe(n * 12);
    for (const s of sensors) expect(await factsPerDay(h, s.id)).toEqual(Object.fromEntries(Object.entries(EXPECTED).map(([d, n]) => [d, n * 3])));
  });
});
