/**
 * Acceptance 1: a push to a dead endpoint spools and exits 75; the next push, with no input and `dev` up,
 * drains the spool with the original keys; counts are exact (`alertgraph stats --json`).
 * `dev` and every CLI call run as separate processes, on 127.0.0.1 only.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '../../lib/counting/aggregate.js';
import { eveAlert, eveFlow } from '../helpers/eve.js';
import { freeLoopbackPort, runCli, startDev, type DevProcess } from '../helpers/e2e.js';

let dir: string;
let dev: DevProcess | undefined;
let url: string;

const cli = (...args: string[]) => runCli(dir, args, { timeoutMs: 90_000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-e2e-spool-'));
  dev = await startDev(dir);
  url = dev.url;
}, 90_000);

afterAll(async () => {
  await dev?.stop();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

describe('push with the endpoint down', () => {
  it('spools and exits 75; the next push drains the spool first, with the original keys; counts exact', async () => {
    const key = join(dir, 'edge-spool.pem');
    const keygen = await cli('keygen', '--out', key, '--json');
    expect(keygen.code, keygen.stderr).toBe(0);
    const { publicKey } = JSON.parse(keygen.stdout) as { publicKey: string };
    const today = utcDay(Date.now());
    expect((await cli('sensor', 'add', 'edge-spool', '--public-key', publicKey, '--deployed', today)).code).toBe(0);

    // 1,234 alerts over the last hour, with some non-alert lines that the service skips.
    const now = Date.now();
    const lines: string[] = [];
    const days = new Map<string, number>();
    for (let i = 0; i < 1234; i++) {
      const time = now - 3_600_000 + i * 2_000;
      lines.push(eveAlert({ time, dstPort: 1000 + (i % 50) }));
      days.set(utcDay(time), (days.get(utcDay(time)) ?? 0) + 1);
      if (i % 100 === 0) lines.push(eveFlow(time));
    }
    const log = join(dir, 'eve.json');
    await writeFile(log, `${lines.join('\n')}\n`);
    const spoolDir = join(dir, 'spool', 'edge-spool');

    const dead = await freeLoopbackPort();
    const down = await cli('push', log, '--sensor', 'edge-spool', '--key', key, '--endpoint', `http://127.0.0.1:${dead}`, '--batch-size', '100', '--retry-for', '3s', '--json');
    expect(down.code, down.stderr).toBe(75);
    const spooled = JSON.parse(down.stdout) as { spooledBatches: number; accepted: number; spoolDir: string; retries: number };
    expect(spooled.spooledBatches).toBe(13);
    expect(spooled.accepted).toBe(0);
    expect(spooled.retries).toBeGreaterThan(1);
    expect(spooled.spoolDir).toBe(spoolDir);
    expect((await readdir(spoolDir)).filter((f) => f.endsWith('.json'))).toHaveLength(13);

    // No input: only drain, against the live stack.
    const drain = await cli('push', '--sensor', 'edge-spool', '--key', key, '--endpoint', url, '--json');
    expect(drain.code, drain.stderr).toBe(0);
    const drained = JSON.parse(drain.stdout) as Record<string, number>;
    expect(drained).toMatchObject({ accepted: 1234, skipped: 13, rejected: 0, drainedBatches: 13, failedBatches: 0, spooledBatches: 0, duplicateBatches: 0 });
    expect(await readdir(spoolDir)).toEqual([]);

    const sorted = [...days.keys()].sort();
    const stats = await cli('stats', '--from', sorted[0]!, '--to', sorted.at(-1)!, '--json');
    expect(stats.code, stats.stderr).toBe(0);
    for (const d of (JSON.parse(stats.stdout) as { days: { date: string; total: number; bySensor: Record<string, number> }[] }).days) {
      expect(d.total).toBe(days.get(d.date) ?? 0);
      expect(d.bySensor['edge-spool']).toBe(days.get(d.date));
    }

    // The spooled batches had the keys a direct push derives: pushing the log now counts nothing again.
    const again = await cli('push', log, '--sensor', 'edge-spool', '--key', key, '--endpoint', url, '--batch-size', '100', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ accepted: 0, duplicateBatches: 13 });
  }, 120_000);
});
