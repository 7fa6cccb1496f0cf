/**
 * Typed configuration, read once. Nothing else in the code base reads `process.env`:
 * functions and the local stack call `loadConfig()` at start and pass values down.
 */

export interface IngestConfig {
  tableName: string;
  bucketName: string;
  /** Alerts older than this many days are rejected (DESIGN §5). Also how long contributions are kept. */
  horizonDays: number;
  /** Body limit after decompression. */
  maxBodyBytes: number;
  /** Cap on alerts in one batch. */
  maxAlertsPerBatch: number;
  /** How long a sensor's key and status are cached; bounds how late a revocation takes effect. */
  sensorCacheTtlMs: number;
  /** Endpoint overrides for the local stack; undefined on AWS. */
  dynamoEndpoint?: string;
  s3Endpoint?: string;
}

export class ConfigError extends Error {}

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
  return {
    tableName: required(env, 'TABLE_NAME', 'the DynamoDB table name'),
    bucketName: required(env, 'BUCKET_NAME', 'the S3 bucket name'),
    horizonDays: integer(env, 'HORIZON_DAYS', 400, 1, 3650),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 5 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxAlertsPerBatch: integer(env, 'MAX_ALERTS_PER_BATCH', 10_000, 1, 100_000),
    sensorCacheTtlMs: integer(env, 'SENSOR_CACHE_TTL_SECONDS', 60, 0, 60) * 1000,
    dynamoEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    s3Endpoint: env.S3_ENDPOINT || undefined,
  };
}

/** Exposed for the CLI, which needs to know the same limits as the service it talks to. */
export function cliEnv(env: Env = process.env): { isTty: boolean; noColor: boolean } {
  return { isTty: Boolean(process.stdout.isTTY), noColor: env.NO_COLOR !== undefined };
}
