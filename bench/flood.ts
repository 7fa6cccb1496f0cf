/**
 * Flood figures (issue 11 item 2): one honest sensor sends 4 batches a second over loopback HTTP to the ingest
 * API (local gateway, DynamoDB Local, s3rver), first alone, then while another process sends 200 junk requests
 * a second (made-up key ids, the honest sensor's id with bad signatures, unsigned requests); goal: the honest
 * median latency at most 2× the quiet one, every honest batch accepted. Also the CPU the API spends refusing one
 * junk request of each kind, measured in process.
 */
import { spawn } from 'node:child_process';
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
import { DynamoSensorRegistry } from '../lib/store/registry.js';
import { median, round } from './stats.js';

export interface FloodFigures {
  honestQuietMedianMs: number;
  honestLoadedMedianMs: number;
  /** Loaded over quiet median (goal ≤ 2). */
  honestSlowdown: number;
  honestBatches: number;
  honestAccepted: number;
  junkPerSecond: number;
  junkStatuses: Record<string, number>;
  /** CPU of one refusal in the API (signature parse, cache, refusal), by kind of junk. */
  junkCpuUs: { unknownId: number; badSignature: number; unsigned: number };
}

/** The junk sender, run as its own process so that sending does not load the process that serves the API. */
const JUNK_SCRIPT = `
const [url, honestId, seconds] = process.argv.slice(1);
const statuses = {};
const inFlight = [];
const started = Date.now();
const until = started + Number(seconds) * 1000;
for (let i = 0; Date.now() < until; i++) {
  for (let k = 0; k < 10; k++) {
    const n = i * 10 + k, kind = n % 3;
    const headers = { 'content-type': 'application/x-ndjson', 'content-digest': 'sha-256=:' + Buffer.alloc(32).toString('base64') + ':', 'idempotency-key': 'junk-' + n };
    if (kind !== 2) {
      headers['signature-input'] = 'sig1=("@method" "@path" "content-digest" "content-type" "idempotency-key");created=' + Math.floor(Date.now() / 1000) + ';keyid="' + (kind === 0 ? 'junk-' + n : honestId) + '";alg="ed25519"';
      headers.signature = 'sig1=:' + Buffer.alloc(64, n % 251).toString('base64') + ':';
    }
    inFlight.push(fetch(url, { method: 'POST', headers, body: '{}\\n' }).then((r) => { statuses[r.status] = (statuses[r.status] ?? 0) + 1; }, () => { statuses.error = (statuses.error ?? 0) + 1; }));
  }
  // 10 every 50 ms: 200 a second.
  await new Promise((r) => setTimeout(r, 50));
}
await Promise.all(inFlight);
process.stdout.write(JSON.stringify({ statuses, seconds: (Date.now() - started) / 1000 }));
`;

export async function benchFlood(opts: { dynamoEndpoint: string; s3Endpoint: string; seconds?: number }): Promise<FloodFigures> {
  const seconds = opts.seconds ?? 5;
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
    const honestRun = async (tag: string, runSeconds: number): Promise<number[]> => {
      const latencies: number[] = [];
      const sends: Promise<void>[] = [];
      for (let i = 0; i < runSeconds * 4; i++) {
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
        await new Promise((r) => setTimeout(r, 250));
      }
      await Promise.all(sends);
      return latencies;
    };
    await honestRun('warm', 1);
    sent = accepted = 0;
    const quiet = await honestRun('quiet', seconds);
    const child = spawn(process.execPath, ['--input-type=module', '-e', JUNK_SCRIPT, url, honest, String(seconds + 0.5)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 250));
    const loaded = await honestRun('loaded', seconds);
    await exited;
    const junk = JSON.parse(out) as { statuses: Record<string, number>; seconds: number };
    const junkCount = Object.values(junk.statuses).reduce((a, b) => a + b, 0);

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
      honestQuietMedianMs: round(median(quiet)),
      honestLoadedMedianMs: round(median(loaded)),
      honestSlowdown: round(median(loaded) / median(quiet)),
      honestBatches: sent,
      honestAccepted: accepted,
      junkPerSecond: round(junkCount / junk.seconds, 0),
      junkStatuses: junk.statuses,
      junkCpuUs: cpu,
    };
  } finally {
    await gateway.close();
  }
}
