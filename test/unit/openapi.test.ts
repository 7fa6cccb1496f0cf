/**
 * The OpenAPI document is built from the handler's own constants; this checks its alert schema against the
 * native parser in both directions: what the schema allows is accepted, what it forbids is rejected.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBatch } from '../../lib/alerts/parse.js';
import { DEFAULT_LIMITS } from '../../lib/ingest/ingest-batch.js';
import { NATIVE_ALERT_SCHEMA, openApiDocument, PROTOCOLS } from '../../lib/http/openapi.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../../lib/store/table.js';

const now = Date.parse('2026-11-22T12:00:00Z');
const props = NATIVE_ALERT_SCHEMA.properties;

function parseOne(alert: Record<string, unknown>) {
  return parseBatch(JSON.stringify({ alerts: [alert] }), 'native', { sensor: 's', now });
}

const validAlert = fc.record(
  {
    time: fc.integer({ min: now - 399 * 86_400_000, max: now }).map((t) => new Date(t).toISOString()),
    srcIp: fc.oneof(fc.ipV4(), fc.constantFrom('2001:db8::1', '2001:db8:0:1::7')),
    srcPort: fc.integer({ min: props.srcPort.minimum, max: props.srcPort.maximum }),
    dstIp: fc.ipV4(),
    dstPort: fc.integer({ min: props.dstPort.minimum, max: props.dstPort.maximum }),
    proto: fc.constantFrom(...props.proto.enum),
    sigId: fc.integer({ min: props.sigId.minimum, max: 2 ** 31 }),
    signature: fc.string({ maxLength: props.signature.maxLength }),
    category: fc.string({ maxLength: props.category.maxLength }),
    severity: fc.integer({ min: props.severity.minimum, max: props.severity.maximum }),
  },
  { requiredKeys: [...NATIVE_ALERT_SCHEMA.required] },
);

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and states the limits and patterns the handler enforces', () => {
    const doc = openApiDocument(DEFAULT_LIMITS);
    expect(doc.openapi).toBe('3.1.0');
    const post = doc.paths['/v1/batches'].post;
    const keyParam = post.parameters.find((p) => p.name === 'Idempotency-Key')!;
    expect(new RegExp(keyParam.schema.pattern!).source).toBe(IDEMPOTENCY_KEY_PATTERN.source);
    expect(post.requestBody.content['application/json'].schema.properties.alerts.maxItems).toBe(DEFAULT_LIMITS.maxAlertsPerBatch);
    expect(Object.keys(post.responses).sort()).toEqual(['200', '202', '400', '401', '409', '413', '415', '429', '503']);
    expect([...props.proto.enum]).toEqual([...PROTOCOLS]);
  });

  it('property: every alert the schema allows is accepted by the native parser', () => {
    fc.assert(
      fc.property(validAlert, (alert) => {
        const parsed = parseOne(alert);
        expect(parsed.rejected).toEqual([]);
        expect(parsed.alerts).toHaveLength(1);
      }),
    );
  });

  it('every constraint of the schema is enforced by the parser', () => {
    const base = { time: '2026-11-22T10:00:00Z', srcIp: '192.0.2.1', proto: 'tcp' };
    expect(parseOne(base).alerts).toHaveLength(1);
    for (const field of NATIVE_ALERT_SCHEMA.required) {
      const { [field]: _dropped, ...rest } = base;
      expect(parseOne(rest).rejectedCount, `without ${field}`).toBe(1);
    }
    const violations: Record<string, unknown[]> = {
      time: ['yesterday', '2026-11-22T10:00:00' /* no offset: ambiguous */],
      srcIp: ['300.1.1.1', 'example.org'],
      srcPort: [props.srcPort.minimum - 1, props.srcPort.maximum + 1, 1.5, '80'],
      dstIp: ['not an address'],
      dstPort: [props.dstPort.maximum + 1, -1],
      proto: ['sctp', 'TCP ', 6],
      sigId: [-1, 1.5],
      severity: [props.severity.minimum - 1, props.severity.maximum + 1],
    };
    for (const [field, values] of Object.entries(violations)) {
      for (const value of values) {
        expect(parseOne({ ...base, [field]: value }).rejectedCount, `${field}=${JSON.stringify(value)}`).toBe(1);
      }
    }
  });
});
