/**
 * Peak memory of `alertgraph push` on a large log: generates a ~1 GB EVE file in /tmp (streamed to disk,
 * never held in memory), pushes it with the real CLI to a tiny loopback sink that answers 202 with a
 * plausible receipt (so the service is not the bottleneck), and reports the push process's peak RSS.
 *
 *   node --import tsx bench/push-rss.ts <out.json> [--size-mb 1024] [--batch-size 1000] [--keep]
 *
 * Peak RSS comes from GNU time's "Maximum resident set size" when /usr/bin/time exists, else from polling
 * VmHWM in /proc/<pid>/status (the kernel's own high-water mark, so polling misses nothing but the last
 * instants). Not part of `npm test`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateSensorKeyPair } from '../lib/signing/keys.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'alertgraph.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** A Suricata-like alert line of ~600 bytes; a few in a hundred are flows, as in a real EVE log. */
function line(i: number, t0: number): string {
  const time = new Date(t0 + i * 10).toISOString().replace('Z', '+0000');
  if (i % 50 === 0) {
    return JSON.stringify({ timestamp: time, flow_id: i, event_type: 'flow', src_ip: `192.0.2.${i % 250}`, src_port: 40000 + (i % 20000), dest_ip: '198.51.100.20', dest_port: 80, proto: 'TCP', flow: { pkts_toserver: 3, bytes_toserver: 180, state: 'closed' } });
  }
  return JSON.stringify({
    timestamp: time,
    flow_id: 1_000_000_000 + i,
    in_iface: 'eth0',
    event_type: 'alert',
    src_ip: `192.0.2.${i % 250}`,
    src_port: 1024 + (i % 60000),
    dest_ip: `198.51.100.${(i >> 8) % 250}`,
    dest_port: [22, 23, 445, 3389, 1433, 80, 443][i % 7],
    proto: 'TCP',
    alert: { action: 'allowed', gid: 1, signature_id: 2001219 + (i % 15), rev: 3, signature: 'ET SCAN Potential SSH Scan OUTBOUND', category: 'Attempted Information Leak', severity: 2 },
    flow: { pkts_toserver: 1, pkts_toclient: 0, bytes_toserver: 74, bytes_toclient: 0, start: time },
    payload_printable: '',
    stream: 0,
    host: 'sensor.example',
  });
}

async function generate(path: string, bytes: number): Promise<{ lines: number; bytes: number }> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const t0 = Date.now() - 6 * 3_600_000;
  let written = 0;
  let i = 0;
  while (written < bytes) {
    const text = `${line(i++, t0)}\n`;
    written += Buffer.byteLength(text);
    if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { lines: i, bytes: written };
}

/** Answers every batch with 202 and a receipt counting its lines (flows as skipped, like the service). */
async function startSink(): Promise<{ url: string; stats: { batches: number; lines: number }; close(): Promise<void> }> {
  const stats = { batches: 0, lines: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      let lines = 0;
      let flows = 0;
      for (let p = body.indexOf(10); p !== -1; p = body.indexOf(10, p + 1)) lines++;
      for (let p = body.indexOf('"event_type":"flow"'); p !== -1; p = body.indexOf('"event_type":"flow"', p + 1)) flows++;
      stats.batches++;
      stats.lines += lines;
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        batchId: `bench/${String(req.headers['idempotency-key'])}`, sensor: 'bench', accepted: lines - flows, rejected: 0, skipped: flows,
        duplicate: false, digest: String(req.headers['content-digest']), bytes: raw.length, days: {}, writeUnits: 2,
      }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function vmHwmKb(pid: number): Promise<number | undefined> {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const outFile = process.argv[2];
  if (!outFile || outFile.startsWith('--')) {
    process.stderr.write('usage: node --import tsx bench/push-rss.ts <out.json> [--size-mb 1024] [--batch-size 1000] [--keep]\n');
    process.exit(2);
  }
  const sizeMb = Number(arg('--size-mb', '1024'));
  const batchSize = arg('--batch-size', '1000');
  const work = await mkdtemp(join(tmpdir(), 'alertgraph-push-rss-'));
  const log = join(work, 'eve.json');
  try {
    process.stderr.write(`generating ${sizeMb} MiB of EVE in ${log}…\n`);
    const generated = await generate(log, sizeMb * 1024 * 1024);
    const keyFile = join(work, 'bench.pem');
    await writeFile(keyFile, generateSensorKeyPair().privateKeyPem, { mode: 0o600 });
    const sink = await startSink();

    const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
    const pushArgs = [BIN, 'push', log, '--sensor', 'bench', '--key', keyFile, '--endpoint', sink.url, '--batch-size', batchSize, '--json', '--data-dir', join(work, 'data')];
    const command = gnuTime ? [gnuTime, '-v', process.execPath, ...pushArgs] : [process.execPath, ...pushArgs];
    process.stderr.write(`pushing: ${command.join(' ')}\n`);
    const started = Date.now();
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // Under GNU time the node process is time's child; find it to poll its VmHWM as a second opinion.
    let polledKb = 0;
    const poll = setInterval(async () => {
      let pid = child.pid!;
      if (gnuTime) {
        const kids = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').catch(() => '');
        pid = Number(kids.trim().split(/\s+/)[0]) || pid;
      }
      polledKb = Math.max(polledKb, (await vmHwmKb(pid)) ?? 0);
    }, 100);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearInterval(poll);
    const seconds = (Date.now() - started) / 1000;
    await sink.close();

    const timeKb = gnuTime ? Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1]) || undefined : undefined;
    // What the CLI costs before it reads a byte (node, tsx, and every module main.ts imports), for context.
    const baselineKb = gnuTime ? await new Promise<number | undefined>((resolve) => {
      const b = spawn(gnuTime, ['-v', process.execPath, BIN, 'push', '--help'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      b.stderr.on('data', (d) => (err += d));
      b.once('exit', () => resolve(Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1]) || undefined));
    }) : undefined;
    const peakKb = timeKb ?? polledKb;
    const summary = JSON.parse(stdout || '{}') as Record<string, unknown>;
    const fileBytes = (await stat(log)).size;
    const result = {
      command: `node bin/alertgraph.js push <${sizeMb} MiB EVE file> --sensor bench --key <key> --endpoint <loopback sink> --batch-size ${batchSize} --json`,
      exitCode: code,
      fileBytes,
      fileLines: generated.lines,
      seconds: Math.round(seconds * 10) / 10,
      mibPerSecond: Math.round((fileBytes / 1024 / 1024 / seconds) * 10) / 10,
      peakRssMiB: Math.round((peakKb / 1024) * 10) / 10,
      peakRssSource: timeKb !== undefined ? '/usr/bin/time -v (Maximum resident set size)' : '/proc/<pid>/status VmHWM (polled)',
      polledVmHwmMiB: Math.round((polledKb / 1024) * 10) / 10,
      cliBaselineMiB: baselineKb === undefined ? null : Math.round((baselineKb / 1024) * 10) / 10,
      sink: sink.stats,
      push: { batches: summary.batches, accepted: summary.accepted, skipped: summary.skipped, lines: summary.lines, failedBatches: summary.failedBatches },
      node: process.version,
      at: new Date().toISOString(),
    };
    await writeFile(outFile, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (code !== 0) {
      process.stderr.write(stderr);
      process.exitCode = 1;
    }
  } finally {
    if (!process.argv.includes('--keep')) await rm(work, { recursive: true, force: true });
  }
}

await main();
