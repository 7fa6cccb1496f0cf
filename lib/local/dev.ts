/**
 * `alertgraph dev`: the whole stack on this machine (DESIGN §11) — DynamoDB Local, the S3 emulator, the
 * local gateway running the ingest Lambda's own handler, all on 127.0.0.1 and persisted under the data dir.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureBucket, ensureTable } from './provision.js';
import { localDynamoClient, localS3Client } from './aws-clients.js';
import { startDynamoDbLocal } from './emulators/dynamodb-local.js';
import { startS3Local } from './emulators/s3.js';
import { startGateway, type LambdaHandler } from './gateway.js';
import { isAlive, LOCAL_BUCKET, LOCAL_TABLE, readLocalState, removeLocalState, writeLocalState } from './state.js';
import { loadDemo } from './demo.js';
import { DynamoSensorRegistry } from '../store/registry.js';
import { errorFields, type Log } from '../log.js';

export interface LocalStack {
  url: string;
  dataDir: string;
  /** Settles when the demo data (if asked for) has been pushed; the stack serves requests meanwhile. */
  demo: Promise<{ sensors: number; alerts: number } | undefined>;
  stop(): Promise<void>;
}

export class DevAlreadyRunning extends Error {}

/** Demo data only on an empty registry: a data dir the user has put sensors in is left alone. */
async function loadDemoIfEmpty(registry: DynamoSensorRegistry, url: string, dataDir: string, log: Log) {
  try {
    if ((await registry.listSensors()).length > 0) return undefined;
    log.info('loading demo data');
    const result = await loadDemo({ registry, url, dataDir });
    log.info('demo data loaded', result);
    return result;
  } catch (err) {
    log.error('demo data could not be loaded', errorFields(err));
    return undefined;
  }
}

export async function startLocalStack(opts: { dataDir: string; port: number; demo: boolean; log: Log }): Promise<LocalStack> {
  const dataDir = resolve(opts.dataDir);
  const previous = await readLocalState(dataDir);
  if (previous && previous.pid !== process.pid && isAlive(previous.pid)) {
    throw new DevAlreadyRunning(`another alertgraph dev (pid ${previous.pid}) is using ${dataDir} at ${previous.url}`);
  }
  // A state file whose process is gone is what a SIGKILL leaves behind; the emulators clean their own leftovers.
  await removeLocalState(dataDir);
  await mkdir(dataDir, { recursive: true });

  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const dynamo = await startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb') });
    started.push(dynamo);
    const s3 = await startS3Local({ dataDir: join(dataDir, 's3'), buckets: [LOCAL_BUCKET] });
    started.push(s3);
    const dynamoClient = localDynamoClient(dynamo.endpoint);
    await ensureTable(dynamoClient, LOCAL_TABLE);
    await ensureBucket(localS3Client(s3.endpoint), LOCAL_BUCKET);

    // The gateway runs the Lambda's own module, configured through the environment exactly as on AWS.
    Object.assign(process.env, {
      TABLE_NAME: LOCAL_TABLE,
      BUCKET_NAME: LOCAL_BUCKET,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      S3_ENDPOINT: s3.endpoint,
      // Locally a revocation should bite within seconds, not a minute.
      SENSOR_CACHE_TTL_SECONDS: process.env.SENSOR_CACHE_TTL_SECONDS ?? '5',
    });
    const { handler } = (await import('../../lambdas/ingest/handler.js')) as { handler: LambdaHandler };
    const gateway = await startGateway({ port: opts.port, api: handler, log: opts.log });
    started.push({ stop: () => gateway.close() });

    await writeLocalState(dataDir, {
      version: 1,
      pid: process.pid,
      url: gateway.url,
      dynamoEndpoint: dynamo.endpoint,
      s3Endpoint: s3.endpoint,
      tableName: LOCAL_TABLE,
      bucketName: LOCAL_BUCKET,
      startedAt: new Date().toISOString(),
    });
    opts.log.info('local stack up', { url: gateway.url, dataDir });

    const demo = opts.demo ? loadDemoIfEmpty(new DynamoSensorRegistry(dynamoClient, LOCAL_TABLE), gateway.url, dataDir, opts.log) : Promise.resolve(undefined);

    return {
      url: gateway.url,
      dataDir,
      demo,
      stop: async () => {
        await stopAll();
        await removeLocalState(dataDir);
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
