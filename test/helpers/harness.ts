/**
 * An ingest API on the shared emulators (started once per run by test/global-setup.ts), served over real
 * HTTP on 127.0.0.1 by the local gateway, with a fresh table and bucket per harness.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { signedBatchHeaders, batchIdempotencyKey, type PreparedBatch } from '../../lib/client/sign-batch.js';
import { type IngestConfig, ingestConfigWithDefaults } from '../../lib/config.js';
import { apiRequestFromEvent } from '../../lib/http/apigw.js';
import { createIngestApi, type IngestApi } from '../../lib/ingest/service.js';
import { localDynamoClient, localS3Client } from '../../lib/local/aws-clients.js';
import { startGateway, type Gateway } from '../../lib/local/gateway.js';
import { ensureBucket, ensureTable } from '../../lib/local/provision.js';
import { silentLog } from '../../lib/log.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../../lib/signing/keys.js';
import type { BatchLedger } from '../../lib/store/ledger.js';
import { DynamoBatchLedger } from '../../lib/store/ledger.js';
import type { RawArchive } from '../../lib/store/raw-archive.js';
import { S3RawArchive } from '../../lib/store/raw-archive.js';
import { DynamoSensorRegistry } from '../../lib/store/registry.js';
import { dailyStats } from '../../lib/stats/daily.js';
import { S3Lake, type FactsWriter } from '../../lib/lake/store.js';
import { createRenderService, type RenderService } from '../../lib/render/service.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The pseudonym key of test stacks (ingest and render must share it). */
export const TEST_PSEUDONYM_KEY = Buffer.alloc(32, 7);

export interface TestSensor {
  id: string;
  privateKey: KeyObject;
  publicKey: string;
}

export interface Harness {
  url: string;
  api: IngestApi;
  config: IngestConfig;
  registry: DynamoSensorRegistry;
  ledger: DynamoBatchLedger;
  archive: S3RawArchive;
  lake: S3Lake;
  addSensor(id: string, opts?: { deployedAt?: string }): Promise<TestSensor>;
  /** Totals per day for the given sensors, read back from the counters. */
  totals(sensors: string[], from: string, to: string): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function startHarness(opts: {
  config?: Partial<IngestConfig>;
  dynamoEndpoint?: string;
  wrapLedger?: (ledger: BatchLedger) => BatchLedger;
  wrapArchive?: (archive: RawArchive) => RawArchive;
  wrapFacts?: (facts: FactsWriter) => FactsWriter;
} = {}): Promise<Harness> {
  const suffix = randomUUID().slice(0, 8);
  const config = ingestConfigWithDefaults({
    tableName: `t-${suffix}`,
    bucketName: `b-${suffix}`,
    // Tests push as fast as they can; the flood test sets the production budget itself.
    sensorBatchesPerSecond: 10_000,
    sensorBatchBurst: 10_000,
    sensorCacheTtlMs: 0,
    pseudonymKey: TEST_PSEUDONYM_KEY,
    dynamoEndpoint: opts.dynamoEndpoint ?? inject('dynamoEndpoint'),
    s3Endpoint: inject('s3Endpoint'),
    ...opts.config,
  });
  const adminDynamo = localDynamoClient(inject('dynamoEndpoint'));
  const s3 = localS3Client(config.s3Endpoint!);
  await ensureTable(adminDynamo, config.tableName);
  await ensureBucket(s3, config.bucketName);
  const api = createIngestApi(config, silentLog, { wrapLedger: opts.wrapLedger, wrapArchive: opts.wrapArchive, wrapFacts: opts.wrapFacts });
  const gateway: Gateway = await startGateway({
    port: 0,
    api: async (event: APIGatewayProxyEventV2) => {
      const res = await api.handle(apiRequestFromEvent(event));
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    },
    log: silentLog,
  });
  const registry = new DynamoSensorRegistry(adminDynamo, config.tableName);
  const ledger = new DynamoBatchLedger(adminDynamo, config.tableName, config.horizonDays);
  return {
    url: gateway.url,
    api,
    config,
    registry,
    ledger,
    archive: new S3RawArchive(s3, config.bucketName),
    lake: new S3Lake(s3, config.bucketName),
    async addSensor(id, o = {}) {
      const pair = generateSensorKeyPair();
      await registry.putSensor({
        id,
        publicKey: pair.publicKey,
        name: id,
        deployedAt: o.deployedAt ?? '2026-01-01',
        status: 'active',
        createdAt: new Date().toISOString(),
      });
      return { id, privateKey: privateKeyFromPem(pair.privateKeyPem), publicKey: pair.publicKey };
    },
    async totals(sensors, from, to) {
      const stats = await dailyStats(ledger, sensors, from, to);
      const out: Record<string, number> = {};
      for (const d of stats.days) if (d.total > 0 || Object.keys(d.bySensor).length > 0) out[d.date] = d.total;
      return out;
    },
    async close() {
      await gateway.close();
      await adminDynamo.send(new DeleteTableCommand({ TableName: config.tableName })).catch(() => undefined);
    },
  };
}

export function ndjsonBatch(sensor: string, lines: string[], key?: string): PreparedBatch {
  const body = Buffer.from(`${lines.join('\n')}\n`);
  return { idempotencyKey: key ?? batchIdempotencyKey(sensor, body), contentType: 'application/x-ndjson', body, gzip: false, lines: lines.length };
}

export interface PostOptions {
  /** Replace or remove (undefined) headers after signing. */
  headers?: Record<string, string | undefined>;
  /** Replace the body after signing. */
  body?: Uint8Array;
  now?: number;
  contentType?: string;
}

export async function postBatch(url: string, sensor: TestSensor, batch: PreparedBatch, o: PostOptions = {}) {
  const target = new URL(`${url}/v1/batches`);
  const headers: Record<string, string> = signedBatchHeaders({ url: target, sensor: sensor.id, privateKey: sensor.privateKey, batch, now: o.now });
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  const res = await fetch(target, { method: 'POST', headers, body: o.body ?? batch.body });
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text);
  } catch {
    /* keep empty */
  }
  return { status: res.status, json, headers: res.headers };
}

/** The render job on a harness's table and bucket, with its clock fixed (the day it closes is the one before). */
export function harnessRenderService(h: Harness, opts: { now: number; watchedPorts?: string[]; deps?: Partial<RenderService['deps']> }): RenderService {
  const service = createRenderService(
    {
      tableName: h.config.tableName,
      bucketName: h.config.bucketName,
      horizonDays: h.config.horizonDays,
      pseudonymKey: TEST_PSEUDONYM_KEY,
      closeAfterMinutes: 30,
      watchedPorts: opts.watchedPorts ?? ['tcp/445'],
      publicBaseUrl: 'https://cdn.example',
      scratchDir: join(tmpdir(), 'alertgraph-test'),
      dynamoEndpoint: h.config.dynamoEndpoint,
      s3Endpoint: h.config.s3Endpoint,
    },
    silentLog,
    { clock: () => opts.now },
  );
  Object.assign(service.deps, opts.deps ?? {});
  return service;
}
