/**
 * The analysts' statistics through the whole path: signed batches → facts → the render job's close (per-day
 * scan alerts and new sources of unknown traffic in `stats`) → the monthly partner report, which must equal
 * the period report `alertgraph report --json` computes for that month. Worked out by hand:
 *   day -45: A sends ICMP and tcp/445 (2 alerts), B and C one tcp/22 alert each   → 4 alerts, 3 new, all unknown traffic
 *   day -44: V hits tcp/1 … tcp/20 (a vertical scan, V's only alerts), A one tcp/445 → 21 alerts, 20 scan alerts,
 *            1 new source (V) but no new source of unknown traffic
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildPeriodReport, classifyingOnce } from '../../lib/lake/report.js';
import { classifiedWithin, materializeStatistics } from '../../lib/lake/statistics.js';
import { openFactsSession } from '../../lib/lake/query.js';
import { localDynamoClient } from '../../lib/local/aws-clients.js';
import { reportKey } from '../../lib/publish/layout.js';
import { dailyStats } from '../../lib/stats/daily.js';
import { SummaryStore } from '../../lib/store/summaries.js';
import { eveAlert } from '../helpers/eve.js';
import { harnessRenderService, ndjsonBatch, postBatch, startHarness, type Harness } from '../helpers/harness.js';
import { today, noon, dayMs, dayName } from '../helpers/days.js';

const scratch = join(tmpdir(), 'alertgraph-test');

let h: Harness;
let summaries: SummaryStore;

beforeAll(async () => {
  h = await startHarness();
  const s = await h.addSensor('rep-a', { deployedAt: dayName(50) });
  const at = (day: number, i: number) => dayMs(day) + 3_600_000 + i * 1000;
  // The helper's default signature names a scan; these alerts' do not (only behaviour makes a scan here).
  const plain = { signature: 'ET POLICY probe', category: 'Misc' };
  const first = [
    eveAlert({ ...plain, time: at(45, 0), src: '192.0.2.1', proto: 'ICMP' }),
    eveAlert({ ...plain, time: at(45, 1), src: '192.0.2.1', dstPort: 445 }),
    eveAlert({ ...plain, time: at(45, 2), src: '192.0.2.2', dstPort: 22 }),
    eveAlert({ ...plain, time: at(45, 3), src: '192.0.2.3', dstPort: 22 }),
  ];
  const second = [
    ...Array.from({ length: 20 }, (_, i) => eveAlert({ ...plain, time: at(44, i), src: '198.51.100.9', dstPort: i + 1 })),
    eveAlert({ ...plain, time: at(44, 30), src: '192.0.2.1', dstPort: 445 }),
  ];
  for (const lines of [first, second]) expect((await postBatch(h.url, s, ndjsonBatch(s.id, lines))).status).toBe(202);
  summaries = new SummaryStore(localDynamoClient(inject('dynamoEndpoint')), h.config.tableName);
  const render = harnessRenderService(h, { now: noon });
  await render.run();
}, 120_000);
afterAll(async () => h?.close());

describe('statistics end to end', () => {
  it('stats carries scan alerts and new sources of unknown traffic of closed days', async () => {
    const stats = await dailyStats(h.ledger, ['rep-a'], dayName(45), dayName(44), (days) => summaries.settledDays(days));
    expect(stats.days.map((d) => [d.date, d.total, d.sources, d.newSources, d.scanAlerts, d.newUnknownSources])).toEqual([
      [dayName(45), 4, 3, 3, 0, 3],
      [dayName(44), 21, 2, 1, 20, 0],
    ]);
    const open = await dailyStats(h.ledger, ['rep-a'], today, today, (days) => summaries.settledDays(days));
    expect([open.days[0]!.scanAlerts, open.days[0]!.newUnknownSources]).toEqual([null, null]);
  });

  it("publishes the report of each closed month, equal to the period report of that month", async () => {
    const month = dayName(45).slice(0, 7);
    const published = await h.lake.readJson<Record<string, unknown>>(reportKey(month, 'json'));
    expect(published).toBeDefined();
    const from = `${month}-01`;
    const to = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).toISOString().slice(0, 10);
    const session = await openFactsSession(h.lake, scratch, { from, to });
    const state = await summaries.getRenderState();
    let report;
    try {
      report = await buildPeriodReport(session.engine.statistics, { from, to }, { isClosed: (d) => d <= state.lastClosedDay! });
    } finally {
      await session.close();
    }
    expect(published).toEqual(JSON.parse(JSON.stringify(report)));
    // And what it says, by hand, when both days fall in the month.
    if (dayName(44).startsWith(month)) {
      expect(report).toMatchObject({ alerts: 25, sources: 4, scans: { sources: 1, alerts: 20 }, largestScan: { alerts: 20 } });
      expect(report.icmpSources).toEqual({ sources: 1, alerts: 3, alertsPerSource: 3 });
    }
    const html = (await h.lake.list(reportKey(month, 'html'))).length;
    expect(html).toBe(1);
  });

  it('a period taken from the classified alerts of a longer one gives the same report as classified on its own', async () => {
    const whole = { from: dayName(50), to: dayName(1) };
    const session = await openFactsSession(h.lake, scratch, whole);
    try {
      const engine = session.engine.statistics;
      const classifiedOnce = await classifyingOnce(engine, whole);
      // What each report makes its table from: taken from the held one, or classified again.
      const made: string[] = [];
      const held = { ...classifiedOnce, materialize: (sql: string) => (made.push(sql), classifiedOnce.materialize!(sql)) };
      const isClosed = () => true;
      // Each day alone (the scan day among them) and both days together.
      for (const period of [{ from: dayName(45), to: dayName(45) }, { from: dayName(44), to: dayName(44) }, { from: dayName(46), to: dayName(44) }]) {
        made.length = 0;
        const taken = await buildPeriodReport(held, period, { isClosed });
        expect(made).toEqual([classifiedWithin(classifiedOnce.classified!.table, period)]);
        const own = await buildPeriodReport(engine, period, { isClosed });
        expect(taken).toEqual(own);
      }
      // The scan day by hand: 21 alerts, 20 of them V's scan.
      const scanDay = await buildPeriodReport(held, { from: dayName(44), to: dayName(44) }, { isClosed });
      expect(scanDay).toMatchObject({ alerts: 21, sources: 2, scans: { sources: 1, alerts: 20 } });
      // Other thresholds are not what the table holds: classified again (V's 20 ports are no scan at 21).
      made.length = 0;
      const strictThresholds = { minPorts: 21, minDestinations: 21 };
      const strict = await buildPeriodReport(held, { from: dayName(44), to: dayName(44) }, { isClosed, thresholds: strictThresholds });
      expect(made).toEqual([materializeStatistics({ from: dayName(44), to: dayName(44) }, strictThresholds)]);
      expect(strict.scans).toEqual({ sources: 0, alerts: 0 });
    } finally {
      await session.close();
    }
  });
});
