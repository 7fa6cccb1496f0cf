/**
 * `alertgraph dev`: the whole stack on this machine (DESIGN §11) — DynamoDB Local, the S3 emulator, the
 * local gateway running the ingest Lambda's own handler, all on 127.0.0.1 and persisted under the data dir.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureBucket, ensureTable } from './provision.js';
import { localDynamoClient, localS3Client } from '../store/aws-clients.js';
import { startDynamoDbLocal } from './emulators/dynamodb-local.js';
import { startS3Local } from './emulators/s3.js';
import { startGateway, type LambdaHandler } from './gateway.js';
import { isAlive, LOCAL_BUCKET, LOCAL_TABLE, readLocalState, removeLocalState, writeLocalState } from './state.js';
import { loadDemo } from './demo.js';
import { DynamoSensorRegistry } from '../store/registry.js';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { registryRevocations } from '../links/partners.js';
import { DynamoPartnerRegistry } from '../store/partners.js';
import { PUBLIC_KEYS } from '../publish/layout.js';
import { createRenderService } from '../render/service.js';
import type { RenderReport } from '../render/job.js';
import { createLocalCdn } from './cdn.js';
import { startRenderScheduler } from './scheduler.js';
import { localSecrets } from './secrets.js';
import { errorFields, type Log } from '../log.js';
import { clockMinutes, defaultStackSettings, functionEnvironment, SETTINGS, type StackSettings } from '../settings.js';

export interface LocalStack {
  url: string;
  dataDir: string;
  /** Renders and publishes now (what `alertgraph render` asks the running stack to do). */
  render(opts?: { date?: string; all?: boolean }): Promise<RenderReport>;
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

export interface LocalStackOptions {
  dataDir: string;
  port: number;
  demo: boolean;
  log: Log;
  /** The stack's settings; each one left out is its default (lib/settings.ts). */
  settings?: Partial<StackSettings>;
}

/** Partner revocations are looked up per request with a short cache, as the CloudFront KeyValueStore is. */
async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(opts.dataDir);
  const settings: StackSettings = { ...defaultStackSettings(), ...opts.settings };
  const closeAfterMinutes = clockMinutes(settings.dailyRenderAt, 'dailyRenderAt');
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
    const secrets = await localSecrets(dataDir);
    Object.assign(process.env, {
      ...functionEnvironment({
        // The facts' pseudonyms use the same key as the render job (on AWS both read it from SSM).
        pseudonymKey: secrets.pseudonymKey.toString('base64'),
        tableName: LOCAL_TABLE,
        bucketName: LOCAL_BUCKET,
        dynamoEndpoint: dynamo.endpoint,
        s3Endpoint: s3.endpoint,
        horizonDays: settings.horizonDays,
        // Locally the first request after `sensor add`/`sensor revoke` (another process) must see the change: the
        // registry is read per request (DynamoDB Local, a millisecond or two).
        sensorCacheTtlSeconds: process.env[SETTINGS.sensorCacheTtlSeconds.env] ?? 0,
      }),
      // No CloudWatch here: the handler's embedded metrics would only add noise to the console.
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const { handler } = (await import('../../lambdas/ingest/handler.js')) as { handler: LambdaHandler };
    const s3Client = localS3Client(s3.endpoint);
    const partners = new DynamoPartnerRegistry(dynamoClient, LOCAL_TABLE);
    const cdn = createLocalCdn({
      s3: s3Client,
      bucket: LOCAL_BUCKET,
      publicKeys: new Map([[secrets.keyPairId, secrets.linkPublicKeyPem]]),
      // Read on every partner request: a revocation or reinstatement holds from the next request on.
      isRevoked: registryRevocations(partners),
    });
    const gateway = await startGateway({ port: opts.port, api: handler, cdn, log: opts.log });
    started.push({ stop: () => gateway.close() });

    const render = createRenderService(
      {
        tableName: LOCAL_TABLE,
        bucketName: LOCAL_BUCKET,
        horizonDays: settings.horizonDays,
        pseudonymKey: secrets.pseudonymKey,
        closeAfterMinutes,
        watchedPorts: settings.watchedPorts,
        publicBaseUrl: gateway.url,
        dynamoEndpoint: dynamo.endpoint,
        s3Endpoint: s3.endpoint,
      },
      opts.log,
      // `alertgraph render` from another terminal waits for a scheduled run rather than failing.
      { leaseWaitMs: 120_000 },
    );
    // Only one dev runs on a data dir (checked above): a lease left by a killed predecessor is stale.
    await render.deps.summaries.releaseLease();

    await writeLocalState(dataDir, {
      version: 1,
      pid: process.pid,
      url: gateway.url,
      dynamoEndpoint: dynamo.endpoint,
      s3Endpoint: s3.endpoint,
      tableName: LOCAL_TABLE,
      bucketName: LOCAL_BUCKET,
      startedAt: new Date().toISOString(),
      settings,
    });
    opts.log.info('local stack up', { url: gateway.url, dataDir });

    const demo = opts.demo ? loadDemoIfEmpty(new DynamoSensorRegistry(dynamoClient, LOCAL_TABLE), gateway.url, dataDir, opts.log) : Promise.resolve(undefined);
    // The first render waits for the demo data, so a newcomer's first graph shows it.
    const scheduler = startRenderScheduler({
      run: () => render.run(),
      publishedAlready: async () => {
        await demo;
        return objectExists(s3Client, LOCAL_BUCKET, PUBLIC_KEYS.png);
      },
      closeAfterMinutes,
      log: opts.log,
    });
    started.push({ stop: () => scheduler.stop() });

    return {
      url: gateway.url,
      dataDir,
      render: (o) => render.run(o),
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
