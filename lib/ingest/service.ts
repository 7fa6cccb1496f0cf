/** Wires the ingest API from configuration: clients and caches built once per process. */
import { SeenMarks } from './seen.js';
import { SETTINGS } from '../settings.js';
import type { IngestConfig } from '../config.js';
import { handleApiRequest, type ApiDeps, type ApiRequest } from '../http/api.js';
import type { HttpResponse } from '../http/problem.js';
import type { Log } from '../log.js';
import { clientsFor, type AwsClients } from '../store/aws-clients.js';
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

/** The clients are made in one place for every service (lib/store/aws-clients.ts). */
export type IngestClients = AwsClients;
export { clientsFor };

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
    seen: SeenMarks.forSilence(config.silentAfterSeconds ?? SETTINGS.warnSilentAfterSeconds.default),
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
