/**
 * Typed configuration, read once. Nothing else in the code base reads `process.env`:
 * functions and the local stack call `loadConfig()` at start and pass values down.
 * Names, defaults and ranges come from lib/settings.ts.
 */
import type { WarningRules } from './warnings/rules.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clockMinutes, ConfigError, intSetting, parseWatchedPorts, SETTINGS, type IntSetting, type TextSetting } from './settings.js';

export { ConfigError, parseWatchedPorts };

export interface IngestConfig {
  tableName: string;
  bucketName: string;
  /** Alerts older than this many days are rejected (DESIGN §5). Also how long contributions are kept. */
  horizonDays: number;
  /** Body limit after decompression. */
  maxBodyBytes: number;
  /** Cap on alerts in one batch. */
  maxAlertsPerBatch: number;
  /**
   * Cap on the distinct UTC days one batch may span (413 too_many_days over it): each day costs a contribution
   * item and a render mark, so a batch spread thin over a year costs hundreds of writes. `push` splits.
   */
  maxDaysPerBatch: number;
  /**
   * How long a sensor's key and status are cached; bounds how late a revocation takes effect. The cache
   * trusts an entry 10 s at most whatever this says (lib/ingest/sensor-keys.ts), so values up to the old
   * maximum of 60 are still accepted.
   */
  sensorCacheTtlMs: number;
  /** Each sensor's budget: batches per second, and the burst it may send at once (429 rate_limited over it). */
  sensorBatchesPerSecond: number;
  sensorBatchBurst: number;
  /** The silence threshold of the warnings (DESIGN §15): how often a sensor's last-seen mark must be refreshed. */
  silentAfterSeconds?: number;
  /**
   * How long one batch may take before the sensor is told 503 retry_later: under the function's timeout (29 s,
   * API Gateway's 30 s), so a stalled storage call gets a clean answer instead of a bare 5xx.
   */
  deadlineMs: number;
  /** Key of the HMAC that turns addresses into the pseudonyms of the facts (DESIGN §13); same as the render job's. */
  pseudonymKey: Uint8Array;
  /** Endpoint overrides for the local stack; undefined on AWS. */
  dynamoEndpoint?: string;
  s3Endpoint?: string;
}

/** The lake's scratch directory unless SCRATCH_DIR says otherwise: Lambda's /tmp, or the machine's temp dir. */
export const DEFAULT_SCRATCH_DIR = join(tmpdir(), 'alertgraph');

/** Where the lake's Parquet objects are kept between runs, under a scratch directory (lib/lake/store.ts). */
export function lakeCacheDir(scratchDir: string = DEFAULT_SCRATCH_DIR): string {
  return join(scratchDir, 'cache');
}

function memoryLimit(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+(\.\d+)?\s*(MB|GB|MiB|GiB)$/i.test(raw.trim())) throw new ConfigError(`${name} must be a size such as 512MB or 6GB, got "${raw}"`);
  return raw.trim();
}

type Env = Record<string, string | undefined>;

function required(env: Env, setting: TextSetting): string {
  const name = setting.env!;
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ConfigError(`${name} is not set: it should hold ${setting.doc}`);
  }
  return value;
}

function integer(env: Env, setting: IntSetting): number {
  return intSetting(setting, env[setting.env!], setting.env!);
}

function optional(env: Env, setting: TextSetting): string | undefined {
  return env[setting.env!] || undefined;
}

/**
 * An ingest configuration whose limits are their settings' defaults (lib/settings.ts), for the tests, benches and
 * tools that only say where things are and what they change: one place instead of a literal in each.
 */
export function ingestConfigWithDefaults(values: Pick<IngestConfig, 'tableName' | 'bucketName' | 'pseudonymKey'> & Partial<IngestConfig>): IngestConfig {
  return {
    horizonDays: SETTINGS.horizonDays.default,
    maxBodyBytes: SETTINGS.maxBodyBytes.default,
    maxAlertsPerBatch: SETTINGS.maxAlertsPerBatch.default,
    maxDaysPerBatch: SETTINGS.maxDaysPerBatch.default,
    sensorCacheTtlMs: SETTINGS.sensorCacheTtlSeconds.default * 1000,
    sensorBatchesPerSecond: SETTINGS.sensorBatchesPerSecond.default,
    sensorBatchBurst: SETTINGS.sensorBatchBurst.default,
    deadlineMs: SETTINGS.ingestDeadlineSeconds.default * 1000,
    ...values,
  };
}

