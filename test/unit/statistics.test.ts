/**
 * The analysts' statistics (DESIGN §14) on a hand-made fixture, every answer worked out by hand below, through
 * the real engine (DuckDB) and the period report built from them.
 *
 * Period 2026-01-01 … 2026-04-15; every day up to 04-14 is closed, 04-15 is open. Sources:
 *   A    04-01: one ICMP alert and two tcp/445 alerts (an ICMP source that also sends TCP)
 *   V    04-02: 20 alerts to tcp/1 … tcp/20, one destination (a vertical scan; its only alerts are the scan)
 *   H    04-03: 20 alerts to tcp/22, 20 destinations (a horizontal scan)
 *   N    04-03: 19 alerts to tcp/101 … tcp/119, one destination (19 ports: not a scan)
 *   S    04-04: one tcp/80 alert whose signature names a scan
 *   T    04-01 … 04-10: one tcp/23 alert a day (active on 10 days)
 *   C    01-06 … 04-15: one udp/53 alert a day (active on 100 days), first seen 2025-12-01
 * First seen: A, T 04-01; V 04-02; H, N 04-03; S 04-04; C 2025-12-01.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LakeEngine } from '../../lib/lake/engine.js';
import { buildPeriodReport, type PeriodReport } from '../../lib/lake/report.js';
import { closeDayStatisticsQuery } from '../../lib/lake/statistics.js';
import { CLOSE_SOURCE_DAYS, FACT_COLUMNS } from '../../lib/lake/sql.js';
import { addDays, daysBetween } from '../../lib/util/days.js';

type Row = { day: string; src: string; proto: string; dst_port?: number; dst?: string; sig_scan?: boolean };

function fixture(): Row[] {
  const rows: Row[] = [];
  rows.push({ day: '2026-04-01', src: 'A', proto: 'icmp' });
  for (let i = 0; i < 2; i++) rows.push({ day: '2026-04-01', src: 'A', proto: 'tcp', dst_port: 445, dst: 'd1' });
  for (let p = 1; p <= 20; p++) rows.push({ day: '2026-04-02', src: 'V', proto: 'tcp', dst_port: p, dst: 'd1' });
  for (let d = 1; d <= 20; d++) rows.push({ day: '2026-04-03', src: 'H', proto: 'tcp', dst_port: 22, dst: `d${d}` });
  for (let p = 101; p <= 119; p++) rows.push({ day: '2026-04-03', src: 'N', proto: 'tcp', dst_port: p, dst: 'd1' });
  rows.push({ day: '2026-04-04', src: 'S', proto: 'tcp', dst_port: 80, dst: 'd1', sig_scan: true });
  for (const day of daysBetween('2026-04-01', '2026-04-10')) rows.push({ day, src: 'T', proto: 'tcp', dst_port: 23, dst: 'd2' });
  for (let i = 0; i < 100; i++) rows.push({ day: addDays('2026-01-06', i), src: 'C', proto: 'udp', dst_port: 53, dst: 'd3' });
  return rows;
}

const FIRST_SEEN: [string, string][] = [
  ['A', '2026-04-01'],
  ['T', '2026-04-01'],
  ['V', '2026-04-02'],
  ['H', '2026-04-03'],
  ['N', '2026-04-03'],
  ['S', '2026-04-04'],
  ['C', '2025-12-01'],
];

let dir: string;
let engine: LakeEngine;
let report: PeriodReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-stats-'));
  engine = await LakeEngine.open({ scratchDir: dir });
  await engine.run(`CREATE TABLE facts (${FACT_COLUMNS.map((c) => `${c.name} ${c.duckdb}`).join(', ')})`);
  const q = (v: string | undefined) => (v === undefined ? 'NULL' : `'${v}'`);
  const values = fixture().map(
    (r, i) =>
      `(${q(r.day)}, TIMESTAMP '${r.day} 12:00:00', 's1', ${q(r.src)}, '192.0.0.0/8', 40000, ${q(r.dst)}, ${r.dst_port ?? 'NULL'}, ${q(r.proto)}, 1, 'sig', 'cat', 2, ${r.sig_scan ? 'true' : 'false'}, 's1/b${i % 7}')`,
  );
  await engine.run(`INSERT INTO facts VALUES ${values.join(', ')}`);
  await engine.run(`CREATE TABLE first_seen (src VARCHAR, first_day VARCHAR)`);
  await engine.run(`INSERT INTO first_seen VALUES ${FIRST_SEEN.map(([s, d]) => `('${s}', '${d}')`).join(', ')}`);
  report = await buildPeriodReport(engine.statistics, { from: '2026-01-01', to: '2026-04-15' }, { isClosed: (d) => d <= '2026-04-14' });
});

afterAll(async () => {
  engine?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the period report on the hand-made fixture', () => {
  it('counts alerts and sources: 3 + 20 + 20 + 19 + 1 + 10 + 100 alerts from 7 sources', () => {
    expect(report.from).toBe('2026-01-01');
    expect(report.to).toBe('2026-04-15');
    expect(report.alerts).toBe(173);
    expect(report.sources).toBe(7);
  });

  it('splits sources by ICMP: A (an ICMP source that also sends TCP) and its 3 alerts, against the other 6 and 170', () => {
    expect(report.icmpSources).toEqual({ sources: 1, alerts: 3, alertsPerSource: 3 });
    expect(report.otherSources).toEqual({ sources: 6, alerts: 170, alertsPerSource: 170 / 6 });
  });

  it('finds the vertical and the horizontal scan, not 19 ports, and the scan signature: 41 scan alerts from V, H, S', () => {
    expect(report.scans).toEqual({ sources: 3, alerts: 41 });
    expect(report.largestScan).toEqual({ alerts: 20 });
  });

  it('puts sources in activity cohorts (1 day: A V H N S; ≥10: T C; ≥100: C) with their top ports', () => {
    expect(report.activity.map(({ topPorts: _t, ...c }) => c)).toEqual([
      { minDays: 1, maxDays: 1, sources: 5 },
      { minDays: 10, maxDays: null, sources: 2 },
      { minDays: 100, maxDays: null, sources: 1 },
    ]);
    const oneDay = report.activity[0]!.topPorts;
    expect(oneDay.slice(0, 2)).toEqual([
      { port: 'tcp/22', alerts: 20 },
      { port: 'tcp/445', alerts: 2 },
    ]);
    // The other 12 places are single alerts (ties in any order) of V's, N's or S's ports.
    expect(oneDay).toHaveLength(14);
    for (const p of oneDay.slice(2)) expect(p.alerts).toBe(1);
    expect(report.activity[1]!.topPorts).toEqual([
      { port: 'udp/53', alerts: 100 },
      { port: 'tcp/23', alerts: 10 },
    ]);
    expect(report.activity[2]!.topPorts).toEqual([{ port: 'udp/53', alerts: 100 }]);
  });

  it('gives per-day figures: new sources, and new sources of unknown traffic (V and S are new with scans only)', () => {
    const day = (d: string) => report.perDay.find((p) => p.date === d);
    expect(report.perDay).toHaveLength(105);
    expect(day('2026-01-01')).toEqual({ date: '2026-01-01', alerts: 0, sources: 0, newSources: 0, scanAlerts: 0, newUnknownSources: 0 });
    expect(day('2026-01-06')).toEqual({ date: '2026-01-06', alerts: 1, sources: 1, newSources: 0, scanAlerts: 0, newUnknownSources: 0 });
    expect(day('2026-04-01')).toEqual({ date: '2026-04-01', alerts: 5, sources: 3, newSources: 2, scanAlerts: 0, newUnknownSources: 2 });
    expect(day('2026-04-02')).toEqual({ date: '2026-04-02', alerts: 22, sources: 3, newSources: 1, scanAlerts: 20, newUnknownSources: 0 });
    expect(day('2026-04-03')).toEqual({ date: '2026-04-03', alerts: 41, sources: 4, newSources: 2, scanAlerts: 20, newUnknownSources: 1 });
    expect(day('2026-04-04')).toEqual({ date: '2026-04-04', alerts: 3, sources: 3, newSources: 1, scanAlerts: 1, newUnknownSources: 0 });
    // The open day: counted alerts, but no source figures yet.
    expect(day('2026-04-15')).toEqual({ date: '2026-04-15', alerts: 1, sources: null, newSources: null, scanAlerts: 0, newUnknownSources: null });
  });

  it("gives the close the same scan alerts and new sources of unknown traffic per day, counted per source-day", async () => {
    const days = ['2026-01-06', ...daysBetween('2026-04-01', '2026-04-05')];
    // The close's source-days, as the close makes them before its statistics.
    await engine.run(CLOSE_SOURCE_DAYS);
    const rows = await engine.rows<{ day: string; scan_alerts: number; new_unknown_sources: number }>(closeDayStatisticsQuery(days));
    const byDay = Object.fromEntries(rows.map((r) => [r.day, [Number(r.scan_alerts), Number(r.new_unknown_sources)]]));
    // By hand: 04-01 A and T new, both with plain alerts; 04-02 V's 20-port scan, V new with scans only;
    // 04-03 H's 20-destination scan, N (19 ports) new and plain; 04-04 S's one scan-signature alert, S new
    // with it only; 04-05 and 01-06 nothing new, no scan.
    expect(byDay).toEqual({
      '2026-01-06': [0, 0],
      '2026-04-01': [0, 2],
      '2026-04-02': [20, 0],
      '2026-04-03': [20, 1],
      '2026-04-04': [1, 0],
      '2026-04-05': [0, 0],
    });
    for (const d of report.perDay.filter((p) => days.includes(p.date))) expect(byDay[d.date]).toEqual([d.scanAlerts, d.newUnknownSources]);
    // Other thresholds: V's 20 ports are no scan at 21.
    const strict = await engine.rows<{ day: string; scan_alerts: number }>(closeDayStatisticsQuery(['2026-04-02'], { minPorts: 21, minDestinations: 21 }));
    expect(strict.map((r) => [r.day, Number(r.scan_alerts)])).toEqual([['2026-04-02', 0]]);
  });

  it('gives the same report from self-contained texts (as Athena runs them) as from the classified table', async () => {
    const asAthena = await buildPeriodReport({ run: (sql) => engine.rows(sql) }, { from: '2026-01-01', to: '2026-04-15' }, { isClosed: (d) => d <= '2026-04-14' });
    const tiesFree = (r: PeriodReport) => ({ ...r, activity: r.activity.map((a) => ({ ...a, topPorts: a.topPorts.filter((p) => p.alerts > 1) })) });
    expect(tiesFree(asAthena)).toEqual(tiesFree(report));
  });

  it('lists ports by alerts with distinct sources, class and service name', () => {
    expect(report.ports).toHaveLength(44);
    expect(report.ports.slice(0, 4)).toEqual([
      { port: 'udp/53', alerts: 100, sources: 1, class: 'service', service: 'domain' },
      { port: 'tcp/22', alerts: 20, sources: 1, class: 'service', service: 'ssh' },
      { port: 'tcp/23', alerts: 10, sources: 1, class: 'service', service: 'telnet' },
      { port: 'tcp/445', alerts: 2, sources: 1, class: 'service', service: 'microsoft-ds' },
    ]);
    expect(report.ports.slice(4).every((p) => p.alerts === 1 && p.sources === 1)).toBe(true);
  });
});
