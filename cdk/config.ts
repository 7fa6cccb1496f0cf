/**
 * The deployment's settings, read once from CDK context (`cdk.json`, or `-c name=value` on the command line).
 * Like lib/config.ts for the functions: each setting is checked here and a bad one is named with what it
 * should hold, before any construct is built. Context keys, defaults and ranges: lib/settings.ts.
 */
import type { WarningSettings } from '../lib/config.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CLOCK_PATTERN, ConfigError, intSetting, parseWatchedPorts, SETTINGS, type IntSetting, type TextSetting } from '../lib/settings.js';
import { TTL_MARGIN_DAYS } from '../lib/store/table.js';

export interface DeployConfig {
  /** PEM of the CloudFront public key that partner links are verified with (the private half stays in SSM). */
  linkPublicKeyPem: string;
  /** SSM SecureString holding the link private key, for the CLI (`partner link --stack`). Only its name is used. */
  linkPrivateKeyParameter: string;
  /** SSM SecureString holding the base64 pseudonym key that the ingest and render functions read at cold start. */
  pseudonymKeyParameter: string;
  /** UTC time HH:MM of the daily render, which also closes the previous day. */
  dailyRenderAt: string;
  horizonDays: number;
  /** Days raw batches are kept under raw/ before the lifecycle rule deletes them. */
  rawRetentionDays: number;
  logRetention: RetentionDays;
  watchedPorts: string;
  maxBodyBytes: number;
  maxAlertsPerBatch: number;
  sensorCacheTtlSeconds: number;
  maxDaysPerBatch: number;
  ingestDeadlineSeconds: number;
  sensorBatchesPerSecond: number;
  sensorBatchBurst: number;
  /** The early-warning thresholds (DESIGN §15), given to the render function (and the silence one to ingest). */
  warnings: Omit<WarningSettings, 'topicArn' | 'alarmTopicArn'>;
  /** Steady-state requests per second and burst of the API's default stage. */
  apiRateLimit: number;
  apiBurstLimit: number;
  /**
   * Memory of the render function (MB), which DuckDB shares with the graphs. 3008 is the most a new account may
   * give a function until Lambda's quota is raised; a national-scale close wants 10240 (DESIGN §13).
   */
  renderMemoryMb: number;
  /** Athena refuses (and stops) a query of the lake's workgroup once it has scanned this many GB (10^9 bytes). */
  athenaBytesScannedCutoffGb: number;
  /** The IAM role that alone may delete raw batches before their lifecycle does (cdk/constructs/store.ts). */
  rawArchiveAdminRoleArn?: string;
  /** Optional address subscribed to the alarm topic. */
  alarmEmail?: string;
}

/** What `tryGetContext` gives: strings from `-c`, any JSON value from cdk.json. */
export type ContextReader = (key: string) => unknown;

const PARAMETER_NAME = /^\/[A-Za-z0-9_.\-/]{1,1010}$/;

