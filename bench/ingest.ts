/**
 * Ingest figures: DynamoDB write units per 1,000 alerts through the real handler against DynamoDB Local,
 * read units of a render that re-rolls one day, and the CPU of the ingest core against JSON.parse.
 */
import { readFile } from 'node:fs/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { signedBatchHeaders, type PreparedBatch } from '../lib/client/sign-batch.js';
import { prepareBatch } from '../lib/client/push.js';
import { parseBatch } from '../lib/alerts/parse.js';
import { DEFAULT_LIMITS, ingestBatch, type IngestDeps } from '../lib/ingest/ingest-batch.js';
import { createIngestApi } from '../lib/ingest/service.js';
import { factsCsv, Pseudonyms } from '../lib/lake/facts.js';
import { localDynamoClient } from '../lib/local/aws-clients.js';
import { silentLog } from '../lib/log.js';
import { createRenderService } from '../lib/render/service.js';
import { generateSensorKeyPair, privateKeyFromPem, publicKeyFromBase64url } from '../lib/signing/keys.js';
import type { BatchLedger } from '../lib/store/ledger.js';
import { DynamoBatchLedger } from '../lib/store/ledger.js';
import { benchIngestApi } from './ingest-service.js';
import { median, round } from './stats.js';

export interface IngestFigures {
  /** The log moved to end a minute ago, as a live sensor sends it. */
  writeUnitsPer1000Alerts: number;
  /** The log moved by whole days to end yesterday: every batch is for a past day, so each also marks its days for the render job. */
  writeUnitsPer1000AlertsBackfill: number;
  writeUnitsPer1000AlertsMixed: number;
  batches: number;
  alerts: number;
  readUnitsPerDayRender: number;
  cpuPerBatchOverParse: number;
  cpuIngestMsPerBatch: number;
  cpuParseMsPerBatch: number;
  /**
   * CPU of building a batch's staging facts (factsCsv) over the same bare JSON.parse (DESIGN §13; goal ≤ 0.5),
   * every address new to the container (its pseudonyms forgotten before each batch), as in cpuPerBatchOverParse.
   */
  factsCpuOverParse: number;
  cpuFactsMsPerBatch: number;
  /** The same when the batch's sources were seen in an earlier batch (kept per container). */
  factsCpuOverParseRepeatSources: number;
  /** Wall time of the handler per 1,000-alert batch against DynamoDB Local and s3rver (median). */
  handlerMsPerBatch: number;
  /** Gzip bytes per alert as sent and archived. */
  rawBytesPerAlert: number;
}

/** Adds ReturnConsumedCapacity to every call and sums what DynamoDB reports. */
export function countCapacity(client: DynamoDBClient): { read: () => number; write: () => number; reset: () => void } {
  let read = 0;
  let write = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity ??= 'TOTAL';
      const out = await next(args);
      const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }[];
      const isRead = /^(Get|BatchGet|Query|Scan)/.test(context.commandName ?? '');
      for (const c of list) {
        if (isRead) read += c.ReadCapacityUnits ?? c.CapacityUnits ?? 0;
        else write += c.WriteCapacityUnits ?? c.CapacityUnits ?? 0;
      }
      return out;
    },
    { step: 'initialize', name: 'countCapacity' },
  );
  return { read: () => read, write: () => write, reset: () => ((read = 0), (write = 0)) };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function pushThroughHandler(
  api: ReturnType<typeof createIngestApi>,
  sensor: string,
  privateKey: ReturnType<typeof privateKeyFromPem>,
  batches: string[][],
): Promise<{ writeUnits: number; accepted: number; bodyBytes: number; msPerBatch: number[] }> {
  const url = new URL('https://api.example/v1/batches');
  let writeUnits = 0;
  let accepted = 0;
  let bodyBytes = 0;
  const msPerBatch: number[] = [];
  for (const lines of batches) {
    const batch = prepareBatch(sensor, lines, 'eve', true);
    const headers = signedBatchHeaders({ url, sensor, privateKey, batch });
    bodyBytes += batch.body.byteLength;
    const t = performance.now();
    const res = await api.handle({ method: 'POST', path: '/v1/batches', query: '', headers, body: batch.body });
    msPerBatch.push(performance.now() - t);
    if (res.statusCode !== 202) throw new Error(`batch refused: ${res.statusCode} ${res.body}`);
    const receipt = JSON.parse(res.body) as { writeUnits: number; accepted: number };
    writeUnits += receipt.writeUnits;
    accepted += receipt.accepted;
  }
  return { writeUnits, accepted, bodyBytes, msPerBatch };
}

