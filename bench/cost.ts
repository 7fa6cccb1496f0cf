/**
 * The cost model of the README, per million alerts, from measured figures. Unit prices: us-east-1, on-demand,
 * as listed in docs/DEPLOY.md. Fixed monthly costs (render schedule, CloudFront, alarms) do not depend on the
 * number of alerts and are left out of this figure.
 */
export const PRICES = {
  apiGatewayPerMillionRequests: 1.0,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  dynamoPerMillionWriteUnits: 0.625,
  dynamoStoragePerGbMonth: 0.25,
  s3PutPerThousand: 0.005,
  s3StoragePerGbMonth: 0.023,
} as const;

export interface CostInputs {
  alertsPerBatch: number;
  writeUnitsPer1000Alerts: number;
  /** Ingest function duration per batch (ms) and memory (MB). */
  ingestMsPerBatch: number;
  ingestMemoryMb: number;
  /** Compressed raw bytes per alert (the archive) and DynamoDB bytes per batch. */
  rawBytesPerAlert: number;
  dynamoBytesPerBatch: number;
  /** Months a day's data is kept (DynamoDB contributions: the 400-day horizon ≈ 13 months; raw: retention). */
  dynamoMonths: number;
  rawMonths: number;
}

export function usdPerMillionAlerts(c: CostInputs): { total: number; parts: Record<string, number> } {
  const batches = 1_000_000 / c.alertsPerBatch;
  const gb = 1024 ** 3;
  const parts = {
    apiGateway: (batches / 1e6) * PRICES.apiGatewayPerMillionRequests,
    lambdaRequests: (batches / 1e6) * PRICES.lambdaPerMillionRequests,
    lambdaCompute: batches * (c.ingestMsPerBatch / 1000) * (c.ingestMemoryMb / 1024) * PRICES.lambdaArmPerGbSecond,
    dynamoWrites: ((c.writeUnitsPer1000Alerts * 1000) / 1e6) * PRICES.dynamoPerMillionWriteUnits,
    dynamoStorage: ((batches * c.dynamoBytesPerBatch) / gb) * PRICES.dynamoStoragePerGbMonth * c.dynamoMonths,
    s3Puts: (batches / 1000) * PRICES.s3PutPerThousand,
    s3Storage: ((1_000_000 * c.rawBytesPerAlert) / gb) * PRICES.s3StoragePerGbMonth * c.rawMonths,
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  return { total, parts };
}
