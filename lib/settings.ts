/**
 * Every setting of alertgraph, declared once: its default, its range, the environment variable the functions
 * read it from and the CDK context key a deployment sets it with. Everything else derives from this table:
 * lib/config.ts (the functions' and the local stack's configuration), cdk/config.ts (the deployment's), the
 * functions' environments (functionEnvironment), the dev stack's state file (lib/local/state.ts) and the
 * deployed stack's outputs (lib/stack-outputs.ts). Changing a default here changes it everywhere; adding a
 * setting is one entry here and one use where it is read.
 *
 * No imports: the sensor's self-contained client bundles it too.
 */

export class ConfigError extends Error {}

interface Described {
  /** Environment variable of the functions (and of the local stack's ingest), when they read it. */
  env?: string;
  /** CDK context key (`-c key=value`, cdk.json), when a deployment can set it. */
  context?: string;
  doc: string;
}

export interface IntSetting extends Described {
  kind: 'int';
  default: number;
  min: number;
  max: number;
}

export interface TextSetting extends Described {
  kind: 'text';
  /** Undefined: the setting has no default (required, or optional and off). */
  default?: string;
}

/** UTC time of day HH:MM. */
export const CLOCK_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** A watched port: protocol/number. */
const PORT_PATTERN = /^(tcp|udp|other)\/\d{1,5}$/;

// `const` type parameters keep each entry's literal names and defaults in SETTINGS' type.
const int = <const T extends Omit<IntSetting, 'kind'>>(s: T) => ({ kind: 'int' as const, ...s });
const text = <const T extends Omit<TextSetting, 'kind'>>(s: T) => ({ kind: 'text' as const, ...s });

