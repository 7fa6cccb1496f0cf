/**
 * Flood figures (issue 11 item 2): one honest sensor sends 4 batches a second over loopback HTTP to the ingest
 * API (local gateway, DynamoDB Local, s3rver), first alone, then while another process (bench/flood-junk.ts)
 * sends junk (made-up key ids, the honest sensor's id with bad signatures, unsigned requests) at a paced
 * JUNK_TARGET_PER_SECOND; goal: at least 200 junk requests a second answered, the honest median latency at most
 * 2× the quiet one, every honest batch accepted. Also the CPU the API spends refusing one junk request of each
 * kind, measured in process.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { signedBatchHeaders, type PreparedBatch } from '../lib/client/sign-batch.js';
import { type IngestConfig, ingestConfigWithDefaults } from '../lib/config.js';
import { apiRequestFromEvent } from '../lib/http/apigw.js';
import { createIngestApi } from '../lib/ingest/service.js';
import { localDynamoClient, localS3Client } from '../lib/local/aws-clients.js';
import { startGateway } from '../lib/local/gateway.js';
import { ensureBucket, ensureTable } from '../lib/local/provision.js';
import { silentLog } from '../lib/log.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../lib/signing/keys.js';
import { REPO_ROOT } from '../lib/build/bundle.js';
import { DynamoSensorRegistry } from '../lib/store/registry.js';
import { median, round } from './stats.js';

export interface FloodFigures {
  honestQuietMedianMs: number;
  honestLoadedMedianMs: number;
  /** Loaded over quiet median (goal ≤ 2). */
  honestSlowdown: number;
  /** Honest batches sent and accepted (202), quiet and loaded runs together. */
  honestBatches: number;
  honestAccepted: number;
  /** The honest sensor's rate under junk, as achieved (goal 4). */
  honestBatchesPerSecond: number;
  /** Junk answered per second, as achieved: responses over the time from the first send to the last answer. */
  junkPerSecond: number;
  junkTargetPerSecond: number;
  junkSent: number;
  junkAnswered: number;
  /** Most junk requests in flight at once: a server that kept up holds this small. */
  junkMaxInFlight: number;
  junkStatuses: Record<string, number>;
  /** CPU of one refusal in the API (signature parse, cache, refusal), by kind of junk. */
  junkCpuUs: { unknownId: number; badSignature: number; unsigned: number };
}

/** A tenth over the claim, so that the rate achieved, start and tail included, is at least the 200 the claim names. */
const JUNK_TARGET_PER_SECOND = 220;
const HONEST_BATCHES_PER_SECOND = 4;

interface JunkReport {
  targetPerSecond: number;
  sent: number;
  skipped: number;
  answered: number;
  statuses: Record<string, number>;
  seconds: number;
  achievedPerSecond: number;
  maxInFlight: number;
}

/** Starts the junk sender; `ready` resolves when it sends its first request, `report` when it has finished. */
function startJunk(url: string, honestId: string, seconds: number): { ready: Promise<void>; report: Promise<JunkReport> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/flood-junk.ts', url, honestId, String(JUNK_TARGET_PER_SECOND), String(seconds)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  let last = '';
  lines.on('line', (line) => {
    if (line === 'ready') ready();
    else last = line;
  });
  const report = new Promise<JunkReport>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(last) as JunkReport) : reject(new Error(`flood-junk exited with ${code}`)))),
  );
  return { ready: Promise.race([readyP, report.then(() => undefined)]), report };
}

