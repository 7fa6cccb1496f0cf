/**
 * A generated, realistic Suricata EVE log for benchmarks when no --input is given. Shaped after a real
 * honeypot (DESIGN §7): per 1,000 alerts about a hundred distinct destination ports (a long-tailed spread
 * over a few thousand), some fifteen signatures and three categories; sources from a pool of addresses;
 * and, as in real logs, several non-alert events (flow, dns) per alert.
 */
import { createWriteStream } from 'node:fs';
import { eveAlert, eveDns, eveFlow } from '../test/helpers/eve.js';
import { seededRandom } from '../lib/util/prng.js';


const HOT_PORTS = [445, 22, 23, 1433, 3389, 80, 443, 8080, 5900, 2375, 6379, 3306, 25, 135, 139];
const SIGNATURES = [
  [2001219, 'ET SCAN Potential SSH Scan', 'Attempted Information Leak'],
  [2010935, 'ET SCAN Suspicious inbound to MSSQL port 1433', 'Potentially Bad Traffic'],
  [2023753, 'ET SCAN MS Terminal Server Traffic on Non-standard Port', 'Attempted Information Leak'],
  [2024218, 'ET EXPLOIT Possible ETERNALBLUE Probe', 'Attempted Administrator Privilege Gain'],
  [2402000, 'ET DROP Dshield Block Listed Source group 1', 'Misc Attack'],
  [2403300, 'ET CINS Active Threat Intelligence Poor Reputation IP group 1', 'Misc Attack'],
  [2403301, 'ET CINS Active Threat Intelligence Poor Reputation IP group 2', 'Misc Attack'],
  [2403302, 'ET CINS Active Threat Intelligence Poor Reputation IP group 3', 'Misc Attack'],
  [2403303, 'ET CINS Active Threat Intelligence Poor Reputation IP group 4', 'Misc Attack'],
  [2400001, 'ET DROP Spamhaus DROP Listed Traffic Inbound group 2', 'Misc Attack'],
  [2400002, 'ET DROP Spamhaus DROP Listed Traffic Inbound group 3', 'Misc Attack'],
  [2100384, 'GPL ICMP_INFO PING', 'Misc Attack'],
  [2027865, 'ET INFO Observed DNS Query to .cloud TLD', 'Misc Attack'],
  [2030092, 'ET POLICY Inbound RDP Connection', 'Attempted Information Leak'],
  [2034567, 'ET SCAN Zmap User-Agent (Inbound)', 'Attempted Information Leak'],
  [2009582, 'ET SCAN NMAP -sS window 1024', 'Attempted Information Leak'],
] as const;

export interface GeneratedLog {
  path: string;
  alerts: number;
  lines: number;
}

/** Writes `alerts` alerts (plus non-alert events) spread over the `days` UTC days ending yesterday. */
export async function generateEveLog(path: string, opts: { alerts: number; days?: number; seed?: number; now?: number }): Promise<GeneratedLog> {
  const r = seededRandom(opts.seed ?? 42);
  const now = opts.now ?? Date.now();
  const days = opts.days ?? 3;
  const end = Math.floor(now / 86_400_000) * 86_400_000;
  const start = end - days * 86_400_000;
  const span = end - start;
  const out = createWriteStream(path);
  let lines = 0;
  const write = async (line: string) => {
    lines++;
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  for (let i = 0; i < opts.alerts; i++) {
    const time = start + Math.floor((i / opts.alerts) * span + r() * 1000);
    // A long tail of ports: most alerts hit a few services, the rest spread over thousands of ports.
    const port = r() < 0.8 ? HOT_PORTS[Math.floor(r() ** 2 * HOT_PORTS.length)]! : 1 + Math.floor(r() ** 3 * 65534);
    const sig = SIGNATURES[Math.floor(r() ** 1.5 * SIGNATURES.length)]!;
    const icmp = sig[0] === 2100384;
    const src = r() < 0.1 ? `2001:db8:${Math.floor(r() * 0xffff).toString(16)}::${Math.floor(r() * 0xffff).toString(16)}` : `203.0.113.${Math.floor(r() * 256)}`.replace('203.0.113', ['203.0.113', '198.51.100', '192.0.2'][Math.floor(r() * 3)]!);
    await write(eveAlert({ time, src, srcPort: 1024 + Math.floor(r() * 60000), dstPort: port, proto: icmp ? 'ICMP' : 'TCP', sid: sig[0], signature: sig[1], category: sig[2], offsetMinutes: 60 }));
    for (let k = 0; k < 5; k++) await write(k === 4 ? eveDns(time) : eveFlow(time));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { path, alerts: opts.alerts, lines };
}
