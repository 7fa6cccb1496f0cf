/** The ingest API in the bench's own process, over a fresh table and bucket on the emulators. */
import { randomUUID } from 'node:crypto';
import { type IngestConfig, ingestConfigWithDefaults } from '../lib/config.js';
import { createIngestApi } from '../lib/ingest/service.js';
import { localDynamoClient, localS3Client } from '../lib/local/aws-clients.js';
import { ensureBucket, ensureTable } from '../lib/local/provision.js';
import { silentLog } from '../lib/log.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../lib/signing/keys.js';
import { DynamoSensorRegistry } from '../lib/store/registry.js';

/**
 * Creates `<prefix>-<random>` as table and bucket, registers `sensors` (one key pair for all, deployed in 2020)
 * and returns the ingest API over them; `config` overrides the settings' defaults, `clock` the API's time.
 */
export async function benchIngestApi(opts: {
  dynamoEndpoint: string;
  s3Endpoint: string;
  prefix: string;
  sensors: readonly string[];
  pseudonymKey: Buffer;
  config?: Partial<IngestConfig>;
  clock?: () => number;
}) {
  const name = `${opts.prefix}-${randomUUID().slice(0, 8)}`;
  const config = ingestConfigWithDefaults({
    tableName: name,
    bucketName: name,
    pseudonymKey: opts.pseudonymKey,
    dynamoEndpoint: opts.dynamoEndpoint,
    s3Endpoint: opts.s3Endpoint,
    ...opts.config,
  });
  const dynamo = localDynamoClient(opts.dynamoEndpoint);
  const s3 = localS3Client(opts.s3Endpoint);
  await ensureTable(dynamo, config.tableName);
  await ensureBucket(s3, config.bucketName);
  const pair = generateSensorKeyPair();
  const registry = new DynamoSensorRegistry(dynamo, config.tableName);
  const createdAt = new Date((opts.clock ?? Date.now)()).toISOString();
  for (const id of opts.sensors) {
    await registry.putSensor({ id, publicKey: pair.publicKey, name: id, deployedAt: '2020-01-01', status: 'active', createdAt });
  }
  const api = createIngestApi(config, silentLog, { clients: { dynamo, s3 }, ...(opts.clock ? { clock: opts.clock } : {}) });
  return { api, config, dynamo, s3, privateKey: privateKeyFromPem(pair.privateKeyPem) };
}