export async function benchFlood(opts: { dynamoEndpoint: string; s3Endpoint: string; seconds?: number }): Promise<FloodFigures> {
  const seconds = opts.seconds ?? 10;
  const suffix = randomUUID().slice(0, 8);
  const config = ingestConfigWithDefaults({
    tableName: `flood-${suffix}`,
    bucketName: `flood-${suffix}`,
    pseudonymKey: Buffer.alloc(32, 1),
    dynamoEndpoint: opts.dynamoEndpoint,
    s3Endpoint: opts.s3Endpoint,
  });
  const dynamo = localDynamoClient(opts.dynamoEndpoint);
  await ensureTable(dynamo, config.tableName);
  await ensureBucket(localS3Client(opts.s3Endpoint), config.bucketName);
  const pair = generateSensorKeyPair();
  const honest = 'flood-honest';
  await new DynamoSensorRegistry(dynamo, config.tableName).putSensor({
    id: honest,
    publicKey: pair.publicKey,
    name: honest,
    deployedAt: '2020-01-01',
    status: 'active',
    createdAt: new Date().toISOString(),
  });
  const privateKey = privateKeyFromPem(pair.privateKeyPem);
  const api = createIngestApi(config, silentLog);
  const gateway = await startGateway({
    port: 0,
    api: async (event: APIGatewayProxyEventV2) => {
      const res = await api.handle(apiRequestFromEvent(event));
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    },
    log: silentLog,
  });
  const url = `${gateway.url}/v1/batches`;
  try {
    const now = Date.now();
    let accepted = 0;
    let sent = 0;
    const batch = (tag: string, i: number): PreparedBatch => {
      const lines = Array.from({ length: 20 }, (_, k) =>
        JSON.stringify({ timestamp: new Date(now - 3_600_000 + i * 100 + k).toISOString(), event_type: 'alert', src_ip: `198.51.100.${k}`, dest_port: 445, proto: 'TCP' }),
      );
      return { idempotencyKey: `${tag}-${i}`, contentType: 'application/x-ndjson', body: Buffer.from(`${lines.join('\n')}\n`), gzip: false, lines: lines.length };
    };
    /** Sends runSeconds × 4 batches on a fixed schedule (batch i at i / 4 s), each awaited on its own. */
    const honestRun = async (tag: string, runSeconds: number): Promise<{ latencies: number[]; perSecond: number }> => {
      const latencies: number[] = [];
      const sends: Promise<void>[] = [];
      const count = runSeconds * HONEST_BATCHES_PER_SECOND;
      const intervalMs = 1000 / HONEST_BATCHES_PER_SECOND;
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        const wait = started + i * intervalMs - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const b = batch(tag, i);
        sends.push(
          (async () => {
            const t = performance.now();
            const res = await fetch(url, { method: 'POST', headers: signedBatchHeaders({ url: new URL(url), sensor: honest, privateKey, batch: b }), body: b.body });
            await res.text();
            latencies.push(performance.now() - t);
            sent++;
            if (res.status === 202) accepted++;
          })(),
        );
      }
      // Rate of the sends themselves: count batches over the time from the first to one interval after the last.
      const perSecond = count / ((performance.now() - started + intervalMs) / 1000);
      await Promise.all(sends);
      return { latencies, perSecond };
    };
    await honestRun('warm', 1);
    sent = accepted = 0;
    const quiet = await honestRun('quiet', seconds);
    // The junk runs a second before and after the honest run, so that every honest batch meets it at full rate.
    const junk = startJunk(url, honest, seconds + 2);
    await junk.ready;
    await new Promise((r) => setTimeout(r, 1000));
    const loaded = await honestRun('loaded', seconds);
    const junkReport = await junk.report;

    // CPU of a refusal in the API itself (no HTTP), by kind, after the caches are warm.
    const junkCpuUs = async (headersOf: (i: number) => Record<string, string>): Promise<number> => {
      const body = Buffer.from('{}\n');
      for (let i = 0; i < 50; i++) await api.handle({ method: 'POST', path: '/v1/batches', query: '', headers: headersOf(i), body });
      const t = process.cpuUsage();
      const n = 2_000;
      for (let i = 0; i < n; i++) await api.handle({ method: 'POST', path: '/v1/batches', query: '', headers: headersOf(i % 50), body });
      const d = process.cpuUsage(t);
      return round((d.user + d.system) / n, 1);
    };
    const signed = (id: string, i: number) => ({
      'content-type': 'application/x-ndjson',
      'content-digest': `sha-256=:${Buffer.alloc(32).toString('base64')}:`,
      'idempotency-key': `cpu-${i}`,
      'signature-input': `sig1=("@method" "@path" "content-digest" "content-type" "idempotency-key");created=${Math.floor(Date.now() / 1000)};keyid="${id}";alg="ed25519"`,
      signature: `sig1=:${Buffer.alloc(64, i).toString('base64')}:`,
    });
    const cpu = {
      unknownId: await junkCpuUs((i) => signed(`made-up-${i}`, i)),
      badSignature: await junkCpuUs((i) => signed(honest, i)),
      unsigned: await junkCpuUs((i) => ({ 'content-type': 'application/x-ndjson', 'idempotency-key': `cpu-${i}` })),
    };
    return {
      honestQuietMedianMs: round(median(quiet.latencies)),
      honestLoadedMedianMs: round(median(loaded.latencies)),
      honestSlowdown: round(median(loaded.latencies) / median(quiet.latencies)),
      honestBatches: sent,
      honestAccepted: accepted,
      honestBatchesPerSecond: round(loaded.perSecond),
      junkPerSecond: round(junkReport.achievedPerSecond, 0),
      junkTargetPerSecond: junkReport.targetPerSecond,
      junkSent: junkReport.sent,
      junkAnswered: junkReport.answered,
      junkMaxInFlight: junkReport.maxInFlight,
      junkStatuses: junkReport.statuses,
      junkCpuUs: cpu,
    };
  } finally {
    await gateway.close();
  }
}