const isAlertLine = (l: string) => l.includes('"event_type":"alert"');

export async function benchIngest(opts: { liveInput: string; backfillInput: string; dynamoEndpoint: string; s3Endpoint: string; runs: number }): Promise<IngestFigures> {
  const lines = (await readFile(opts.liveInput, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const alertLines = lines.filter(isAlertLine);
  const backfillAlerts = (await readFile(opts.backfillInput, 'utf8')).split('\n').filter(isAlertLine);
  const perThousand: number[] = [];
  const backfillPerThousand: number[] = [];
  const mixedPerThousand: number[] = [];
  let readUnits = 0;
  const handlerMs: number[] = [];
  let rawBytesPerAlert = 0;
  for (let run = 0; run < opts.runs; run++) {
    const { api, config, dynamo, s3, privateKey: key } = await benchIngestApi({
      ...opts,
      prefix: 'bench',
      sensors: ['bench-a', 'bench-b', 'bench-c'],
      pseudonymKey: Buffer.alloc(32, 1),
      // The bench sends batches back to back to measure their cost; a sensor's budget is not what it measures.
      config: { sensorBatchesPerSecond: 10_000, sensorBatchBurst: 100_000, sensorCacheTtlMs: 60_000 },
    });
    const alertsOnly = await pushThroughHandler(api, 'bench-a', key, chunks(alertLines, 1000));
    perThousand.push((alertsOnly.writeUnits / alertsOnly.accepted) * 1000);
    handlerMs.push(...alertsOnly.msPerBatch);
    rawBytesPerAlert = alertsOnly.bodyBytes / alertsOnly.accepted;
    const mixed = await pushThroughHandler(api, 'bench-b', key, chunks(lines, 1000));
    mixedPerThousand.push((mixed.writeUnits / mixed.accepted) * 1000);
    const backfill = await pushThroughHandler(api, 'bench-c', key, chunks(backfillAlerts, 1000));
    backfillPerThousand.push((backfill.writeUnits / backfill.accepted) * 1000);

    if (run === 0) {
      // Read units of a render that re-rolls and closes one day with data, plus the reads every render does.
      const renderDynamo = localDynamoClient(opts.dynamoEndpoint);
      const meter = countCapacity(renderDynamo);
      const service = createRenderService(
        {
          tableName: config.tableName,
          bucketName: config.bucketName,
          horizonDays: config.horizonDays,
          pseudonymKey: Buffer.alloc(32, 1),
          closeAfterMinutes: 30,
          watchedPorts: ['tcp/135', 'udp/137', 'tcp/445'],
          publicBaseUrl: 'https://cdn.example',
        },
        silentLog,
        { clients: { dynamo: renderDynamo, s3 } },
      );
      await service.run();
      const ledger = new DynamoBatchLedger(dynamo, config.tableName, config.horizonDays);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      await ledger.markDayChanged(yesterday, 'bench-a', new Date().toISOString());
      meter.reset();
      await service.run();
      readUnits = meter.read();
    }
  }

  const cpu = await cpuRatio(alertLines.slice(0, 1000));
  return {
    writeUnitsPer1000Alerts: round(median(perThousand)),
    writeUnitsPer1000AlertsBackfill: round(median(backfillPerThousand)),
    writeUnitsPer1000AlertsMixed: round(median(mixedPerThousand)),
    batches: Math.ceil(alertLines.length / 1000),
    alerts: alertLines.length,
    readUnitsPerDayRender: round(readUnits, 1),
    cpuPerBatchOverParse: round(cpu.ratio),
    cpuIngestMsPerBatch: round(cpu.ingestMs),
    cpuParseMsPerBatch: round(cpu.parseMs),
    factsCpuOverParse: round(cpu.factsRatio),
    cpuFactsMsPerBatch: round(cpu.factsMs, 3),
    factsCpuOverParseRepeatSources: round(cpu.factsWarmRatio),
    handlerMsPerBatch: round(median(handlerMs)),
    rawBytesPerAlert: round(rawBytesPerAlert),
  };
}

/**
 * CPU of the ingest core (verify, digest, decompress, parse, validate, count, build the staging facts) on one
 * 1,000-alert batch, with storage replaced by no-ops, against a bare JSON.parse of the same lines; and CPU of
 * building the facts alone (factsCsv over the already parsed alerts) against the same parse. Alternated
 * rounds, medians. The container's pseudonyms are forgotten before each batch, so every address costs its HMAC
 * (the batch is the same each time and would otherwise be free); the facts are also timed with them kept.
 */
export async function cpuRatio(
  lines: string[],
): Promise<{ ratio: number; ingestMs: number; parseMs: number; factsRatio: number; factsMs: number; factsWarmRatio: number }> {
  const pair = generateSensorKeyPair();
  const key = publicKeyFromBase64url(pair.publicKey);
  const privateKey = privateKeyFromPem(pair.privateKeyPem);
  const ledger: BatchLedger = {
    claimBatch: async () => ({ created: true, writeUnits: 0 }),
    putContribution: async () => ({ created: true, writeUnits: 0 }),
    markDayChanged: async () => 0,
    countedDays: async () => new Set<string>(),
  };
  const now = Date.now();
  const deps: IngestDeps = {
    keys: { keyFor: async () => key, refreshedKeyFor: async () => undefined, deployedAt: () => '2020-01-01' },
    ledger,
    archive: { archiveBatch: async () => true },
    // Facts stay on: the no-op writer still receives the batch's CSV, so building the rows is in the figure.
    facts: { writeFacts: async () => undefined },
    pseudonyms: new Pseudonyms(Buffer.alloc(32, 1)),
    clock: () => now,
    limits: DEFAULT_LIMITS,
  };
  const url = new URL('https://api.example/v1/batches');
  const batch: PreparedBatch = prepareBatch('cpu', lines, 'eve', false);
  const headers = signedBatchHeaders({ url, sensor: 'cpu', privateKey, batch, now });
  const body = Buffer.from(batch.body).toString('utf8');
  const ingestOnce = () => {
    deps.pseudonyms.clear();
    return ingestBatch({ method: 'POST', path: '/v1/batches', headers, body: batch.body }, deps);
  };
  const parseOnce = () => body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
  // The facts alone: the same alerts, parsed once outside the timed part, turned into staging rows.
  const alerts = parseBatch(body, 'eve', { sensor: 'cpu', now, horizonDays: 400 }).alerts;
  if (alerts.length !== lines.length) throw new Error(`cpu batch: ${alerts.length} of ${lines.length} lines parsed as alerts`);
  let factsBytes = 0;
  const factsOnce = () => {
    deps.pseudonyms.clear();
    factsBytes += factsCsv(alerts, deps.pseudonyms).length;
  };
  const factsWarmOnce = () => {
    factsBytes += factsCsv(alerts, deps.pseudonyms).length;
  };
  const cpuMs = (start: NodeJS.CpuUsage) => {
    const d = process.cpuUsage(start);
    return (d.user + d.system) / 1000;
  };
  for (let i = 0; i < 20; i++) {
    await ingestOnce();
    parseOnce();
    factsOnce();
    factsWarmOnce();
  }
  const ratios: number[] = [];
  const ingestTimes: number[] = [];
  const parseTimes: number[] = [];
  const factsTimes: number[] = [];
  const factsRatios: number[] = [];
  const factsWarmRatios: number[] = [];
  for (let round = 0; round < 25; round++) {
    let t = process.cpuUsage();
    for (let i = 0; i < 5; i++) await ingestOnce();
    const ingestMs = cpuMs(t) / 5;
    t = process.cpuUsage();
    for (let i = 0; i < 5; i++) parseOnce();
    const parseMs = cpuMs(t) / 5;
    t = process.cpuUsage();
    for (let i = 0; i < 5; i++) factsOnce();
    const factsMs = cpuMs(t) / 5;
    factsOnce();
    t = process.cpuUsage();
    for (let i = 0; i < 5; i++) factsWarmOnce();
    factsWarmRatios.push(cpuMs(t) / 5 / parseMs);
    ingestTimes.push(ingestMs);
    parseTimes.push(parseMs);
    factsTimes.push(factsMs);
    ratios.push(ingestMs / parseMs);
    factsRatios.push(factsMs / parseMs);
  }
  if (factsBytes === 0) throw new Error('cpu batch: no facts built');
  return {
    ratio: median(ratios),
    ingestMs: median(ingestTimes),
    parseMs: median(parseTimes),
    factsRatio: median(factsRatios),
    factsMs: median(factsTimes),
    factsWarmRatio: median(factsWarmRatios),
  };
}