export const SETTINGS = {
  // What the service counts and shows.
  horizonDays: int({ env: 'HORIZON_DAYS', context: 'horizonDays', default: 400, min: 1, max: 3650, doc: 'alerts older than this many days are refused; contributions are kept this long' }),
  dailyRenderAt: text({ env: 'DAILY_RENDER_AT', context: 'dailyRenderAt', default: '00:30', doc: 'UTC time HH:MM of the daily render, which closes the previous day; late batches get until then' }),
  watchedPorts: text({ env: 'WATCHED_PORTS', context: 'watchedPorts', default: 'tcp/135,udp/137,tcp/445', doc: 'ports drawn as series on the partner page (proto/number, comma-separated)' }),
  // Ingest limits.
  maxBodyBytes: int({ env: 'MAX_BODY_BYTES', context: 'maxBodyBytes', default: 5 * 1024 * 1024, min: 1024, max: 64 * 1024 * 1024, doc: 'body limit of a batch after decompression' }),
  maxAlertsPerBatch: int({ env: 'MAX_ALERTS_PER_BATCH', context: 'maxAlertsPerBatch', default: 10_000, min: 1, max: 100_000, doc: 'alerts in one batch' }),
  maxDaysPerBatch: int({ env: 'MAX_DAYS_PER_BATCH', context: 'maxDaysPerBatch', default: 31, min: 1, max: 3650, doc: 'distinct UTC days one batch may span (a month of a sparse backfill; push splits by day below it)' }),
  sensorCacheTtlSeconds: int({ env: 'SENSOR_CACHE_TTL_SECONDS', context: 'sensorCacheTtlSeconds', default: 10, min: 0, max: 60, doc: "how long a sensor's key and status are cached (bounds how late a revocation or key rotation bites)" }),
  ingestDeadlineSeconds: int({ env: 'INGEST_DEADLINE_SECONDS', context: 'ingestDeadlineSeconds', default: 20, min: 1, max: 28, doc: 'how long one batch may take before the sensor is told 503 retry_later (under the 29 s of the function and API Gateway)' }),
  sensorBatchesPerSecond: int({ env: 'SENSOR_BATCHES_PER_SECOND', context: 'sensorBatchesPerSecond', default: 10, min: 1, max: 10_000, doc: "each sensor's sustained budget of batches per second (a token bucket per container)" }),
  sensorBatchBurst: int({ env: 'SENSOR_BATCH_BURST', context: 'sensorBatchBurst', default: 50, min: 1, max: 100_000, doc: "each sensor's burst of batches above its budget" }),
  // Early warning (DESIGN §15): the design's thresholds.
  warnBaselineDays: int({ env: 'WARN_BASELINE_DAYS', context: 'warnBaselineDays', default: 28, min: 2, max: 366, doc: 'days a subject is judged against (the baseline window before the day)' }),
  warnMinActiveDays: int({ env: 'WARN_MIN_ACTIVE_DAYS', context: 'warnMinActiveDays', default: 14, min: 1, max: 366, doc: 'days of the baseline a subject must have alerts on to be judged for a surge' }),
  warnSurgeFactor: int({ env: 'WARN_SURGE_FACTOR', context: 'warnSurgeFactor', default: 3, min: 1, max: 1000, doc: 'a surge is at least this many times the baseline median' }),
  warnSurgeMinAlerts: int({ env: 'WARN_SURGE_MIN_ALERTS', context: 'warnSurgeMinAlerts', default: 50, min: 1, max: 1_000_000_000, doc: 'alerts a surge of alerts needs on the day' }),
  warnSurgeMinSources: int({ env: 'WARN_SURGE_MIN_SOURCES', context: 'warnSurgeMinSources', default: 10, min: 1, max: 1_000_000_000, doc: 'distinct sources a surge of sources needs on the day' }),
  warnNewMinSources: int({ env: 'WARN_NEW_MIN_SOURCES', context: 'warnNewMinSources', default: 10, min: 1, max: 1_000_000_000, doc: 'distinct sources new activity needs on the day' }),
  warnSilentAfterSeconds: int({ env: 'WARN_SILENT_AFTER_SECONDS', context: 'warnSilentAfterSeconds', default: 7200, min: 1, max: 30 * 86_400, doc: 'a sensor with no batch (not even a heartbeat) for longer than this is silent' }),
  warnIdeaNodeName: text({ env: 'WARN_IDEA_NODE_NAME', context: 'warnIdeaNodeName', default: 'org.alertgraph.warnings', doc: 'the IDEA Node.Name of published warning records (reverse domain notation)' }),
  warningsTopicArn: text({ env: 'WARNINGS_TOPIC_ARN', doc: 'SNS topic of surge and new warnings (set by the stack)' }),
  alarmTopicArn: text({ env: 'ALARM_TOPIC_ARN', doc: "SNS topic of the operators' alarms, which also gets silent-sensor warnings (set by the stack)" }),
  // Where things are.
  tableName: text({ env: 'TABLE_NAME', doc: 'the DynamoDB table name' }),
  bucketName: text({ env: 'BUCKET_NAME', doc: 'the S3 bucket name' }),
  publicBaseUrl: text({ env: 'PUBLIC_BASE_URL', doc: 'the https URL of the CDN (e.g. https://d111.cloudfront.net)' }),
  pseudonymKey: text({ env: 'PSEUDONYM_KEY', doc: 'the base64 key (32+ bytes) used to pseudonymize addresses' }),
  pseudonymKeyParameter: text({ env: 'PSEUDONYM_KEY_PARAMETER', context: 'pseudonymKeyParameter', default: '/alertgraph/pseudonym-key', doc: 'SSM SecureString holding the base64 pseudonym key' }),
  linkPrivateKeyParameter: text({ context: 'linkPrivateKeyParameter', default: '/alertgraph/link-private-key', doc: 'SSM SecureString holding the partner-link private key (read by the CLI)' }),
  linkPublicKeyPem: text({ context: 'linkPublicKeyPem', doc: 'PEM of the partner-link public key' }),
  linkPublicKeyFile: text({ context: 'linkPublicKeyFile', doc: 'file holding the PEM of the partner-link public key' }),
  scratchDir: text({ env: 'SCRATCH_DIR', doc: "where the render job brings the lake's objects and the engine spills" }),
  engineMemoryLimit: text({ env: 'ENGINE_MEMORY_LIMIT', doc: 'DuckDB memory limit (e.g. 6GB)' }),
  lakeWorkGroup: text({ env: 'LAKE_WORK_GROUP', doc: "Athena workgroup of the lake, where the render job computes partner statistics whose facts outgrow its scratch directory (set by the stack)" }),
  lakeDatabase: text({ env: 'LAKE_DATABASE', doc: 'Glue database of the lake, with the tables facts and first_seen (set by the stack)' }),
  dynamoEndpoint: text({ env: 'DYNAMODB_ENDPOINT', doc: 'DynamoDB endpoint override (local stack)' }),
  s3Endpoint: text({ env: 'S3_ENDPOINT', doc: 'S3 endpoint override (local stack)' }),
  // Deployment only.
  rawRetentionDays: int({ context: 'rawRetentionDays', default: 430, min: 1, max: 36_500, doc: 'days raw batches are kept (at least the horizon + the TTL margin + 1)' }),
  logRetentionDays: int({ context: 'logRetentionDays', default: 30, min: 1, max: 3653, doc: 'retention of the function and access log groups' }),
  apiRateLimit: int({ context: 'apiRateLimit', default: 50, min: 1, max: 10_000, doc: 'steady requests per second of the API stage' }),
  apiBurstLimit: int({ context: 'apiBurstLimit', default: 100, min: 1, max: 20_000, doc: 'burst of the API stage (default twice apiRateLimit)' }),
  renderMemoryMb: int({ context: 'renderMemoryMb', default: 3008, min: 1024, max: 10_240, doc: 'memory of the render function (MB)' }),
  athenaBytesScannedCutoffGb: int({ context: 'athenaBytesScannedCutoffGb', default: 10, min: 1, max: 100_000, doc: 'Athena stops a query of the lake after scanning this many GB' }),
  alarmEmail: text({ context: 'alarmEmail', doc: 'address subscribed to the alarm topic' }),
  rawArchiveAdminRoleArn: text({ context: 'rawArchiveAdminRoleArn', doc: 'the one IAM role that may delete raw batches before their lifecycle does' }),
  stackName: text({ context: 'stackName', default: 'Alertgraph', doc: 'CloudFormation stack name' }),
} as const satisfies Record<string, IntSetting | TextSetting>;