function text(ctx: ContextReader, setting: TextSetting): string | undefined {
  const key = setting.context!;
  const v = ctx(key);
  if (v === undefined || v === null || v === '') return setting.default;
  if (typeof v !== 'string') throw new ConfigError(`context ${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function int(ctx: ContextReader, setting: IntSetting, bounds: { min?: number; fallback?: number } = {}): number {
  return intSetting(setting, ctx(setting.context!), `context ${setting.context!}`, bounds);
}

function parameterName(ctx: ContextReader, setting: TextSetting): string {
  const name = text(ctx, setting)!;
  if (!PARAMETER_NAME.test(name)) throw new ConfigError(`context ${setting.context!} must be an SSM parameter path like /alertgraph/name, got "${name}"`);
  return name;
}

function linkPublicKey(ctx: ContextReader): string {
  const pem = text(ctx, SETTINGS.linkPublicKeyPem);
  const file = text(ctx, SETTINGS.linkPublicKeyFile);
  if (pem !== undefined && file !== undefined) throw new ConfigError('give either linkPublicKeyPem or linkPublicKeyFile, not both');
  let value = pem;
  if (file !== undefined) {
    try {
      value = readFileSync(resolve(file), 'utf8');
    } catch (err) {
      throw new ConfigError(`linkPublicKeyFile ${file} cannot be read: ${(err as Error).message}`);
    }
  }
  if (value === undefined) {
    throw new ConfigError(
      'the partner-link public key is missing: pass -c linkPublicKeyFile=<public PEM> (or -c linkPublicKeyPem="<PEM>"); ' +
        'create the key pair as docs/DEPLOY.md describes. The stack never generates one.',
    );
  }
  // A private key here would end up in the template, readable by anyone who can see the stack.
  if (/PRIVATE KEY-----/.test(value)) throw new ConfigError('the link key given is a PRIVATE key: give the public half (openssl rsa -pubout)');
  const trimmed = value.trim();
  if (!/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n\r]+\n-----END PUBLIC KEY-----$/.test(trimmed.replace(/\r\n/g, '\n'))) {
    throw new ConfigError('the link public key must be a PEM "BEGIN PUBLIC KEY" block (RSA 2048, SubjectPublicKeyInfo)');
  }
  return `${trimmed}\n`;
}

export function loadDeployConfig(ctx: ContextReader): DeployConfig {
  const horizonDays = int(ctx, SETTINGS.horizonDays);
  // A late batch for a day up to the horizon old makes the render job recompute that day's distinct sources
  // from its raw batches, so they must outlive the horizon (plus the TTL margin the ledger uses).
  const minRaw = horizonDays + TTL_MARGIN_DAYS + 1;
  const rawRetentionDays = int(ctx, SETTINGS.rawRetentionDays, { min: minRaw, fallback: Math.max(SETTINGS.rawRetentionDays.default, minRaw) });
  const dailyRenderAt = text(ctx, SETTINGS.dailyRenderAt)!;
  if (!CLOCK_PATTERN.test(dailyRenderAt)) throw new ConfigError(`context ${SETTINGS.dailyRenderAt.context} must be a UTC time HH:MM, got "${dailyRenderAt}"`);
  const logRetentionDays = int(ctx, SETTINGS.logRetentionDays);
  if (!Object.values(RetentionDays).includes(logRetentionDays)) {
    throw new ConfigError(`context ${SETTINGS.logRetentionDays.context} must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, …), got ${logRetentionDays}`);
  }
  const watchedPorts = text(ctx, SETTINGS.watchedPorts)!;
  parseWatchedPorts(watchedPorts, `context ${SETTINGS.watchedPorts.context}`);
  const alarmEmail = text(ctx, SETTINGS.alarmEmail);
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) throw new ConfigError(`context ${SETTINGS.alarmEmail.context} is not an address: "${alarmEmail}"`);
  const apiRateLimit = int(ctx, SETTINGS.apiRateLimit);
  const rawArchiveAdminRoleArn = text(ctx, SETTINGS.rawArchiveAdminRoleArn);
  if (rawArchiveAdminRoleArn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/.test(rawArchiveAdminRoleArn)) {
    throw new ConfigError(`context ${SETTINGS.rawArchiveAdminRoleArn.context} must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got "${rawArchiveAdminRoleArn}"`);
  }
  return {
    linkPublicKeyPem: linkPublicKey(ctx),
    linkPrivateKeyParameter: parameterName(ctx, SETTINGS.linkPrivateKeyParameter),
    pseudonymKeyParameter: parameterName(ctx, SETTINGS.pseudonymKeyParameter),
    dailyRenderAt,
    horizonDays,
    rawRetentionDays,
    logRetention: logRetentionDays as RetentionDays,
    watchedPorts,
    maxBodyBytes: int(ctx, SETTINGS.maxBodyBytes),
    maxAlertsPerBatch: int(ctx, SETTINGS.maxAlertsPerBatch),
    sensorCacheTtlSeconds: int(ctx, SETTINGS.sensorCacheTtlSeconds),
    maxDaysPerBatch: int(ctx, SETTINGS.maxDaysPerBatch),
    ingestDeadlineSeconds: int(ctx, SETTINGS.ingestDeadlineSeconds),
    sensorBatchesPerSecond: int(ctx, SETTINGS.sensorBatchesPerSecond),
    sensorBatchBurst: int(ctx, SETTINGS.sensorBatchBurst),
    warnings: {
      baselineDays: int(ctx, SETTINGS.warnBaselineDays),
      minActiveDays: int(ctx, SETTINGS.warnMinActiveDays),
      surgeFactor: int(ctx, SETTINGS.warnSurgeFactor),
      surgeMinAlerts: int(ctx, SETTINGS.warnSurgeMinAlerts),
      surgeMinSources: int(ctx, SETTINGS.warnSurgeMinSources),
      newMinSources: int(ctx, SETTINGS.warnNewMinSources),
      silentAfterSeconds: int(ctx, SETTINGS.warnSilentAfterSeconds),
      ideaNodeName: text(ctx, SETTINGS.warnIdeaNodeName)!,
    },
    apiRateLimit,
    apiBurstLimit: int(ctx, SETTINGS.apiBurstLimit, { fallback: apiRateLimit * 2 }),
    // At least 1 GB: DuckDB, Node, Vega and sharp share it. 10240 MB is Lambda's maximum.
    renderMemoryMb: int(ctx, SETTINGS.renderMemoryMb),
    // Athena's own bounds are 10 MB and 7 EB; a scan of 100 TB ($500 at $5/TB) is beyond any use here.
    athenaBytesScannedCutoffGb: int(ctx, SETTINGS.athenaBytesScannedCutoffGb),
    ...(rawArchiveAdminRoleArn !== undefined ? { rawArchiveAdminRoleArn } : {}),
    ...(alarmEmail !== undefined ? { alarmEmail } : {}),
  };
}