export function loadIngestConfig(env: Env = process.env): IngestConfig {
  return ingestConfigWithKey(
    env,
    pseudonymKeyFromValue(required(env, SETTINGS.pseudonymKey), SETTINGS.pseudonymKey.env),
  );
}

function ingestConfigWithKey(env: Env, pseudonymKey: Uint8Array): IngestConfig {
  return {
    tableName: required(env, SETTINGS.tableName),
    bucketName: required(env, SETTINGS.bucketName),
    horizonDays: integer(env, SETTINGS.horizonDays),
    maxBodyBytes: integer(env, SETTINGS.maxBodyBytes),
    maxAlertsPerBatch: integer(env, SETTINGS.maxAlertsPerBatch),
    maxDaysPerBatch: integer(env, SETTINGS.maxDaysPerBatch),
    sensorCacheTtlMs: integer(env, SETTINGS.sensorCacheTtlSeconds) * 1000,
    sensorBatchesPerSecond: integer(env, SETTINGS.sensorBatchesPerSecond),
    sensorBatchBurst: integer(env, SETTINGS.sensorBatchBurst),
    silentAfterSeconds: integer(env, SETTINGS.warnSilentAfterSeconds),
    deadlineMs: integer(env, SETTINGS.ingestDeadlineSeconds) * 1000,
    pseudonymKey,
    dynamoEndpoint: optional(env, SETTINGS.dynamoEndpoint),
    s3Endpoint: optional(env, SETTINGS.s3Endpoint),
  };
}

export interface RenderConfig {
  tableName: string;
  bucketName: string;
  horizonDays: number;
  /** Key of the HMAC that turns source addresses into pseudonyms (≥ 32 bytes). */
  pseudonymKey: Uint8Array;
  /** Minutes after UTC midnight from which the previous day is closed; late batches get this long. */
  closeAfterMinutes: number;
  watchedPorts: string[];
  /** Absolute URL the public objects are served under (the CDN), for the embed snippet. */
  publicBaseUrl: string;
  /** Where the close brings the lake's objects and the engine spills (Lambda: /tmp); default DEFAULT_SCRATCH_DIR. */
  scratchDir?: string;
  /** DuckDB memory limit (e.g. 6GB); default DuckDB's own, 80 % of the machine. */
  engineMemoryLimit?: string;
  /** Athena over the lake's Glue tables, for partner statistics that outgrow the scratch directory (AWS only). */
  athena?: { workGroup: string; database: string };
  /** The early-warning thresholds (DESIGN §15); when absent, `loadWarningSettings()` of the environment. */
  warnings?: WarningSettings;
  dynamoEndpoint?: string;
  s3Endpoint?: string;
}

/** The early-warning settings (DESIGN §15); the defaults are the design's (lib/settings.ts). */
export interface WarningSettings extends WarningRules {
  /** A sensor with no batch (not even a heartbeat) for longer than this is silent. */
  silentAfterSeconds: number;
  /** The IDEA `Node.Name` of published warning records (reverse domain notation). */
  ideaNodeName: string;
  /** SNS topics the render job sends warnings to (AWS only): surge/new, and silent sensors (the alarm topic). */
  topicArn?: string;
  alarmTopicArn?: string;
}

export function loadWarningSettings(env: Env = process.env): WarningSettings {
  const baselineDays = integer(env, SETTINGS.warnBaselineDays);
  const minActiveDays = integer(env, SETTINGS.warnMinActiveDays);
  if (minActiveDays > baselineDays) throw new ConfigError(`${SETTINGS.warnMinActiveDays.env} (${minActiveDays}) must not exceed ${SETTINGS.warnBaselineDays.env} (${baselineDays})`);
  return {
    baselineDays,
    minActiveDays,
    surgeFactor: integer(env, SETTINGS.warnSurgeFactor),
    surgeMinAlerts: integer(env, SETTINGS.warnSurgeMinAlerts),
    surgeMinSources: integer(env, SETTINGS.warnSurgeMinSources),
    newMinSources: integer(env, SETTINGS.warnNewMinSources),
    silentAfterSeconds: integer(env, SETTINGS.warnSilentAfterSeconds),
    ideaNodeName: optional(env, SETTINGS.warnIdeaNodeName) ?? SETTINGS.warnIdeaNodeName.default,
    topicArn: optional(env, SETTINGS.warningsTopicArn),
    alarmTopicArn: optional(env, SETTINGS.alarmTopicArn),
  };
}

export function pseudonymKeyFromValue(value: string, source: string): Uint8Array {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length < 32) throw new ConfigError(`${source} must decode to at least 32 bytes`);
  return key;
}

