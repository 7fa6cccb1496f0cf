/**
 * The OpenAPI 3.1 description of the ingest API, built from the same constants the handler enforces
 * (limits, the Idempotency-Key pattern, the error table, the alert fields), so it cannot drift from them.
 * test/unit/openapi.test.ts checks the alert schema against the native parser.
 */
import type { IngestLimits } from '../ingest/ingest-batch.js';
import { REQUIRED_COMPONENTS } from '../ingest/ingest-batch.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../store/table.js';
import { statusFor } from './problem.js';
import type { ErrorCode } from '../errors.js';

export const PROTOCOLS = ['tcp', 'udp', 'icmp', 'other'] as const;

/** The native alert as JSON Schema; the parser in lib/alerts/native.ts accepts exactly this. */
export const NATIVE_ALERT_SCHEMA = {
  type: 'object',
  required: ['time', 'srcIp', 'proto'],
  properties: {
    time: { type: 'string', format: 'date-time', description: 'ISO 8601 with Z or an offset; the UTC date is the alert\'s day' },
    srcIp: { type: 'string', description: 'IPv4 or IPv6 address' },
    srcPort: { type: 'integer', minimum: 0, maximum: 65535 },
    dstIp: { type: 'string', description: 'IPv4 or IPv6 address' },
    dstPort: { type: 'integer', minimum: 0, maximum: 65535 },
    proto: { type: 'string', enum: [...PROTOCOLS] },
    sigId: { type: 'integer', minimum: 0 },
    signature: { type: 'string', maxLength: 256 },
    category: { type: 'string', maxLength: 256 },
    severity: { type: 'integer', minimum: 1, maximum: 255 },
  },
} as const;

const REQUEST_ERRORS: ErrorCode[] = [
  'malformed_body',
  'invalid_alert',
  'invalid_idempotency_key',
  'signature_invalid',
  'digest_mismatch',
  'unknown_sensor',
  'sensor_revoked',
  'stale_signature',
  'idempotency_conflict',
  'too_large',
  'too_many_days',
  'rate_limited',
  'unsupported_media_type',
  'retry_later',
];

function errorResponses(): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of REQUEST_ERRORS) {
    const status = statusFor(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, unknown> = {};
  for (const [status, codes] of byStatus) {
    out[String(status)] = {
      description: `Problem (RFC 9457); code one of: ${codes.join(', ')}`,
      content: {
        'application/problem+json': {
          schema: {
            allOf: [{ $ref: '#/components/schemas/Problem' }, { properties: { code: { enum: codes } } }],
          },
        },
      },
      ...(status === 503 ? { headers: { 'Retry-After': { schema: { type: 'integer' } } } } : {}),
    };
  }
  return out;
}

export function openApiDocument(limits: IngestLimits) {
  const receipt = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Receipt' } } } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'alertgraph ingest API',
      version: '1',
      description:
        'Sensors push signed batches of IDS alerts. Every request is signed with RFC 9421 (Ed25519) covering ' +
        `${REQUIRED_COMPONENTS.map((c) => `"${c}"`).join(' ')}, with created within ±${limits.maxSkewSeconds} s; ` +
        'the body carries an RFC 9530 Content-Digest.',
    },
    paths: {
      '/v1/batches': {
        post: {
          operationId: 'postBatch',
          summary: 'Submit one batch of alerts; counted exactly once per sensor and Idempotency-Key',
          parameters: [
            { name: 'Idempotency-Key', in: 'header', required: true, schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source } },
            { name: 'Content-Digest', in: 'header', required: true, schema: { type: 'string', example: 'sha-256=:<base64>:' } },
            { name: 'Signature-Input', in: 'header', required: true, schema: { type: 'string' } },
            { name: 'Signature', in: 'header', required: true, schema: { type: 'string' } },
            { name: 'Content-Encoding', in: 'header', required: false, schema: { type: 'string', enum: ['gzip', 'identity'] } },
          ],
          requestBody: {
            required: true,
            description: `At most ${limits.maxBodyBytes} bytes after decompression and ${limits.maxAlertsPerBatch} alerts, spanning at most ${limits.maxDaysPerBatch} UTC days.`,
            content: {
              'application/x-ndjson': {
                schema: { type: 'string', description: 'Suricata EVE or Snort 3 alert_json, one object per line' },
              },
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['alerts'],
                  properties: { alerts: { type: 'array', maxItems: limits.maxAlertsPerBatch, items: { $ref: '#/components/schemas/Alert' } } },
                },
              },
            },
          },
          responses: {
            '202': { description: 'Accepted and counted', ...receipt },
            '200': { description: 'Seen before with the same digest: nothing counted again (duplicate: true)', ...receipt },
            ...errorResponses(),
          },
        },
      },
      '/healthz': { get: { operationId: 'health', responses: { '200': { description: 'The API is up' } } } },
      '/openapi.json': { get: { operationId: 'openapi', responses: { '200': { description: 'This document' } } } },
    },
    components: {
      schemas: {
        Alert: NATIVE_ALERT_SCHEMA,
        Receipt: {
          type: 'object',
          required: ['batchId', 'sensor', 'accepted', 'rejected', 'skipped', 'duplicate', 'digest', 'bytes', 'days', 'writeUnits'],
          properties: {
            batchId: { type: 'string' },
            sensor: { type: 'string' },
            accepted: { type: 'integer' },
            rejected: { type: 'integer' },
            skipped: { type: 'integer', description: 'lines that are not alerts (EVE flow, dns, ...)' },
            duplicate: { type: 'boolean' },
            digest: { type: 'string' },
            bytes: { type: 'integer' },
            days: { type: 'object', additionalProperties: { type: 'integer' } },
            writeUnits: { type: 'number', description: 'DynamoDB write capacity consumed (ReturnConsumedCapacity)' },
            beforeDeployment: {
              type: 'object',
              description: "accepted alerts dated before the sensor's registered deployment day (counted like the others)",
              properties: { deployedAt: { type: 'string', format: 'date' }, alerts: { type: 'integer' } },
            },
            rejectedLines: {
              type: 'array',
              items: { type: 'object', properties: { line: { type: 'integer' }, reason: { type: 'string' } } },
            },
          },
        },
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            code: { type: 'string' },
            detail: { type: 'string' },
          },
        },
      },
    },
  };
}
