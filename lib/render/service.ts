/** Wires the render job from configuration, for the Lambda, the local scheduler and the CLI. */
import { DEFAULT_SCRATCH_DIR, lakeCacheDir, loadWarningSettings, type RenderConfig } from '../config.js';
import type { Log } from '../log.js';
import { clientsFor, type AwsClients } from '../store/aws-clients.js';
import { S3Publisher } from '../publish/publish.js';
import { DynamoBatchLedger } from '../store/ledger.js';
import { S3Lake } from '../lake/store.js';
import { athenaStatistics } from '../lake/facts-source.js';
import { DynamoSensorRegistry } from '../store/registry.js';
import { SummaryStore } from '../store/summaries.js';
import { runRenderJob, type RenderDeps, type RenderReport } from './job.js';
import { SnsNotifier, snsQueryPublisher } from '../warnings/notify.js';

export interface RenderService {
  run(opts?: { date?: string; all?: boolean }): Promise<RenderReport>;
  deps: RenderDeps;
}

export function createRenderService(
  config: RenderConfig,
  log: Log,
  options: { clients?: AwsClients; clock?: () => number; leaseWaitMs?: number } = {},
): RenderService {
  const clients = options.clients ?? clientsFor(config);
  const ledger = new DynamoBatchLedger(clients.dynamo, config.tableName, config.horizonDays);
  const warnings = config.warnings ?? loadWarningSettings();
  // On AWS the stack sets the topics (cdk/constructs/warnings.ts); locally there are none and nothing is sent.
  const notifier =
    warnings.topicArn || warnings.alarmTopicArn
      ? new SnsNotifier({ warnings: warnings.topicArn, alarms: warnings.alarmTopicArn }, snsQueryPublisher(() => clients.s3.config.credentials()), {
          baselineDays: warnings.baselineDays,
        })
      : undefined;
  const deps: RenderDeps = {
    registry: new DynamoSensorRegistry(clients.dynamo, config.tableName),
    ledger,
    horizonDays: config.horizonDays,
    summaries: new SummaryStore(clients.dynamo, config.tableName),
    lake: new S3Lake(clients.s3, config.bucketName, lakeCacheDir(config.scratchDir ?? DEFAULT_SCRATCH_DIR)),
    scratchDir: config.scratchDir ?? DEFAULT_SCRATCH_DIR,
    engineMemoryLimit: config.engineMemoryLimit,
    publisher: new S3Publisher(clients.s3, config.bucketName),
    clock: options.clock ?? Date.now,
    log,
    closeAfterMinutes: config.closeAfterMinutes,
    watchedPorts: config.watchedPorts,
    publicBaseUrl: config.publicBaseUrl,
    leaseWaitMs: options.leaseWaitMs,
    warnings: { settings: warnings, lastSeen: ledger, ...(notifier ? { notifier } : {}) },
    ...(config.athena ? { distributedStatistics: athenaStatistics(config.athena) } : {}),
  };
  return { run: (opts) => runRenderJob(deps, opts), deps };
}