export type SettingName = keyof typeof SETTINGS;

/** An integer setting from a raw value (env text, context text or JSON number): its default when unset. */
export function intSetting(setting: IntSetting, raw: unknown, source: string, bounds: { min?: number; max?: number; fallback?: number } = {}): number {
  const min = bounds.min ?? setting.min;
  const max = bounds.max ?? setting.max;
  if (raw === undefined || raw === null || raw === '') return bounds.fallback ?? setting.default;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${source} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Minutes after UTC midnight of an HH:MM time. */
export function clockMinutes(raw: string, source: string): number {
  const m = CLOCK_PATTERN.exec(raw);
  if (!m) throw new ConfigError(`${source} must be a UTC time HH:MM, got "${raw}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** HH:MM of minutes after UTC midnight (the inverse of clockMinutes). */
export function clockText(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

export function parseWatchedPorts(raw: string, source: string = SETTINGS.watchedPorts.env): string[] {
  const ports = raw.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
  for (const p of ports) {
    if (!PORT_PATTERN.test(p) || Number(p.split('/')[1]) > 65535) {
      throw new ConfigError(`${source} must list ports as proto/number (e.g. tcp/445,udp/137), got "${p}"`);
    }
  }
  return ports;
}

/** The watched ports of the default, as a list. */
export const DEFAULT_WATCHED_PORTS: readonly string[] = parseWatchedPorts(SETTINGS.watchedPorts.default);

/**
 * The settings a stack runs with that the CLI must use the same way as the functions: recorded by `dev` in its
 * state file and output by a deployed stack, so that `render`, `rebuild` and `--stack` never assume defaults.
 */
export interface StackSettings {
  horizonDays: number;
  /** UTC HH:MM. */
  dailyRenderAt: string;
  watchedPorts: string[];
}

/** The stack settings when nothing sets them (read from the table at each call). */
export function defaultStackSettings(): StackSettings {
  return {
    horizonDays: SETTINGS.horizonDays.default,
    dailyRenderAt: SETTINGS.dailyRenderAt.default,
    watchedPorts: parseWatchedPorts(SETTINGS.watchedPorts.default),
  };
}

/** Checks settings read back from a state file or stack outputs (written by another version, or by hand). */
export function checkStackSettings(raw: Partial<Record<keyof StackSettings, unknown>>, source: string): StackSettings {
  const dailyRenderAt = String(raw.dailyRenderAt ?? SETTINGS.dailyRenderAt.default);
  clockMinutes(dailyRenderAt, `${source} dailyRenderAt`);
  const ports = Array.isArray(raw.watchedPorts) ? raw.watchedPorts.join(',') : String(raw.watchedPorts ?? SETTINGS.watchedPorts.default);
  return {
    horizonDays: intSetting(SETTINGS.horizonDays, raw.horizonDays, `${source} horizonDays`),
    dailyRenderAt,
    watchedPorts: parseWatchedPorts(ports, `${source} watchedPorts`),
  };
}

/** A function's environment: each value under its setting's variable name. */
export function functionEnvironment(values: Partial<Record<SettingName, string | number>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(values) as [SettingName, string | number | undefined][]) {
    if (value === undefined) continue;
    const variable = (SETTINGS[name] as Described).env;
    if (variable === undefined) throw new Error(`setting ${name} is not read from the environment`);
    env[variable] = String(value);
  }
  return env;
}
