/**
 * Write units of a live sensor: `push --follow` with its defaults tails a log that grows at a steady rate, and
 * its batches go through the real ingest handler against DynamoDB Local and s3rver (the figures are the
 * write units the service's receipts report, as DynamoDB counts them).
 *
 * The hours of a live sensor run on a simulated clock shared by the follower and the service: the driver
 * appends the alerts due in each 5-second step (arrivals of a Poisson process, seeded), waits until the
 * follower has read them, then moves the clock on. Whether a partial batch is due is decided on that clock,
 * so an hour at one alert a second takes seconds, not an hour. The rate of record is one alert a second
 * (86,400 a day: a busy internet-facing sensor with an open ruleset; a sparser sensor sends smaller
 * batches, and pays per batch rather than per alert — see docs/SENSORS.md).
 *
 * Also the other half of a sensor's cost: `push` of a sparse backfill, with batches cut at UTC days (the
 * default) and by count alone, through the same handler.
 *
 * `node --import tsx bench/follow.ts` runs it alone (its own emulators) and prints the figures as JSON.
 */
import { appendFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_FLUSH_AFTER_MS, followLog } from '../lib/client/follow.js';
import { pushLog } from '../lib/client/push.js';
import { Spool } from '../lib/client/spool.js';
import { seededRandom } from '../lib/util/prng.js';
import { eveAlert } from '../test/helpers/eve.js';
import { benchIngestApi } from './ingest-service.js';
import { round } from './stats.js';

export interface FollowRun {
  alertsPerSecond: number;
  flushAfterMs: number;
  simulatedHours: number;
  alerts: number;
  batches: number;
  heartbeats: number;
  writeUnits: number;
  writeUnitsPer1000Alerts: number;
}

export interface FollowFigures {
  /** `push --follow` with its defaults at one alert a second (goal ≤ 5). */
  writeUnitsPer1000AlertsFollow: number;
  follow: { defaults: FollowRun; previousDefault5s: FollowRun; sparse: FollowRun };
  /** `push` of a sparse backfill (300 alerts a day over 60 past days), batches cut at UTC days (the default). */
  writeUnitsPer1000AlertsSparseBackfill: number;
  sparseBackfill: { wholeDays: BackfillRun; cutByCountOnly: BackfillRun };
}

export interface BackfillRun {
  days: number;
  alerts: number;
  batches: number;
  writeUnits: number;
  writeUnitsPer1000Alerts: number;
}

/**
 * `push` (not --follow) of a backfill: `perDay` alerts on each of the `days` UTC days ending yesterday, in
 * batches of 1,000 lines, with whole-day cuts (the default) or cut by count alone (as before).
 */
export async function backfillRun(opts: { dynamoEndpoint: string; s3Endpoint: string; work: string; days: number; perDay: number; wholeDays: boolean }): Promise<BackfillRun> {
  const service = await inProcessService(opts, Date.now);
  const dir = await mkdtemp(join(opts.work, 'backfill-'));
  const log = join(dir, 'eve.json');
  const r = seededRandom(11);
  const first = (Math.floor(Date.now() / 86_400_000) - opts.days) * 86_400_000;
  const lines: string[] = [];
  for (let d = 0; d < opts.days; d++) {
    const times = Array.from({ length: opts.perDay }, () => first + d * 86_400_000 + Math.floor(r() * 86_400_000)).sort((a, b) => a - b);
    for (const time of times) lines.push(eveAlert({ time, src: `198.51.100.${Math.floor(r() * 256)}`, dstPort: PORTS[Math.floor(r() * PORTS.length)]!, proto: 'TCP' }));
  }
  await writeFile(log, `${lines.join('\n')}\n`);
  const summary = await pushLog(log, {
    ...service.client(dir),
    wholeDays: opts.wholeDays,
  });
  await rm(dir, { recursive: true, force: true });
  service.destroy();
  if (summary.accepted !== lines.length) throw new Error(`backfill bench: ${summary.accepted} of ${lines.length} alerts accepted`);
  return { days: opts.days, alerts: lines.length, batches: summary.batches, writeUnits: summary.writeUnits, writeUnitsPer1000Alerts: round((summary.writeUnits / lines.length) * 1000) };
}

const STEP_MS = 5_000;
const PORTS = [445, 22, 23, 1433, 3389, 80, 443, 8080, 5900, 135, 139, 3306];

/**
 * The ingest handler in this process against DynamoDB Local and s3rver, with one registered sensor ("live"),
 * on the given clock; `fetchImpl` hands a client's requests straight to it (no socket, the same bytes).
 */
async function inProcessService(opts: { dynamoEndpoint: string; s3Endpoint: string }, clock: () => number) {
  const { api, dynamo, s3, privateKey } = await benchIngestApi({
    ...opts,
    prefix: 'follow',
    sensors: ['live'],
    pseudonymKey: Buffer.alloc(32, 2),
    config: { sensorCacheTtlMs: 3_600_000 },
    clock,
  });
  const fetchImpl = (async (url: URL, init: RequestInit) => {
    const res = await api.handle({ method: 'POST', path: new URL(url).pathname, query: '', headers: init.headers as Record<string, string>, body: Buffer.from(init.body as Uint8Array) });
    return new Response(res.body, { status: res.statusCode, headers: res.headers });
  }) as unknown as typeof fetch;
  return {
    /** What push and push --follow are given to send to this service as sensor "live", spooling under `dir`. */
    client: (dir: string) => ({
      endpoint: 'http://ingest.bench',
      sensor: 'live',
      privateKey,
      batchSize: 1000,
      retryForMs: 10_000,
      spool: new Spool(join(dir, 'spool')),
      fetchImpl,
    }),
    destroy: () => {
      dynamo.destroy();
      s3.destroy();
    },
  };
}

