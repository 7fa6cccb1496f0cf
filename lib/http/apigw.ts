/** API Gateway HTTP API (payload format 2.0) events ↔ plain API requests. Used by the Lambda and the local gateway. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiRequest } from './api.js';

export function apiRequestFromEvent(event: APIGatewayProxyEventV2): ApiRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const raw = event.body ?? '';
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: event.rawQueryString ?? '',
    headers,
    body: event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8'),
    authority: headers.host ?? event.requestContext.domainName,
    scheme: 'https',
  };
}

/** Builds the event API Gateway would send for an HTTP request; the local gateway uses it. */
export function eventFromHttp(input: {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  sourceIp: string;
  requestId: string;
  now: number;
}): APIGatewayProxyEventV2 {
  const q = input.url.indexOf('?');
  const rawPath = q === -1 ? input.url : input.url.slice(0, q);
  const rawQueryString = q === -1 ? '' : input.url.slice(q + 1);
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(input.headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === 'cookie') cookies.push(...(Array.isArray(value) ? value : [value]));
    // API Gateway joins repeated headers with commas, as RFC 9110 allows for list-valued fields.
    else headers[lower] = Array.isArray(value) ? value.join(',') : value;
  }
  const host = headers.host ?? 'localhost';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    cookies: cookies.length ? cookies : undefined,
    headers,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: { method: input.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: input.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: input.requestId,
      routeKey: '$default',
      stage: '$default',
      time: new Date(input.now).toUTCString(),
      timeEpoch: input.now,
    },
    body: input.body.length ? input.body.toString('base64') : undefined,
    isBase64Encoded: input.body.length > 0,
  };
}
