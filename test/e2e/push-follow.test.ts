/**
 * Acceptance 3: `push --follow` as a process against `dev`: lines appended, the file rotated (rename + new
 * file), more lines, the follower stopped with SIGTERM, the file rotated again while it is stopped, the
 * follower restarted — every alert counted once; and a heartbeat for a quiet period shows the sensor as
 * reporting on a day it sent no alerts. Loopback only, bounded by the timeouts below.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '../../lib/counting/aggregate.js';
import { localDynamoClient } from '../../lib/local/aws-clients.js';
import { dailyStats } from '../../lib/stats/daily.js';
import { DynamoBatchLedger } from '../../lib/store/ledger.js';
import { eveAlert, eveDns } from '../helpers/eve.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'alertgraph.js');
const SENSOR = 'edge-follow';

let dir: string;
let dev: ChildProcess | undefined;
const followers: ChildProcess[] = [];

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--data-dir', dir], { timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    const value = await probe().catch((err: unknown) => void (last = err));
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${String(last)})` : ''}`);
}

/** bySensor for each day, straight from the running stack's counters (cheaper than a CLI process per poll). */
async function reported(from: string, to: string): Promise<Map<string, Record<string, number>>> {
  const state = JSON.parse(await readFile(join(dir, 'stack.json'), 'utf8')) as { dynamoEndpoint: string; tableName: string };
  const client = localDynamoClient(state.dynamoEndpoint);
  try {
    const stats = await dailyStats(new DynamoBatchLedger(client, state.tableName, 400), [SENSOR], from, to);
    return new Map(stats.days.map((d) => [d.date, d.bySensor]));
  } finally {
    client.destroy();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-e2e-follow-'));
  const proc = spawn(process.execPath, [BIN, 'dev', '--port', '0', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  dev = proc;
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  await waitFor(
    'dev to answer /healthz',
    async () => {
      if (proc.exitCode !== null) throw new Error(`dev exited early:\n${log}`);
      const state = JSON.parse(await readFile(join(dir, 'stack.json'), 'utf8')) as { url: string };
      return (await fetch(`${state.url}/healthz`)).ok ? true : undefined;
    },
    60_000,
  );
}, 90_000);

afterAll(async () => {
  for (const f of followers) if (f.exitCode === null && f.signalCode === null) f.kill('SIGKILL');
  if (dev && dev.exitCode === null) {
    dev.kill('SIGINT');
    await new Promise((r) => dev!.once('exit', r));
  }
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