/** One simulated run: `hours` of alerts at `rate` a second, followed with --flush-after `flushAfterMs`. */
export async function followRun(opts: { dynamoEndpoint: string; s3Endpoint: string; work: string; rate: number; hours: number; flushAfterMs: number; seed?: number }): Promise<FollowRun> {
  const start = Date.now();
  let clock = start;
  const service = await inProcessService(opts, () => clock);
  const dir = await mkdtemp(join(opts.work, 'follow-'));
  const log = join(dir, 'eve.json');
  await writeFile(log, '');
  const stop = new AbortController();
  let read = 0;
  const follower = followLog({
    ...service.client(dir),
    now: () => clock,
    path: log,
    checkpointFile: join(dir, 'checkpoint.json'),
    flushAfterMs: opts.flushAfterMs,
    heartbeatMs: 5 * 60_000,
    signal: stop.signal,
    pollMs: 1,
    onProgress: (s) => (read = s.bytesRead),
  });

  const r = seededRandom(opts.seed ?? 7);
  let next = clock + (-Math.log(1 - r()) / opts.rate) * 1000;
  let alerts = 0;
  let written = 0;
  for (const end = start + opts.hours * 3_600_000; clock < end; ) {
    const stepEnd = clock + STEP_MS;
    const lines: string[] = [];
    for (; next < stepEnd; next += (-Math.log(1 - r()) / opts.rate) * 1000) {
      lines.push(eveAlert({ time: Math.floor(next), src: `198.51.100.${Math.floor(r() * 256)}`, dstPort: PORTS[Math.floor(r() * PORTS.length)]!, proto: 'TCP' }));
    }
    if (lines.length) {
      const text = `${lines.join('\n')}\n`;
      await appendFile(log, text);
      written += Buffer.byteLength(text);
      alerts += lines.length;
    }
    // The follower reads what was written before the clock moves on (its batches are cut on this clock).
    for (const deadline = Date.now() + 10_000; read < written && Date.now() < deadline; ) await new Promise((w) => setTimeout(w, 1));
    clock = stepEnd;
    await new Promise((w) => setTimeout(w, 2));
  }
  stop.abort();
  const summary = await follower;
  await rm(dir, { recursive: true, force: true });
  service.destroy();
  if (summary.accepted !== alerts) throw new Error(`follow bench: ${summary.accepted} of ${alerts} alerts accepted (${(await stat(log).catch(() => undefined))?.size ?? 0} bytes)`);
  return {
    alertsPerSecond: opts.rate,
    flushAfterMs: opts.flushAfterMs,
    simulatedHours: opts.hours,
    alerts,
    batches: summary.batches,
    heartbeats: summary.heartbeats,
    writeUnits: summary.writeUnits,
    writeUnitsPer1000Alerts: round((summary.writeUnits / alerts) * 1000),
  };
}

/** The figure of record (defaults, one alert a second), the old 5 s default at that rate, and a sparse sensor. */
export async function benchFollow(opts: { dynamoEndpoint: string; s3Endpoint: string; work: string; hours?: number }): Promise<FollowFigures> {
  const hours = opts.hours ?? 4;
  const base = { dynamoEndpoint: opts.dynamoEndpoint, s3Endpoint: opts.s3Endpoint, work: opts.work, hours };
  const defaults = await followRun({ ...base, rate: 1, flushAfterMs: DEFAULT_FLUSH_AFTER_MS });
  const previousDefault5s = await followRun({ ...base, rate: 1, hours: Math.min(hours, 0.5), flushAfterMs: 5_000 });
  const sparse = await followRun({ ...base, rate: 0.1, flushAfterMs: DEFAULT_FLUSH_AFTER_MS });
  const backfill = { ...base, days: 60, perDay: 300 };
  const wholeDays = await backfillRun({ ...backfill, wholeDays: true });
  const cutByCountOnly = await backfillRun({ ...backfill, wholeDays: false });
  return {
    writeUnitsPer1000AlertsFollow: defaults.writeUnitsPer1000Alerts,
    follow: { defaults, previousDefault5s, sparse },
    writeUnitsPer1000AlertsSparseBackfill: wholeDays.writeUnitsPer1000Alerts,
    sparseBackfill: { wholeDays, cutByCountOnly },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { startDynamoDbLocal } = await import('../lib/local/emulators/dynamodb-local.js');
  const { startS3Local } = await import('../lib/local/emulators/s3.js');
  const dynamo = await startDynamoDbLocal({});
  const s3 = await startS3Local({});
  const work = await mkdtemp(join(tmpdir(), 'alertgraph-bench-follow-'));
  try {
    const hours = process.argv.includes('--hours') ? Number(process.argv[process.argv.indexOf('--hours') + 1]) : undefined;
    process.stdout.write(`${JSON.stringify(await benchFollow({ dynamoEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, work, hours }), null, 2)}\n`);
  } finally {
    await dynamo.stop();
    await s3.stop();
    await rm(work, { recursive: true, force: true });
  }
}
