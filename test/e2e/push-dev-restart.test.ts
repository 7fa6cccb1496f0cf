/**
 * Acceptance 2: `dev` is killed with SIGKILL in the middle of a push of 25,000 alerts and restarted on the
 * same data dir and the same port; the push (--retry-for 3m) rides it out, exits 0, and every alert is
 * counted exactly once. Loopback only; bounded by the timeouts below.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDynamoClient } from '../../lib/local/aws-clients.js';
import { DynamoBatchLedger } from '../../lib/store/ledger.js';
import { dailyStats } from '../../lib/stats/daily.js';
import { utcDay } from '../../lib/counting/aggregate.js';
import { eveAlert } from '../helpers/eve.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'alertgraph.js');
const ALERTS = 25_000;

let dir: string;
let port: number;
const devs: ChildProcess[] = [];

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--data-dir', dir], { timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number, every = 200): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as { port: number };
      srv.close(() => resolve(p));
    });
  });
}

/** Starts `dev` on the fixed port and waits until this very process answers. */
async function startDev(): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [BIN, 'dev', '--port', String(port), '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  devs.push(proc);
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  await waitFor(
    'dev to answer /healthz',
    async () => {
      if (proc.exitCode !== null) throw new Error(`dev exited early:\n${log}`);
      const state = JSON.parse(await readFile(join(dir, 'stack.json'), 'utf8')) as { pid: number; url: string };
      if (state.pid !== proc.pid) return undefined;
      expect(state.url).toBe(`http://127.0.0.1:${port}`);
      return (await fetch(`${state.url}/healthz`)).ok ? true : undefined;
    },
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${log}`);
  });
  return proc;
}

/** Alerts counted so far for the sensor, read straight from the running stack's counters. */
async function counted(sensor: string, day: string): Promise<number> {
  const state = JSON.parse(await readFile(join(dir, 'stack.json'), 'utf8')) as { dynamoEndpoint: string; tableName: string };
  const client = localDynamoClient(state.dynamoEndpoint);
  try {
    const stats = await dailyStats(new DynamoBatchLedger(client, state.tableName, 400), [sensor], day, day);
    return stats.days[0]?.total ?? 0;
  } finally {
    client.destroy();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-e2e-restart-'));
  port = await freePort();
  await startDev();
}, 90_000);

afterAll(async () => {
  for (const d of devs) if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
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
    }, 90_000, 50);
    expect(push.exitCode, 'the push finished before dev could be killed').toBeNull();
    devs[0]!.kill('SIGKILL');
    await new Promise((r) => devs[0]!.once('exit', r));
    expect(before).toBeLessThan(ALERTS);

    await startDev();
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
