/**
 * Demo data for `alertgraph dev --demo`: three sensors deployed at different dates and a few weeks of
 * plausible alerts, pushed through the real signed API so that a newcomer sees a real graph at once.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchSender, prepareBatch, type PushOptions } from '../client/push.js';
import { Spool } from '../client/spool.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../signing/keys.js';
import type { SensorRegistry } from '../store/registry.js';
import { seededRandom } from '../util/prng.js';
import { DAY_MS } from '../util/days.js';



const TARGETS = [
  { proto: 'tcp', port: 445, weight: 30, sig: [2024218, 'ET EXPLOIT SMB probe'], cat: 'Attempted Administrator Privilege Gain' },
  { proto: 'tcp', port: 22, weight: 20, sig: [2001219, 'ET SCAN Potential SSH Scan'], cat: 'Attempted Information Leak' },
  { proto: 'tcp', port: 23, weight: 12, sig: [2023019, 'ET SCAN Telnet brute force'], cat: 'Attempted Information Leak' },
  { proto: 'tcp', port: 3389, weight: 10, sig: [2023753, 'ET SCAN MS Terminal Server Traffic on Non-standard Port'], cat: 'Attempted Information Leak' },
  { proto: 'tcp', port: 1433, weight: 8, sig: [2010935, 'ET SCAN Suspicious inbound to MSSQL port 1433'], cat: 'Potentially Bad Traffic' },
  { proto: 'tcp', port: 135, weight: 6, sig: [2102, 'GPL NETBIOS DCERPC probe'], cat: 'Attempted Administrator Privilege Gain' },
  { proto: 'udp', port: 137, weight: 6, sig: [2100, 'GPL NETBIOS name query'], cat: 'Misc activity' },
  { proto: 'icmp', port: undefined, weight: 8, sig: [2100384, 'GPL ICMP_INFO PING'], cat: 'Misc activity' },
] as const;

const SENSORS = [
  { id: 'demo-vienna', name: 'Vienna', location: 'AT', deployedDaysAgo: 60, rate: 900 },
  { id: 'demo-lisbon', name: 'Lisbon', location: 'PT', deployedDaysAgo: 38, rate: 600 },
  { id: 'demo-tallinn', name: 'Tallinn', location: 'EE', deployedDaysAgo: 14, rate: 400 },
];

function pick(r: () => number) {
  const total = TARGETS.reduce((s, t) => s + t.weight, 0);
  let x = r() * total;
  for (const t of TARGETS) if ((x -= t.weight) < 0) return t;
  return TARGETS[0];
}

/** Native alert lines for one sensor-day (documentation address ranges only: no real addresses). */
export function demoAlertsForDay(sensorIndex: number, dayStart: number, until: number, rate: number): string[] {
  const r = seededRandom(sensorIndex * 100_003 + Math.floor(dayStart / DAY_MS));
  const weekly = 1 + 0.3 * Math.sin((dayStart / DAY_MS) * ((2 * Math.PI) / 7));
  const count = Math.round(rate * weekly * (0.7 + 0.6 * r()));
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const time = dayStart + Math.floor(r() * DAY_MS);
    if (time > until) continue;
    const t = pick(r);
    const src = `203.0.113.${1 + Math.floor(r() * 254)}`;
    lines.push(
      JSON.stringify({
        time: new Date(time).toISOString(),
        srcIp: r() < 0.1 ? `2001:db8::${(1 + Math.floor(r() * 0xfffe)).toString(16)}` : src,
        ...(t.port !== undefined ? { srcPort: 1024 + Math.floor(r() * 60000), dstPort: t.port } : {}),
        dstIp: `198.51.100.${1 + sensorIndex}`,
        proto: t.proto,
        sigId: t.sig[0],
        signature: t.sig[1],
        category: t.cat,
        severity: 2,
      }),
    );
  }
  return lines;
}

/** Registers the demo sensors and pushes their history. Only call on an empty registry. */
export async function loadDemo(opts: { registry: SensorRegistry; url: string; dataDir: string; now?: number }): Promise<{ sensors: number; alerts: number }> {
  const now = opts.now ?? Date.now();
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const keyDir = join(opts.dataDir, 'demo-keys');
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  let alerts = 0;
  for (const [index, s] of SENSORS.entries()) {
    const keys = generateSensorKeyPair();
    await writeFile(join(keyDir, `${s.id}.pem`), keys.privateKeyPem, { mode: 0o600 });
    const deployed = today - s.deployedDaysAgo * DAY_MS;
    await opts.registry.putSensor({
      id: s.id,
      publicKey: keys.publicKey,
      name: s.name,
      location: s.location,
      deployedAt: new Date(deployed).toISOString().slice(0, 10),
      status: 'active',
      createdAt: new Date(now).toISOString(),
    });
    const pushOpts: PushOptions = {
      endpoint: opts.url,
      sensor: s.id,
      privateKey: privateKeyFromPem(keys.privateKeyPem),
      batchSize: 1000,
      retryForMs: 10_000,
      spool: new Spool(join(opts.dataDir, 'spool', s.id)),
    };
    const sender = new BatchSender(pushOpts);
    for (let day = deployed; day <= today; day += DAY_MS) {
      const lines = demoAlertsForDay(index, day, now, s.rate);
      for (let i = 0; i < lines.length; i += 1000) {
        const part = lines.slice(i, i + 1000);
        const outcome = await sender.sendWithRetry(prepareBatch(s.id, part, 'native', true));
        if (outcome?.kind === 'ok') alerts += Number(outcome.receipt?.accepted ?? 0);
      }
    }
  }
  return { sensors: SENSORS.length, alerts };
}
