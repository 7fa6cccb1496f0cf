/**
 * Typed configuration, read once. Nothing else in the code base reads `process.env`:
 * functions and the local stack call `loadConfig()` at start and pass values down.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

export class ConfigError extends Error {}

/** Days one batch may span by default: a month of a sparse sensor's backfill; live batches span one or two. */
export const DEFAULT_MAX_DAYS_PER_BATCH = 31;

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

function required(env: Env, name: string, what: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ConfigError(`${name} is not set: it should hold ${what}`);
  }
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

export function loadIngestConfig(env: Env = process.env): IngestConfig {
  return ingestConfigWithKey(
    env,
    pseudonymKeyFromValue(required(env, 'PSEUDONYM_KEY', 'the base64 key (32+ bytes) used to pseudonymize addresses'), 'PSEUDONYM_KEY'),
  );
}

function ingestConfigWithKey(env: Env, pseudonymKey: Uint8Array): IngestConfig {
  return {
    tableName: required(env, 'TABLE_NAME', 'the DynamoDB table name'),
    bucketName: required(env, 'BUCKET_NAME', 'the S3 bucket name'),
    horizonDays: integer(env, 'HORIZON_DAYS', 400, 1, 3650),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 5 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxAlertsPerBatch: integer(env, 'MAX_ALERTS_PER_BATCH', 10_000, 1, 100_000),
    maxDaysPerBatch: integer(env, 'MAX_DAYS_PER_BATCH', DEFAULT_MAX_DAYS_PER_BATCH, 1, 3650),
    sensorCacheTtlMs: integer(env, 'SENSOR_CACHE_TTL_SECONDS', 10, 0, 60) * 1000,
    sensorBatchesPerSecond: integer(env, 'SENSOR_BATCHES_PER_SECOND', 10, 1, 10_000),
    sensorBatchBurst: integer(env, 'SENSOR_BATCH_BURST', 50, 1, 100_000),
    deadlineMs: integer(env, 'INGEST_DEADLINE_SECONDS', 20, 1, 28) * 1000,
    pseudonymKey,
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    s3Endpoint: env.S3_ENDPOINT || undefined,
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
  dynamoEndpoint?: string;
  s3Endpoint?: string;
}

function clock(env: Env, name: string, fallback: string): number {
  const raw = env[name] || fallback;
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(raw);
  if (!m) throw new ConfigError(`${name} must be a UTC time HH:MM, got "${raw}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

const PORT_PATTERN = /^(tcp|udp|other)\/\d{1,5}$/;

export function parseWatchedPorts(raw: string, name = 'WATCHED_PORTS'): string[] {
  const ports = raw.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
  for (const p of ports) {
    if (!PORT_PATTERN.test(p) || Number(p.split('/')[1]) > 65535) {
      throw new ConfigError(`${name} must list ports as proto/number (e.g. tcp/445,udp/137), got "${p}"`);
    }
  }
  return ports;
}

export function pseudonymKeyFromValue(value: string, source: string): Uint8Array {
  const key = Buffer.from(value.trim(), 'base64');
  if (key.length < 32) throw new ConfigError(`${source} must decode to at least 32 bytes`);
  return key;
}

export function loadRenderConfig(env: Env = process.env): RenderConfig {
  const key = pseudonymKeyFromValue(
    required(env, 'PSEUDONYM_KEY', 'the base64 key (32+ bytes) used to pseudonymize source addresses'),
    'PSEUDONYM_KEY',
  );
  return renderConfigWithKey(env, key);
}

function renderConfigWithKey(env: Env, key: Uint8Array): RenderConfig {
  return {
    tableName: required(env, 'TABLE_NAME', 'the DynamoDB table name'),
    bucketName: required(env, 'BUCKET_NAME', 'the S3 bucket name'),
    horizonDays: integer(env, 'HORIZON_DAYS', 400, 1, 3650),
    pseudonymKey: key,
    closeAfterMinutes: clock(env, 'DAILY_RENDER_AT', '00:30'),
    watchedPorts: parseWatchedPorts(env.WATCHED_PORTS || 'tcp/135,udp/137,tcp/445'),
    publicBaseUrl: required(env, 'PUBLIC_BASE_URL', 'the https URL of the CDN (e.g. https://d111.cloudfront.net)'),
    scratchDir: env.SCRATCH_DIR || DEFAULT_SCRATCH_DIR,
    engineMemoryLimit: memoryLimit(env, 'ENGINE_MEMORY_LIMIT'),
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    s3Endpoint: env.S3_ENDPOINT || undefined,
  };
}

/** Reads one SecureString parameter, decrypted. Injected so tests need no AWS. */
export type SecureParameterReader = (name: string) => Promise<string>;

/**
 * SSM GetParameter with decryption. The client is imported on first use, so the ingest function and the CLI,
 * which never read a parameter here, do not load it.
 */
export const readSecureParameter: SecureParameterReader = async (name) => {
  const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
  const out = await new SSMClient({}).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = out.Parameter?.Value;
  if (!value) throw new ConfigError(`SSM parameter ${name} is empty`);
  return value;
};

/**
 * The render function's configuration on AWS, where the pseudonym key is not in the environment (it would show
 * in the console and in the template) but in an SSM SecureString that the operator created once: the function
 * gets its name in PSEUDONYM_KEY_PARAMETER and reads it at cold start. PSEUDONYM_KEY, when set, wins, so the
 * same loader also serves hosts that have the key at hand.
 */
export async function loadRenderConfigAsync(
  env: Env = process.env,
  readParameter: SecureParameterReader = readSecureParameter,
): Promise<RenderConfig> {
  if (env.PSEUDONYM_KEY) return loadRenderConfig(env);
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
  if (env.PSEUDONYM_KEY) return loadIngestConfig(env);
  const base = ingestConfigWithKey(env, new Uint8Array(0));
  return { ...base, pseudonymKey: await pseudonymKeyFromParameter(env, readParameter) };
}

async function pseudonymKeyFromParameter(env: Env, readParameter: SecureParameterReader): Promise<Uint8Array> {
  const parameter = required(
    env,
    'PSEUDONYM_KEY_PARAMETER',
    'the name of the SSM SecureString holding the base64 pseudonym key (or set PSEUDONYM_KEY itself)',
  );
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
