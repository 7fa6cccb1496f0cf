/**
 * Acceptance 3: `push --follow` as a process against `dev`: lines appended, the file rotated (rename + new
 * file), more lines, the follower stopped with SIGTERM, the file rotated again while it is stopped, the
 * follower restarted — every alert counted once; and a heartbeat for a quiet period shows the sensor as
 * reporting on a day it sent no alerts. Loopback only, bounded by the timeouts below.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '../../lib/counting/aggregate.js';
import { eveAlert, eveDns } from '../helpers/eve.js';
import { BIN, liveDailyStats, runCli, startDev, waitFor, type DevProcess } from '../helpers/e2e.js';

const SENSOR = 'edge-follow';

let dir: string;
let dev: DevProcess | undefined;
const followers: ChildProcess[] = [];

const cli = (...args: string[]) => runCli(dir, args, { timeoutMs: 90_000 });

/** bySensor for each day, straight from the running stack's counters (cheaper than a CLI process per poll). */
async function reported(from: string, to: string): Promise<Map<string, Record<string, number>>> {
  const stats = await liveDailyStats(dir, [SENSOR], from, to);
  return new Map(stats.days.map((d) => [d.date, d.bySensor]));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-e2e-follow-'));
  dev = await startDev(dir);
}, 90_000);

afterAll(async () => {
  for (const f of followers) if (f.exitCode === null && f.signalCode === null) f.kill('SIGKILL');
  await dev?.stop();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

function startFollower(log: string, key: string) {
  const proc = spawn(
    process.execPath,
    [BIN, 'push', log, '--follow', '--sensor', SENSOR, '--key', key, '--batch-size', '50', '--flush-after', '1s', '--heartbeat', '3s', '--json', '--data-dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  followers.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d) => (stdout += d));
  proc.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    stderr: () => stderr,
    /** SIGTERM, then the exit code and the final JSON summary. */
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return { code, summary: JSON.parse(stdout) as { accepted: number; duplicateBatches: number; failedBatches: number; heartbeats: number }, stderr };
    },
  };
}

describe('push --follow', () => {
  it('follows appends and rotations across a restart, each alert counted once; heartbeats while quiet', async () => {
    const key = join(dir, `${SENSOR}.pem`);
    const keygen = await cli('keygen', '--out', key, '--json');
    expect(keygen.code, keygen.stderr).toBe(0);
    const { publicKey } = JSON.parse(keygen.stdout) as { publicKey: string };
    // The alerts are dated yesterday (UTC); the heartbeats land today, where this sensor sends no alerts.
    const now = Date.now();
    const today = utcDay(now);
    const yesterday = utcDay(now - 86_400_000);
    const base = Date.parse(`${yesterday}T12:00:00Z`);
    expect((await cli('sensor', 'add', SENSOR, '--public-key', publicKey, '--deployed', yesterday)).code).toBe(0);

    let n = 0;
    const lines = (count: number) => {
      const out: string[] = [];
      for (let i = 0; i < count; i++, n++) {
        out.push(eveAlert({ time: base + n * 1000, dstPort: 1 + (n % 100) }));
        if (n % 40 === 0) out.push(eveDns(base + n * 1000));
      }
      return `${out.join('\n')}\n`;
    };
    const total = async () => (await reported(yesterday, yesterday)).get(yesterday)?.[SENSOR] ?? 0;
    const until = (count: number, what: string) => waitFor(what, async () => ((await total()) === count ? true : undefined), 60_000);

    const log = join(dir, 'eve.json');
    await writeFile(log, lines(120));
    const first = startFollower(log, key);
    await until(120, 'the initial lines');
    await appendFile(log, lines(30));
    await until(150, 'appended lines');

    // Rotation by rename: the writer still appends to the old file for a moment, then writes a new one.
    await rename(log, `${log}.1`);
    await appendFile(`${log}.1`, lines(10));
    await writeFile(log, lines(40));
    await until(200, 'lines on both sides of the rotation');

    await appendFile(log, lines(7));
    const stopped = await first.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toContain('rotated; following the new file');
    expect(stopped.summary.failedBatches).toBe(0);

    // While it is stopped: more lines, and another rotation.
    await appendFile(log, lines(15));
    await rename(log, `${log}.2`);
    await writeFile(log, lines(25));

    const second = startFollower(log, key);
    await until(247, 'everything after the restart');
    // Quiet now: a heartbeat makes the sensor appear today with zero alerts.
    await waitFor('a heartbeat', async () => ((await reported(today, today)).get(today)?.[SENSOR] === 0 ? true : undefined), 30_000);
    const end = await second.stop();
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toContain('rotated while stopped');
    expect(end.summary.heartbeats).toBeGreaterThanOrEqual(1);
    expect(end.summary.failedBatches).toBe(0);

    const stats = await cli('stats', '--from', yesterday, '--to', today, '--json');
    expect(stats.code, stats.stderr).toBe(0);
    const days = new Map((JSON.parse(stats.stdout) as { days: { date: string; total: number; bySensor: Record<string, number> }[] }).days.map((d) => [d.date, d]));
    expect(days.get(yesterday)).toMatchObject({ total: 247, bySensor: { [SENSOR]: 247 } });
    expect(days.get(today)).toMatchObject({ total: 0, bySensor: { [SENSOR]: 0 } });
    // Nothing was sent twice: the two runs' accepted alerts add up to the total.
    expect(stopped.summary.accepted + end.summary.accepted).toBe(247);
    expect(stopped.summary.duplicateBatches + end.summary.duplicateBatches).toBe(0);
  }, 240_000);
});
