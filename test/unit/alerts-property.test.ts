import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeIp } from '../../lib/alerts/ip.js';
import { parseBatch } from '../../lib/alerts/parse.js';
import type { Alert, ParsedBatch, ParseOptions, Proto } from '../../lib/alerts/types.js';
import { ValidationError } from '../../lib/errors.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const OPTS: ParseOptions = { sensor: 'sensor-p', now: NOW, maxRejectedListed: 1_000 };
const DAY = 86_400_000;

/** Write an instant as ISO 8601 in the given zone offset (minutes), with 0–9 fraction digits. */
function writeTime(ms: number, offset: number, fractionDigits: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const local = new Date(ms + offset * 60_000).toISOString();
  const fraction = (local.slice(20, 23) + '000000').slice(0, fractionDigits);
  const zone =
    offset === 0 ? 'Z' : `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return local.slice(0, 19) + (fractionDigits > 0 ? '.' + fraction : '') + zone;
}

const text = fc.string({ unit: 'binary', maxLength: 300 });
const nativeAlert = fc.record(
  {
    ms: fc.integer({ min: NOW - 400 * DAY, max: NOW + 5 * 60_000 }),
    offset: fc.integer({ min: -14 * 60, max: 14 * 60 }),
    fractionDigits: fc.integer({ min: 0, max: 9 }),
    srcIp: fc.oneof(fc.ipV4(), fc.ipV6()),
    srcPort: fc.option(fc.integer({ min: 0, max: 65_535 }), { nil: undefined }),
    dstIp: fc.option(fc.oneof(fc.ipV4(), fc.ipV6()), { nil: undefined }),
    dstPort: fc.option(fc.integer({ min: 0, max: 65_535 }), { nil: undefined }),
    proto: fc.constantFrom<Proto>('tcp', 'udp', 'icmp', 'other'),
    sigId: fc.option(fc.nat(), { nil: undefined }),
    signature: fc.option(text, { nil: undefined }),
    category: fc.option(text, { nil: undefined }),
    severity: fc.option(fc.integer({ min: 1, max: 255 }), { nil: undefined }),
  },
  { requiredKeys: [] },
);
type Generated = typeof nativeAlert extends fc.Arbitrary<infer T> ? T : never;

describe('parseBatch properties', () => {
  it('any valid native alert round-trips to the normalized Alert', () => {
    fc.assert(
      fc.property(fc.array(nativeAlert, { maxLength: 20 }), (generated: Generated[]) => {
        const wire = generated.map((g) => ({
          time: writeTime(g.ms ?? NOW, g.offset ?? 0, g.fractionDigits ?? 3),
          srcIp: g.srcIp ?? '192.0.2.1',
          srcPort: g.srcPort,
          dstIp: g.dstIp,
          dstPort: g.dstPort,
          proto: g.proto ?? 'tcp',
          sigId: g.sigId,
          signature: g.signature,
          category: g.category,
          severity: g.severity,
        }));
        const r = parseBatch(JSON.stringify({ alerts: wire }), 'native', OPTS);
        expect(r.rejected).toEqual([]);
        expect(r.alerts).toHaveLength(wire.length);
        r.alerts.forEach((a: Alert, i) => {
          const w = wire[i]!;
          expect(a.sensor).toBe('sensor-p');
          // Fewer than 3 fraction digits written means the lost milliseconds are gone (truncated, not rounded).
          const ms = generated[i]!.ms ?? NOW;
          const digits = generated[i]!.fractionDigits ?? 3;
          expect(a.time).toBe(digits >= 3 ? ms : ms - (ms % 10 ** (3 - digits)));
          expect(a.srcIp).toBe(normalizeIp(w.srcIp));
          expect(a.dstIp).toBe(w.dstIp === undefined ? undefined : normalizeIp(w.dstIp));
          expect(a.proto).toBe(w.proto);
          expect(a.srcPort).toBe(w.proto === 'icmp' ? undefined : w.srcPort);
          expect(a.dstPort).toBe(w.proto === 'icmp' ? undefined : w.dstPort);
          expect(a.sigId).toBe(w.sigId);
          expect(a.severity).toBe(w.severity);
          for (const key of ['signature', 'category'] as const) {
            const sent = w[key];
            const got = a[key];
            if (sent === undefined) {
              expect(got).toBeUndefined();
            } else {
              expect(sent.startsWith(got!)).toBe(true);
              expect(got!.length).toBe(Math.min(sent.length, got!.length));
              expect(got!.length >= Math.min(sent.length, 255)).toBe(true);
              expect(got!.length <= 256).toBe(true);
            }
          }
        });
      }),
      { numRuns: 200 },
    );
  });

  // A pool of NDJSON lines of every kind; each non-blank line must land in exactly one bucket.
  const eveLine = (o: Record<string, unknown>) =>
    JSON.stringify({ timestamp: '2026-11-21T10:00:00.000000+0100', event_type: 'alert', src_ip: '192.0.2.1', proto: 'TCP', ...o });
  const pool = [
    eveLine({}),
    eveLine({ src_ip: '2001:DB8::1', dest_port: 443 }),
    eveLine({ timestamp: '2020-01-01T00:00:00Z' }),
    eveLine({ src_ip: 'nope' }),
    eveLine({ x: { y: [1, { z: 2 }] } }),
    '{"event_type":"flow","flow":{}}',
    '{"event_type":"dns"}',
    '{ "seconds" : 1795255200, "src_ap" : "198.51.100.1:1", "dst_ap" : "192.0.2.1:80", "proto" : "TCP", "rule" : "1:2:3" }',
    '{ "timestamp" : "11/21-10:00:00.123456", "src_addr" : "198.51.100.1" }',
    '{"hello":1}',
    '{"__proto__":{"a":1},"event_type":"alert"}',
    '[' .repeat(40) + ']'.repeat(40),
    'not json',
    '{"truncated":',
    '42',
    '',
    '   ',
    '\r',
  ];

  const accounted = (r: ParsedBatch) => r.alerts.length + r.skipped + r.rejectedCount;

  it("alerts + skipped + rejected == non-blank lines ('ndjson')", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pool), { maxLength: 60 }), fc.boolean(), (picked, crlf) => {
        const body = picked.join(crlf ? '\r\n' : '\n');
        const nonBlank = picked.filter((l) => l.trim() !== '').length;
        let r: ParsedBatch;
        try {
          r = parseBatch(body, 'ndjson', OPTS);
        } catch (err) {
          // Only a body without a single JSON object may be refused as a whole.
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).code).toBe('malformed_body');
          expect(picked.some((l) => l.trim().startsWith('{') && !l.includes('truncated'))).toBe(false);
          return;
        }
        expect(accounted(r)).toBe(nonBlank);
        expect(r.rejected).toHaveLength(r.rejectedCount);
        for (const rej of r.rejected) expect(picked[rej.line - 1]?.trim()).not.toBe('');
      }),
      { numRuns: 300 },
    );
  });

  it('splitting a body at any line boundary and parsing the halves gives the same result', () => {
    const objectLines = pool.filter((l) => l.startsWith('{') && !l.includes('truncated'));
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pool), { maxLength: 40 }),
        fc.constantFrom(...objectLines),
        fc.constantFrom(...objectLines),
        fc.nat(),
        (middle, first, last, cut) => {
          // One object line at each end keeps both halves from being refused as malformed_body.
          const all = [first, ...middle, last];
          const at = 1 + (cut % all.length);
          const whole = parseBatch(all.join('\n'), 'ndjson', OPTS);
          const a = parseBatch(all.slice(0, at).join('\n'), 'ndjson', OPTS);
          const b = parseBatch(all.slice(at).join('\n'), 'ndjson', OPTS);
          expect(whole.alerts).toEqual([...a.alerts, ...b.alerts]);
          expect(whole.skipped).toBe(a.skipped + b.skipped);
          expect(whole.rejected).toEqual([...a.rejected, ...b.rejected.map((x) => ({ ...x, line: x.line + at }))]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