export function loadRenderConfig(env: Env = process.env): RenderConfig {
  const key = pseudonymKeyFromValue(required(env, SETTINGS.pseudonymKey), SETTINGS.pseudonymKey.env);
  return renderConfigWithKey(env, key);
}

function renderConfigWithKey(env: Env, key: Uint8Array): RenderConfig {
  return {
    tableName: required(env, SETTINGS.tableName),
    bucketName: required(env, SETTINGS.bucketName),
    horizonDays: integer(env, SETTINGS.horizonDays),
    pseudonymKey: key,
    closeAfterMinutes: clockMinutes(optional(env, SETTINGS.dailyRenderAt) ?? SETTINGS.dailyRenderAt.default, SETTINGS.dailyRenderAt.env),
    watchedPorts: parseWatchedPorts(optional(env, SETTINGS.watchedPorts) ?? SETTINGS.watchedPorts.default),
    publicBaseUrl: required(env, SETTINGS.publicBaseUrl),
    scratchDir: optional(env, SETTINGS.scratchDir) ?? DEFAULT_SCRATCH_DIR,
    engineMemoryLimit: memoryLimit(env, SETTINGS.engineMemoryLimit.env),
    athena: athenaTarget(env),
    warnings: loadWarningSettings(env),
    dynamoEndpoint: optional(env, SETTINGS.dynamoEndpoint),
    s3Endpoint: optional(env, SETTINGS.s3Endpoint),
  };
}

/** The lake's Athena workgroup and Glue database: both set, or neither (then there is no distributed engine). */
function athenaTarget(env: Env): RenderConfig['athena'] {
  const workGroup = optional(env, SETTINGS.lakeWorkGroup);
  const database = optional(env, SETTINGS.lakeDatabase);
  if (!workGroup && !database) return undefined;
  if (!workGroup || !database) {
    throw new ConfigError(`${SETTINGS.lakeWorkGroup.env} and ${SETTINGS.lakeDatabase.env} go together: set both or neither`);
  }
  return { workGroup, database };
}

/** Reads one SecureString parameter, decrypted. Injected so tests need no AWS. */
export type SecureParameterReader = (name: string) => Promise<string>;

/**
 * The render function's configuration on AWS, where the pseudonym key is not in the environment (it would show
 * in the console and in the template) but in an SSM SecureString that the operator created once: the function
 * gets its name in PSEUDONYM_KEY_PARAMETER and reads it at cold start. PSEUDONYM_KEY, when set, wins, so the
 * same loader also serves hosts that have the key at hand.
 */
export async function loadRenderConfigAsync(readParameter: SecureParameterReader, env: Env = process.env): Promise<RenderConfig> {
  if (env[SETTINGS.pseudonymKey.env]) return loadRenderConfig(env);
  // Everything else is checked before the network is touched, so a misconfigured function fails at once.
  const base = renderConfigWithKey(env, new Uint8Array(0));
  return { ...base, pseudonymKey: await pseudonymKeyFromParameter(env, readParameter) };
}

/**
 * The ingest function's configuration on AWS: the same pseudonym key, from the same parameter, once per
 * container. The reader is the caller's: the ingest function passes one signed HTTPS request
 * (lib/store/ssm-parameter.ts), not the SDK's SSM client, which would not fit its bundle's budget.
 */
export async function loadIngestConfigAsync(readParameter: SecureParameterReader, env: Env = process.env): Promise<IngestConfig> {
  if (env[SETTINGS.pseudonymKey.env]) return loadIngestConfig(env);
  const base = ingestConfigWithKey(env, new Uint8Array(0));
  return { ...base, pseudonymKey: await pseudonymKeyFromParameter(env, readParameter) };
}

async function pseudonymKeyFromParameter(env: Env, readParameter: SecureParameterReader): Promise<Uint8Array> {
  const name = SETTINGS.pseudonymKeyParameter.env;
  const parameter = env[name];
  if (!parameter) {
    throw new ConfigError(`${name} is not set: it should hold the name of the ${SETTINGS.pseudonymKeyParameter.doc} (or set ${SETTINGS.pseudonymKey.env} itself)`);
  }
  let value: string;
  try {
    value = await readParameter(parameter);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // Name the parameter and the cause, never the value.
    throw new ConfigError(`cannot read SSM parameter ${parameter}: ${(err as Error).name}: ${(err as Error).message}`);
  }
  return pseudonymKeyFromValue(value, `SSM parameter ${parameter}`);
}
