/**
 * The first render of a long history and the render after it, as an operator meets them: a 9-sensor network
 * over 190 days (~450,000 alerts; sources from a long-tailed pool of 60,000 addresses, ports and signatures
 * shaped like a honeypot's) is pushed with `alertgraph push` (one log per sensor, default batches) into
 * `alertgraph dev`; then `alertgraph render` runs twice as CLI processes and each is timed whole (process
 * start, close of 190 days on the lake, charts, publishing).
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { existsSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/build/bundle.js';
import { addDays, dayStartMs, utcDay } from '../lib/util/days.js';
import { seededRandom } from '../lib/util/prng.js';
import { eveAlert } from '../test/helpers/eve.js';
import { startDev } from './dev.js';
import { followCpu, treeCpuMs } from './stats.js';

export interface HistoryFigures {
  days: number;
  sensors: number;
  alerts: number;
  batches: number;
  pushSeconds: number;
  /** `alertgraph render` as a process, the first time (closes the whole history) and again with nothing new. */
  firstRenderMs: number;
  secondRenderMs: number;
  /** `alertgraph report --from <first day> --to <yesterday> --json` over the whole history, as a process. */
  reportMs: number;
  /** Where the first render's time went, ms (its `render --json` phases). */
  firstRenderPhases?: Record<string, number>;
  /**
   * The first render's CPU, ms (user + system, every thread): the render process whole (start included), the
   * local stack serving it (s3rver and the gateway in `alertgraph dev`, DynamoDB Local), and per phase of the
   * job. `floorMs`, their sum over the machine's cores, is the least wall time the same work could take here.
   */
  firstRenderCpu?: { processMs: number; localStackMs: number; cores: number; floorMs: number; phases?: Record<string, number> };
}

const PORTS = [445, 22, 23, 1433, 3389, 80, 443, 8080, 5900, 2375, 6379, 3306, 25, 135, 139, 5060, 53, 161, 123, 8443];
const SIGS: [number, string, string][] = [
  [2001219, 'ET SCAN Potential SSH Scan', 'Attempted Information Leak'],
  [2024218, 'ET EXPLOIT Possible ETERNALBLUE Probe', 'Attempted Administrator Privilege Gain'],
  [2402000, 'ET DROP Dshield Block Listed Source group 1', 'Misc Attack'],
  [2403300, 'ET CINS Active Threat Intelligence Poor Reputation IP group 1', 'Misc Attack'],
  [2100384, 'GPL ICMP_INFO PING', 'Misc Attack'],
  [2030092, 'ET POLICY Inbound RDP Connection', 'Attempted Information Leak'],
];

function cli(dataDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number; cpuMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/alertgraph.js'), ...args, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const cpu = followCpu(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - started, cpuMs: cpu.stop() })),
  );
}


