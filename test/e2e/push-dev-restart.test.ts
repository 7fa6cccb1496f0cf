/**
 * Acceptance 2: `dev` is killed with SIGKILL in the middle of a push of 25,000 alerts and restarted on the
 * same data dir and the same port; the push (--retry-for 3m) rides it out, exits 0, and every alert is
 * counted exactly once. Loopback only; bounded by the timeouts below.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '../../lib/counting/aggregate.js';
import { eveAlert } from '../helpers/eve.js';
import { BIN, freeLoopbackPort, liveDailyStats, runCli, startDev, waitFor, type DevProcess } from '../helpers/e2e.js';

const ALERTS = 25_000;

let dir: string;
let port: number;
const devs: DevProcess[] = [];

const cli = (...args: string[]) => runCli(dir, args, { timeoutMs: 90_000 });

/** Starts `dev` on the fixed port, so that the restarted one answers where the push is sending. */
async function startDevOnPort(): Promise<DevProcess> {
  const dev = await startDev(dir, { port });
  devs.push(dev);
  expect(dev.url).toBe(`http://127.0.0.1:${port}`);
  return dev;
}

/** Alerts counted so far for the sensor, read straight from the running stack's counters. */
async function counted(sensor: string, day: string): Promise<number> {
  const stats = await liveDailyStats(dir, [sensor], day, day);
  return stats.days[0]?.total ?? 0;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-e2e-restart-'));
  port = await freeLoopbackPort();
  await startDevOnPort();
}, 90_000);

afterAll(async () => {
  for (const d of devs) await d.kill();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

describe('dev killed and restarted under a running push', () => {
  it('the push finishes with exit 0 and every alert is counted exactly once', async () => {
    const key = join(dir, 'edge-restart.pem');
    const keygen = await cli('keygen', '--out', key, '--json');
    expect(keygen.code, keygen.stderr).toBe(0);
    const { publicKey } = JSON.parse(keygen.stdout) as { publicKey: string };
    // All alerts on one UTC day, well inside the horizon, whatever time the test runs.
    const day = utcDay(Date.now() - 86_400_000);
    const dayStart = Date.parse(`${day}T00:00:00Z`);
    expect((await cli('sensor', 'add', 'edge-restart', '--public-key', publicKey, '--deployed', day)).code).toBe(0);

    const lines: string[] = [];
    for (let i = 0; i < ALERTS; i++) {
      lines.push(eveAlert({ time: dayStart + i * 3_000, dstPort: 1 + (i % 200), src: `192.0.2.${i % 250}` }));
    }
    const log = join(dir, 'eve.json');
    await writeFile(log, `${lines.join('\n')}\n`);

    const push = spawn(
      process.execPath,
      [BIN, 'push', log, '--sensor', 'edge-restart', '--key', key, '--endpoint', `http://127.0.0.1:${port}`, '--batch-size', '500', '--retry-for', '3m', '--json', '--data-dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    push.stdout!.on('data', (d) => (stdout += d));
    push.stderr!.on('data', (d) => (stderr += d));
    const pushExit = new Promise<number | null>((resolve) => push.once('exit', (code) => resolve(code)));
    const killTimer = setTimeout(() => push.kill('SIGKILL'), 240_000);

    // Kill dev once a few batches are in, while the push is still going.
    const before = await waitFor('the first batches', async () => {
      const n = await counted('edge-restart', day);
      return n >= 2_500 ? n : undefined;
    }, 90_000, { everyMs: 50 });
    expect(push.exitCode, 'the push finished before dev could be killed').toBeNull();
    await devs[0]!.kill();
    expect(before).toBeLessThan(ALERTS);

    await startDevOnPort();
    const code = await pushExit;
    clearTimeout(killTimer);
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as { accepted: number; duplicateBatches: number; failedBatches: number; spooledBatches: number; retries: number; errors: unknown[] };
    expect(summary.failedBatches).toBe(0);
    expect(summary.spooledBatches).toBe(0);
    expect(summary.errors).toEqual([]);
    expect(summary.retries).toBeGreaterThan(0);
    // A batch counted by the killed dev whose receipt was lost comes back as a duplicate on the retry.
    expect(summary.accepted).toBeLessThanOrEqual(ALERTS);
    expect(summary.accepted + 500 * summary.duplicateBatches).toBeGreaterThanOrEqual(ALERTS);

    const stats = await cli('stats', '--from', day, '--to', day, '--json');
    expect(stats.code, stats.stderr).toBe(0);
    const [figures] = (JSON.parse(stats.stdout) as { days: { total: number; bySensor: Record<string, number> }[] }).days;
    expect(figures?.total).toBe(ALERTS);
    expect(figures?.bySensor).toEqual({ 'edge-restart': ALERTS });
  }, 300_000);
});
