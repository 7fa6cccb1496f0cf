/**
 * End to end, as an operator runs it: `alertgraph dev` in its own process, then `keygen`, `sensor add`,
 * `push`, `stats`, `query`, `render` and `rebuild` as separate CLI processes against it; Ctrl-C (SIGINT)
 * stops it cleanly.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '../../lib/counting/aggregate.js';
import { eveAlert, eveDns, eveFlow } from '../helpers/eve.js';
import { runCli, startDev, type DevProcess } from '../helpers/e2e.js';

const HOUR = 3_600_000;

let dir: string;
let dev: DevProcess | undefined;
let pushed: { accepted: number; days: string[]; expected: Map<string, { total: number }> } | undefined;

const cli = (...args: string[]) => runCli(dir, args, { timeoutMs: 60_000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-e2e-'));
  dev = await startDev(dir);
}, 90_000);

afterAll(async () => {
  await dev?.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('dev + keygen + sensor + push + stats', () => {
  it('counts a pushed EVE log exactly, per UTC day, protocol and port; a second push counts nothing', async () => {
    const key = join(dir, 'edge-1.pem');
    const keygen = await cli('keygen', '--out', key, '--json');
    expect(keygen.code).toBe(0);
    const { publicKey } = JSON.parse(keygen.stdout) as { publicKey: string };

    const today = new Date().toISOString().slice(0, 10);
    const added = await cli('sensor', 'add', 'edge-1', '--public-key', publicKey, '--deployed', today, '--name', 'Edge One', '--json');
    expect(added.code, added.stderr).toBe(0);

    // A log around the last UTC midnight, with +0200 and -0500 offsets, IPv6, ICMP and non-alert events.
    const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const alerts: { time: number; proto: string; port?: number }[] = [];
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) {
      const time = midnight - 2 * HOUR + i * 4 * 60_000; // from 22:00 UTC yesterday to ~01:56 UTC today
      if (time > Date.now() - 1000) break;
      const port = [445, 22, 3389][i % 3]!;
      const proto = i % 10 === 0 ? 'ICMP' : 'TCP';
      lines.push(eveAlert({ time, offsetMinutes: i % 2 ? 120 : -300, dstPort: port, proto, src: i % 4 ? `192.0.2.${i}` : `2001:db8::${i}` }));
      alerts.push({ time, proto: proto.toLowerCase(), port: proto === 'TCP' ? port : undefined });
      if (i % 5 === 0) lines.push(eveFlow(time), eveDns(time));
    }
    const log = join(dir, 'eve.json');
    await writeFile(log, `${lines.join('\n')}\n`);

    // The independent count.
    const expected = new Map<string, { total: number; tcp: number; icmp: number; ports: Record<string, number> }>();
    for (const a of alerts) {
      const day = utcDay(a.time);
      const e = expected.get(day) ?? { total: 0, tcp: 0, icmp: 0, ports: {} };
      e.total++;
      if (a.proto === 'tcp') e.tcp++;
      else e.icmp++;
      if (a.port !== undefined) e.ports[`tcp/${a.port}`] = (e.ports[`tcp/${a.port}`] ?? 0) + 1;
      expected.set(day, e);
    }

    const push = await cli('push', log, '--sensor', 'edge-1', '--key', key, '--batch-size', '7', '--json');
    expect(push.code, push.stderr).toBe(0);
    const summary = JSON.parse(push.stdout) as Record<string, number>;
    expect(summary.accepted).toBe(alerts.length);
    expect(summary.skipped).toBe(lines.length - alerts.length);
    expect(summary.rejected).toBe(0);
    expect(summary.duplicateBatches).toBe(0);
    expect(summary.writeUnits).toBeGreaterThan(0);

    const days = [...expected.keys()].sort();
    const stats = await cli('stats', '--from', days[0]!, '--to', days.at(-1)!, '--json');
    expect(stats.code, stats.stderr).toBe(0);
    const figures = JSON.parse(stats.stdout) as { days: { date: string; total: number; bySensor: Record<string, number>; byProto: Record<string, number>; byPort: Record<string, number>; sources: null }[] };
    for (const d of figures.days) {
      const e = expected.get(d.date)!;
      expect(d.total).toBe(e.total);
      expect(d.bySensor).toEqual({ 'edge-1': e.total });
      expect(d.byProto).toEqual({ tcp: e.tcp, udp: 0, icmp: e.icmp, other: 0 });
      expect(d.byPort).toEqual(e.ports);
      expect(d.sources).toBeNull();
    }

    const again = await cli('push', log, '--sensor', 'edge-1', '--key', key, '--batch-size', '7', '--json');
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as Record<string, number>;
    expect(second.accepted).toBe(0);
    expect(second.duplicateBatches).toBe(summary.batches);
    const statsAgain = await cli('stats', '--from', days[0]!, '--to', days.at(-1)!, '--json');
    expect(JSON.parse(statsAgain.stdout)).toEqual(figures);
    pushed = { accepted: summary.accepted!, days, expected };
  });

  it('query sees every counted alert at once; render closes yesterday on the lake; rebuild gives the same facts', async () => {
    const { accepted, days, expected } = pushed!;
    const count = async () => JSON.parse((await cli('query', 'select count(*) as n from facts', '--json')).stdout) as unknown;
    // Before any render: the staging facts.
    expect(await count()).toEqual({ columns: ['n'], rows: [{ n: accepted }] });
    const perDay = await cli('query', 'select day, count(*) as alerts from facts group by day order by day', '--json');
    expect(perDay.code, perDay.stderr).toBe(0);
    expect(JSON.parse(perDay.stdout).rows).toEqual(days.map((d) => ({ day: d, alerts: expected.get(d)!.total })));

    expect((await cli('render', '--json')).code).toBe(0);
    expect(await count()).toEqual({ columns: ['n'], rows: [{ n: accepted }] });
    // Every alert of the log has its own source address: distinct and new sources of a closed day are its alerts.
    const yesterday = utcDay(Date.now() - 86_400_000);
    const stats = JSON.parse((await cli('stats', '--from', days[0]!, '--to', days.at(-1)!, '--json')).stdout) as { days: { date: string; sources: number | null; newSources: number | null }[] };
    for (const d of stats.days) {
      if (d.date <= yesterday) expect([d.sources, d.newSources]).toEqual([expected.get(d.date)!.total, expected.get(d.date)!.total]);
      else expect(d.sources).toBeNull();
    }
    const one = await cli('query', 'select count(*) as n from facts', '--from', days.at(-1)!, '--to', days.at(-1)!, '--json');
    expect(JSON.parse(one.stdout).rows).toEqual([{ n: expected.get(days.at(-1)!)!.total }]);

    // The period report: its per-day alerts are the counters'; sources of closed days those of stats.
    const report = await cli('report', '--from', days[0]!, '--to', days.at(-1)!, '--json');
    expect(report.code, report.stderr).toBe(0);
    const r = JSON.parse(report.stdout) as { alerts: number; sources: number; perDay: { date: string; alerts: number; sources: number | null }[] };
    expect(r.alerts).toBe(accepted);
    expect(r.sources).toBe(accepted);
    expect(r.perDay.map((d) => [d.date, d.alerts, d.sources])).toEqual(stats.days.map((d) => [d.date, expected.get(d.date)!.total, d.sources]));
    const html = join(dir, 'report.html');
    expect((await cli('report', '--from', days[0]!, '--to', days.at(-1)!, '--out', html)).code).toBe(0);
    expect(await readFile(html, 'utf8')).toContain(`${accepted} alerts from ${accepted} distinct source addresses`);

    const refused = await cli('query', 'delete from facts');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/query_refused: only a read-only SELECT/);
    const text = await cli('query', 'select proto, count(*) as n from facts group by proto order by proto');
    expect(text.stdout).toMatch(/^proto\s+n\n/);

    const rebuild = await cli('rebuild', '--json');
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(await count()).toEqual({ columns: ['n'], rows: [{ n: accepted }] });
    const after = JSON.parse((await cli('stats', '--from', days[0]!, '--to', days.at(-1)!, '--json')).stdout) as typeof stats;
    expect(after.days.map((d) => [d.sources, d.newSources])).toEqual(stats.days.map((d) => [d.sources, d.newSources]));
  }, 120_000);

  it('lists and revokes sensors; --help works on every command', async () => {
    const list = await cli('sensor', 'list', '--json');
    expect((JSON.parse(list.stdout) as { sensors: { id: string }[] }).sensors.map((s) => s.id)).toContain('edge-1');
    expect((await cli('sensor', 'revoke', 'edge-1')).code).toBe(0);
    const after = JSON.parse((await cli('sensor', 'list', '--json')).stdout) as { sensors: { id: string; status: string }[] };
    expect(after.sensors.find((s) => s.id === 'edge-1')?.status).toBe('revoked');
    for (const cmd of ['dev', 'keygen', 'sensor', 'push', 'stats', 'query', 'report', 'rebuild']) {
      const h = await cli(cmd, '--help');
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`alertgraph ${cmd}`);
    }
    const bad = await cli('stats', '--from', '2026-13-01', '--to', '2026-01-01');
    expect(bad.code).toBe(2);
  });

  it('stops everything on SIGINT', async () => {
    expect(await dev!.stop()).toBe(0);
    expect(existsSync(join(dir, 'stack.json'))).toBe(false);
    const pidFile = join(dir, 'dynamodb', 'dynamodb.pid');
    expect(existsSync(pidFile)).toBe(false);
  }, 30_000);
});
