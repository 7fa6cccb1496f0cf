/**
 * Ingest function: API Gateway HTTP API (payload v2) → the shared API → response.
 * Config, clients, the sensor key cache and the logger are built once per container, outside the handler.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadIngestConfig } from '../../lib/config.js';
import { apiRequestFromEvent } from '../../lib/http/apigw.js';
import { createIngestApi } from '../../lib/ingest/service.js';

const logger = new Logger({ serviceName: 'alertgraph-ingest' });
const api = createIngestApi(loadIngestConfig(), logger);

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  // Keys appended for one request must not leak into the next on a warm container.
  logger.resetKeys();
  logger.appendKeys({ requestId: event.requestContext?.requestId });
  const res = await api.handle(apiRequestFromEvent(event));
  return { statusCode: res.statusCode, headers: res.headers, body: res.body };
}
