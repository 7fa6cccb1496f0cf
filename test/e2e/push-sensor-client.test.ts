/**
 * The light sensor client (issue 11, item 12): `dist/alertgraph-sensor.mjs`, built the way `npm run build`
 * builds it, copied alone into a directory with no node_modules above it, generates a key and pushes a
 * gzip-compressed log to a local stack; the counts are exact. One file, at most 5 MB, from lib/ only.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, stat, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSensorClient, SENSOR_CLIENT } from '../../lib/build/bundle.js';
import { utcDay } from '../../lib/counting/aggregate.js';
import { eveAlert, eveFlow } from '../helpers/eve.js';
import { liveDailyStats, runCli, startDev, type CliResult, type DevProcess } from '../helpers/e2e.js';

let work: string;
let sensorDir: string;
let dev: DevProcess | undefined;
let built: { bytes: number; inputs: string[] };

/** Runs the copied bundle with a bare environment, from its own directory. */
function sensor(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(sensorDir, SENSOR_CLIENT.file), ...args], { cwd: sensorDir, env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function hasNodeModulesAbove(dir: string): Promise<boolean> {
  for (let d = dir; ; d = dirname(d)) {
    if (await stat(join(d, 'node_modules')).then(() => true, () => false)) return true;
    if (dirname(d) === d) return false;
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'alertgraph-e2e-sensor-'));
  const buildDir = join(work, 'dist');
  built = await buildSensorClient(join(buildDir, SENSOR_CLIENT.file));
  sensorDir = join(work, 'sensor');
  await mkdir(sensorDir);
  await copyFile(join(buildDir, SENSOR_CLIENT.file), join(sensorDir, SENSOR_CLIENT.file));
  dev = await startDev(join(work, 'stack'));
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  await rm(work, { recursive: true, force: true });
}, 30_000);

describe('dist/alertgraph-sensor.mjs', () => {
  it('is one file under 5 MB built from lib/ alone (no package, no admin module)', async () => {
    expect(built.bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect((await stat(join(sensorDir, SENSOR_CLIENT.file))).size).toBe(built.bytes);
    const outside = built.inputs.filter((f) => !f.startsWith('lib/') && f !== 'alertgraph-sensor-entry.ts');
    expect(outside).toEqual([]);
    // The admin side stays out: no AWS SDK client, store, render, lake or local stack module.
    expect(built.inputs.filter((f) => /^lib\/(store|render|lake|ingest|charts|publish|local\/(?!state))/.test(f))).toEqual([]);
    expect(await readdir(sensorDir)).toEqual([SENSOR_CLIENT.file]);
    expect(await hasNodeModulesAbove(sensorDir)).toBe(false);
  });

  it('generates a key and pushes a gzip log to the local stack; counts exact; a second push counts nothing', async () => {
    const keygen = await sensor(['keygen', '--out', 'edge-light.pem', '--json']);
    expect(keygen.code, keygen.stderr).toBe(0);
    const { publicKey } = JSON.parse(keygen.stdout) as { publicKey: string };
    expect((await stat(join(sensorDir, 'edge-light.pem'))).mode & 0o777).toBe(0o600);
    const today = utcDay(Date.now());
    const add = await runCli(join(work, 'stack'), ['sensor', 'add', 'edge-light', '--public-key', publicKey, '--deployed', today]);
    expect(add.code, add.stderr).toBe(0);

    const now = Date.now();
    const lines: string[] = [];
    const days = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const time = now - 3_600_000 + i * 10_000;
      lines.push(eveAlert({ time, dstPort: 445 }));
      days.set(utcDay(time), (days.get(utcDay(time)) ?? 0) + 1);
      if (i % 50 === 0) lines.push(eveFlow(time));
    }
    await writeFile(join(sensorDir, 'eve.json.1.gz'), gzipSync(`${lines.join('\n')}\n`));
    const args = ['push', 'eve.json.1.gz', '--sensor', 'edge-light', '--key', 'edge-light.pem', '--endpoint', dev!.url, '--batch-size', '100', '--data-dir', 'state', '--json'];
    const push = await sensor(args);
    expect(push.code, push.stderr).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ accepted: 300, skipped: 6, rejected: 0, batches: 4, failedBatches: 0 });

    const sorted = [...days.keys()].sort();
    const stats = await liveDailyStats(join(work, 'stack'), ['edge-light'], sorted[0]!, sorted.at(-1)!);
    for (const d of stats.days) expect(d.bySensor['edge-light'] ?? 0).toBe(days.get(d.date) ?? 0);

    const again = await sensor(args);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ accepted: 0, duplicateBatches: 4 });
  }, 90_000);
});
