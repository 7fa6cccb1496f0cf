/**
 * Ingest function: API Gateway HTTP API (payload v2) → the shared API → response.
 * Config, clients, the sensor key cache and the logger are built once per container, outside the handler.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadIngestConfigAsync } from '../../lib/config.js';
import { apiRequestFromEvent } from '../../lib/http/apigw.js';
import { createIngestApi } from '../../lib/ingest/service.js';
import { signedParameterReader } from '../../lib/store/ssm-parameter.js';

const logger = new Logger({ serviceName: 'alertgraph-ingest' });
const metrics = new Metrics({ namespace: 'alertgraph', serviceName: 'alertgraph-ingest' });
// Top-level await (the bundle is ESM): the pseudonym key is read from SSM once, during the init phase, signed
// with the credentials and region an SDK client resolves (the function's role).
const readParameter = (name: string) => signedParameterReader(new DynamoDBClient({}).config)(name);
const api = createIngestApi(await loadIngestConfigAsync(readParameter), logger, {
  // Embedded-metric-format lines: alerts, refusals by code and write units, without a PutMetricData call.
  onBatch: (o) => {
    if (o.ok) {
      metrics.addMetric('AcceptedAlerts', MetricUnit.Count, o.accepted);
      metrics.addMetric('RejectedAlerts', MetricUnit.Count, o.rejected);
      metrics.addMetric('WriteUnits', MetricUnit.Count, o.writeUnits);
      if (o.duplicate) metrics.addMetric('DuplicateBatches', MetricUnit.Count, 1);
    } else {
      const refusal = metrics.singleMetric();
      refusal.addDimension('code', o.code);
      refusal.addMetric('RefusedBatches', MetricUnit.Count, 1);
    }
  },
});

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  // Keys appended for one request must not leak into the next on a warm container.
  logger.resetKeys();
  logger.appendKeys({ requestId: event.requestContext?.requestId });
  try {
    const res = await api.handle(apiRequestFromEvent(event));
    return { statusCode: res.statusCode, headers: res.headers, body: res.body };
  } finally {
    // Only batch requests add metrics; /healthz and /openapi.json would otherwise log an empty-metrics warning.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