/** One sensor's log: `perDay` alerts on each of `days` days ending yesterday. */
async function writeSensorLog(path: string, sensor: number, first: string, days: number, perDay: number): Promise<number> {
  const rand = seededRandom(1000 + sensor);
  const out = createWriteStream(path);
  let n = 0;
  for (let d = 0; d < days; d++) {
    const start = dayStartMs(addDays(first, d));
    for (let i = 0; i < perDay; i++) {
      const k = Math.floor(60_000 * rand() ** 3);
      const src = `${11 + (k % 200)}.${(k >> 8) & 255}.${k & 255}.${(k * 7) & 255}`;
      const port = rand() < 0.7 ? PORTS[Math.floor(rand() * PORTS.length)]! : 1 + Math.floor(rand() * 65_000);
      const sig = SIGS[Math.floor(rand() * SIGS.length)]!;
      const icmp = sig[0] === 2100384;
      const line = eveAlert({ time: start + Math.floor((i / perDay) * 86_000_000), src, dstPort: port, proto: icmp ? 'ICMP' : 'TCP', sid: sig[0], signature: sig[1], category: sig[2] });
      if (!out.write(`${line}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
      n++;
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return n;
}

export async function benchHistory(work: string, opts: { days?: number; sensors?: number; perSensorDay?: number; snapshot?: string } = {}): Promise<HistoryFigures> {
  const days = opts.days ?? 190;
  const sensors = opts.sensors ?? 9;
  const perDay = opts.perSensorDay ?? 264;
  const dataDir = join(work, 'history');
  const first = addDays(utcDay(Date.now()), -days);
  // --snapshot DIR (for working on the render job): the pushed data dir is kept there and reused.
  if (opts.snapshot && existsSync(join(opts.snapshot, 'summary.json'))) {
    await cp(opts.snapshot, dataDir, { recursive: true });
  }
  const restored = opts.snapshot && existsSync(join(dataDir, 'summary.json'));
  let dev = await startDev(dataDir);
  let alerts = 0;
  let batches = 0;
  let pushMs = 0;
  try {
    if (restored) ({ alerts, batches, pushMs } = JSON.parse(await readFile(join(dataDir, 'summary.json'), 'utf8')) as { alerts: number; batches: number; pushMs: number });
    for (let s = 1; s <= sensors && !restored; s++) {
      const id = `hp-${s}`;
      const key = join(work, `${id}.pem`);
      const keygen = await cli(dataDir, ['keygen', '--out', key, '--json']);
      const { publicKey } = JSON.parse(keygen.stdout) as { publicKey: string };
      const added = await cli(dataDir, ['sensor', 'add', id, '--public-key', publicKey, '--deployed', first, '--json']);
      if (added.code !== 0) throw new Error(added.stderr);
      const log = join(work, `${id}.eve.json`);
      alerts += await writeSensorLog(log, s, first, days, perDay);
      const push = await cli(dataDir, ['push', log, '--sensor', id, '--key', key, '--json']);
      if (push.code !== 0) throw new Error(`push failed: ${push.stderr}`);
      batches += (JSON.parse(push.stdout) as { batches: number }).batches;
      pushMs += push.ms;
    }
    // A fresh dev process, as after a restart: nothing cached from the pushes.
    await dev.stop();
    if (opts.snapshot && !restored) {
      await writeFile(join(dataDir, 'summary.json'), JSON.stringify({ alerts, batches, pushMs }));
      await cp(dataDir, opts.snapshot, { recursive: true });
    }
    dev = await startDev(dataDir);
    const stackBefore = treeCpuMs(dev.pid);
    const firstRender = await cli(dataDir, ['render', '--json']);
    const localStackMs = treeCpuMs(dev.pid) - stackBefore;
    if (firstRender.code !== 0) throw new Error(`render failed: ${firstRender.stderr}`);
    const firstReport = JSON.parse(firstRender.stdout) as { phases?: Record<string, number>; cpu?: Record<string, number> };
    const cores = cpus().length;
    const secondRender = await cli(dataDir, ['render', '--json']);
    if (secondRender.code !== 0) throw new Error(`render failed: ${secondRender.stderr}`);
    const report = await cli(dataDir, ['report', '--from', first, '--to', addDays(utcDay(Date.now()), -1), '--json']);
    if (report.code !== 0) throw new Error(`report failed: ${report.stderr}`);
    return {
      days,
      sensors,
      alerts,
      batches,
      pushSeconds: Math.round(pushMs / 100) / 10,
      firstRenderMs: Math.round(firstRender.ms),
      secondRenderMs: Math.round(secondRender.ms),
      reportMs: Math.round(report.ms),
      firstRenderPhases: firstReport.phases,
      firstRenderCpu: {
        processMs: Math.round(firstRender.cpuMs),
        localStackMs: Math.round(localStackMs),
        cores,
        floorMs: Math.round((firstRender.cpuMs + localStackMs) / cores),
        phases: firstReport.cpu,
      },
    };
  } finally {
    await dev.stop();
  }
}
