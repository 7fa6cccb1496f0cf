/** Wires the ingest API from configuration: clients and caches built once per process. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { IngestConfig } from '../config.js';
import { handleApiRequest, type ApiDeps, type ApiRequest } from '../http/api.js';
import type { HttpResponse } from '../http/problem.js';
import type { Log } from '../log.js';
import { localDynamoClient, localS3Client } from '../local/aws-clients.js';
import { DynamoBatchLedger, type BatchLedger } from '../store/ledger.js';
import { S3RawArchive, type RawArchive } from '../store/raw-archive.js';
import { Pseudonyms } from '../lake/facts.js';
import { S3Lake, type FactsWriter } from '../lake/store.js';
import { DynamoSensorRegistry } from '../store/registry.js';
import { DEFAULT_LIMITS, type IngestDeps } from './ingest-batch.js';
import { SensorBudgets } from './rate-limit.js';
import { SensorKeyCache } from './sensor-keys.js';

export interface IngestApi {
  handle(req: ApiRequest): Promise<HttpResponse>;
  keys: SensorKeyCache;
  deps: IngestDeps;
}

export interface IngestClients {
  dynamo: DynamoDBClient;
  s3: S3Client;
}

/**
 * Timeouts of the ingest's AWS clients: a connection that is not up in 1 s, or a request not answered in 5 s, is
 * abandoned (and retried by the SDK, 3 attempts in all), so one stalled call cannot run to the function's
 * timeout; the request's own deadline (limits.deadlineMs, under that timeout) bounds the sum.
 */
export const AWS_CLIENT_TIMEOUTS = {
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
  maxAttempts: 3,
} as const;

/** Real AWS clients on Lambda; clients for the local emulators when their endpoints are configured. */
export function clientsFor(config: Pick<IngestConfig, 'dynamoEndpoint' | 's3Endpoint'>): IngestClients {
  return {
    dynamo: config.dynamoEndpoint ? localDynamoClient(config.dynamoEndpoint) : new DynamoDBClient(AWS_CLIENT_TIMEOUTS),
    s3: config.s3Endpoint ? localS3Client(config.s3Endpoint) : new S3Client(AWS_CLIENT_TIMEOUTS),
  };
}

export function createIngestApi(
  config: IngestConfig,
  log: Log,
  options: {
    clients?: IngestClients;
    clock?: () => number;
    /** Test seams: wrap the real ledger or archive, e.g. to inject a failure between two writes. */
    wrapLedger?: (ledger: BatchLedger) => BatchLedger;
    wrapArchive?: (archive: RawArchive) => RawArchive;
    wrapFacts?: (facts: FactsWriter) => FactsWriter;
    onBatch?: ApiDeps['onBatch'];
  } = {},
): IngestApi {
  const clients = options.clients ?? clientsFor(config);
  const clock = options.clock ?? Date.now;
  const keys = new SensorKeyCache(new DynamoSensorRegistry(clients.dynamo, config.tableName), config.sensorCacheTtlMs, clock);
  const ledger = new DynamoBatchLedger(clients.dynamo, config.tableName, config.horizonDays);
  const archive = new S3RawArchive(clients.s3, config.bucketName);
  const facts = new S3Lake(clients.s3, config.bucketName);
  const deps: IngestDeps = {
    keys,
    ledger: options.wrapLedger ? options.wrapLedger(ledger) : ledger,
    archive: options.wrapArchive ? options.wrapArchive(archive) : archive,
    facts: options.wrapFacts ? options.wrapFacts(facts) : facts,
    pseudonyms: new Pseudonyms(config.pseudonymKey),
    budgets: new SensorBudgets(config.sensorBatchesPerSecond, config.sensorBatchBurst),
    clock,
    limits: {
      ...DEFAULT_LIMITS,
      horizonDays: config.horizonDays,
      maxBodyBytes: config.maxBodyBytes,
      maxAlertsPerBatch: config.maxAlertsPerBatch,
      maxDaysPerBatch: config.maxDaysPerBatch,
      deadlineMs: config.deadlineMs,
    },
  };
  return { handle: (req) => handleApiRequest(req, { ingest: deps, log, onBatch: options.onBatch }), keys, deps };
}
