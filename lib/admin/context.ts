/** Where admin commands act: the local stack that `dev` started for a data dir, or a deployed stack (`--stack`). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { localDynamoClient, localS3Client } from '../store/aws-clients.js';
import { isAlive, readLocalState } from '../local/state.js';
import { DynamoBatchLedger } from '../store/ledger.js';
import { DynamoSensorRegistry } from '../store/registry.js';
import { DynamoPartnerRegistry } from '../store/partners.js';
import { localSecrets } from '../local/secrets.js';
import { jsonLinesLog, type Log } from '../log.js';
import { createRenderService } from '../render/service.js';
import { checkStackSettings, clockMinutes, defaultStackSettings, type StackSettings } from '../settings.js';
import type { FactsSource } from '../lake/facts-source.js';
import type { RenderReport } from '../render/job.js';
import { invokeRenderFunction, stackAdminContext, type DeployedStack, type RenderRequest } from './deployed-stack.js';
import { StackUnavailable } from './stack-unavailable.js';

export interface AdminContext {
  dataDir: string;
  url: string;
  dynamo: DynamoDBClient;
  s3: S3Client;
  tableName: string;
  bucketName: string;
  registry: DynamoSensorRegistry;
  ledger: DynamoBatchLedger;
  partners: DynamoPartnerRegistry;
  /** The emulators' endpoints; undefined on a deployed stack. */
  dynamoEndpoint?: string;
  s3Endpoint?: string;
  /** Set with `--stack`: the deployed stack's outputs. */
  stack?: DeployedStack;
  /** The settings the stack runs with: the dev stack's state file, or the deployed stack's outputs. */
  settings: StackSettings;
  /** The deployment's pseudonym key: locally from the data dir; on a stack from its SSM SecureString. */
  pseudonymKey(): Promise<Uint8Array>;
}

export async function adminContext(dataDir: string, stack: string | undefined): Promise<AdminContext> {
  if (stack !== undefined) return stackAdminContext(dataDir, stack);
  const state = await readLocalState(dataDir);
  if (!state || !isAlive(state.pid)) {
    throw new StackUnavailable(`no local stack is running for data dir "${dataDir}": start one with \`alertgraph dev --data-dir ${dataDir}\``);
  }
  const dynamo = localDynamoClient(state.dynamoEndpoint);
  // A state file written before settings were recorded: that dev stack ran with the defaults.
  const settings = state.settings ? checkStackSettings(state.settings, `${dataDir}/stack.json`) : defaultStackSettings();
  return {
    dataDir,
    url: state.url,
    dynamo,
    s3: localS3Client(state.s3Endpoint),
    tableName: state.tableName,
    bucketName: state.bucketName,
    registry: new DynamoSensorRegistry(dynamo, state.tableName),
    ledger: new DynamoBatchLedger(dynamo, state.tableName, settings.horizonDays),
    partners: new DynamoPartnerRegistry(dynamo, state.tableName),
    dynamoEndpoint: state.dynamoEndpoint,
    s3Endpoint: state.s3Endpoint,
    settings,
    pseudonymKey: async () => (await localSecrets(dataDir)).pseudonymKey,
  };
}

/**
 * The render job against the local stack: the same code the scheduled function runs, in this process, with the
 * dev stack's own settings (so a manual `render` publishes what the scheduled one does).
 */
export async function localRenderService(ctx: AdminContext, log: Log) {
  // The local pseudonym key must never be used on a deployed stack's data: it would split the statistics.
  if (ctx.stack) throw new StackUnavailable(`on a deployed stack the render job runs in its function: use invokeRenderFunction (lib/admin/deployed-stack.ts), as runRenderJob does`);
  const secrets = await localSecrets(ctx.dataDir);
  return createRenderService(
    {
      tableName: ctx.tableName,
      bucketName: ctx.bucketName,
      horizonDays: ctx.settings.horizonDays,
      pseudonymKey: secrets.pseudonymKey,
      closeAfterMinutes: clockMinutes(ctx.settings.dailyRenderAt, 'dailyRenderAt'),
      watchedPorts: ctx.settings.watchedPorts,
      publicBaseUrl: ctx.url,
      dynamoEndpoint: ctx.dynamoEndpoint,
      s3Endpoint: ctx.s3Endpoint,
    },
    log,
    // The dev stack's scheduler may be running the job: wait for it rather than fail.
    { clients: { dynamo: ctx.dynamo, s3: ctx.s3 }, leaseWaitMs: 120_000 },
  );
}

/** Runs the render job: in this process against the local stack, or by invoking the deployed function. */
export async function runRenderJob(ctx: AdminContext, request: RenderRequest): Promise<RenderReport> {
  if (ctx.stack) return invokeRenderFunction(ctx.stack, request);
  const service = await localRenderService(ctx, jsonLinesLog('alertgraph-render', 'warn'));
  return service.run(request);
}

/** Where `query` and `report` run: the deployed stack's Athena, or the local lake in the bucket. */
export function factsSource(ctx: AdminContext): FactsSource {
  return ctx.stack
    ? { kind: 'athena', workGroup: ctx.stack.outputs.lakeWorkGroup, database: ctx.stack.outputs.lakeDatabase }
    : { kind: 'local', s3: ctx.s3, bucketName: ctx.bucketName };
}
