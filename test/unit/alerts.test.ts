import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { detectLineFormat, detectNdjsonFormat, formatFromContentType, parseBatch } from '../../lib/alerts/parse.js';
import { utcDay } from '../../lib/alerts/time.js';
import type { Alert, BatchFormat, ParseOptions } from '../../lib/alerts/types.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/alerts/${name}`, import.meta.url), 'utf8');

const NOW = Date.parse('2026-11-22T12:00:00Z');
const OPTS: ParseOptions = { sensor: 'sensor-a', now: NOW };
const iso = (s: string): number => Date.parse(s);

/** The error parseBatch throws (fails the test if it does not throw a ValidationError). */
function thrown(body: string, format: BatchFormat, opts: ParseOptions = OPTS): ValidationError {
  try {
    parseBatch(body, format, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected parseBatch to throw');
}

const eveAlert = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  timestamp: '2026-11-21T10:00:00.000000+0000',
  event_type: 'alert',
  src_ip: '203.0.113.5',
  src_port: 1234,
  dest_ip: '192.0.2.10',
  dest_port: 80,
  proto: 'TCP',
  alert: { signature_id: 1, signature: 'sig', category: 'cat', severity: 2 },
  ...fields,
});
const lines = (...objs: unknown[]): string => objs.map((o) => (typeof o === 'string' ? o : JSON.stringify(o))).join('\n');

describe('Suricata EVE', () => {
  it('parses the mixed fixture: alerts in UTC, other event types skipped, bad lines rejected', () => {
    const r = parseBatch(fixture('eve-mixed.ndjson'), 'eve', OPTS);
    expect(r.alerts).toEqual<Alert[]>([
      {
        time: iso('2026-11-21T23:30:00.123Z'),
        sensor: 'sensor-a',
        srcIp: '203.0.113.5',
        srcPort: 51000,
        dstIp: '192.0.2.10',
        dstPort: 445,
        proto: 'tcp',
        sigId: 2403388,
        signature: 'ET CINS Active Threat Intelligence Poor Reputation IP group 89',
        category: 'Misc Attack',
        severity: 2,
      },
      {
        time: iso('2026-11-22T01:15:00.500Z'),
        sensor: 'sensor-a',
        srcIp: '198.51.100.7',
        srcPort: 40000,
        dstIp: '192.0.2.10',
        dstPort: 22,
        proto: 'tcp',
        sigId: 2001219,
        signature: 'ET SCAN Potential SSH Scan',
        category: 'Attempted Information Leak',
        severity: 2,
      },
      {
        time: iso('2026-11-21T23:59:59.999Z'),
        sensor: 'sensor-a',
        srcIp: '2001:db8::1',
        dstIp: '2001:db8::1:0:0:1',
        proto: 'icmp',
        sigId: 2100368,
        signature: 'GPL ICMP_INFO PING BSDtype',
        category: 'Misc activity',
        severity: 3,
      },
      {
        time: iso('2026-11-22T09:00:00.123Z'),
        sensor: 'sensor-a',
        srcIp: '203.0.113.77',
        srcPort: 5353,
        dstIp: '192.0.2.53',
        dstPort: 53,
        proto: 'udp',
        sigId: 2027758,
        signature: 'ET DNS Query for .cc TLD',
        category: 'Potentially Bad Traffic',
        severity: 2,
      },
    ]);
    expect(r.skipped).toBe(4); // flow, dns, stats, tls
    expect(r.rejected).toEqual([
      { line: 8, reason: 'not valid JSON' },
      { line: 10, reason: 'timestamp has no UTC offset (ambiguous)' },
    ]);
    expect(r.rejectedCount).toBe(2);
  });

  it('counts by the UTC day, not the local date the sensor wrote', () => {
    const r = parseBatch(fixture('eve-mixed.ndjson'), 'eve', OPTS);
    expect(r.alerts.map((a) => utcDay(a.time))).toEqual(['2026-11-21', '2026-11-22', '2026-11-21', '2026-11-22']);
  });

  it('maps protocol names and numbers', () => {
    const protos = ['TCP', 'UDP', 'ICMP', 'IPv6-ICMP', 'ICMPv6', 'SCTP', '6', '17', '1', '58', 6, 17, 1, 58, 132, undefined];
    const body = lines(...protos.map((p) => eveAlert({ proto: p })));
    const r = parseBatch(body, 'eve', OPTS);
    expect(r.alerts.map((a) => a.proto)).toEqual([
      'tcp', 'udp', 'icmp', 'icmp', 'icmp', 'other', 'tcp', 'udp', 'icmp', 'icmp', 'tcp', 'udp', 'icmp', 'icmp', 'other', 'other',
    ]);
  });

  it('drops ports on ICMP alerts, even invalid ones', () => {
    const r = parseBatch(lines(eveAlert({ proto: 'ICMP', src_port: 'x', dest_port: 8 })), 'eve', OPTS);
    expect(r.rejectedCount).toBe(0);
    expect(r.alerts[0]).not.toHaveProperty('srcPort');
    expect(r.alerts[0]).not.toHaveProperty('dstPort');
  });

  it('rejects lines whose fields are invalid, naming the EVE field', () => {
    const r = parseBatch(
      lines(
        eveAlert({ src_ip: undefined }),
        eveAlert({ src_ip: '999.1.1.1' }),
        eveAlert({ dest_ip: 'example.org' }),
        eveAlert({ src_port: 70000 }),
        eveAlert({ dest_port: '80' }),
        eveAlert({ alert: { signature_id: -1 } }),
        eveAlert({ alert: { severity: 0 } }),
        eveAlert({ alert: { signature: 7 } }),
        eveAlert({ alert: 'nope' }),
        eveAlert({ timestamp: undefined }),
        eveAlert({ timestamp: '2026-02-30T10:00:00Z' }),
        eveAlert({ event_type: undefined }),
        { event_type: 'alert', timestamp: 12 },
      ),
      'eve',
      OPTS,
    );
    expect(r.alerts).toEqual([]);
    expect(r.rejected).toEqual([
      { line: 1, reason: 'missing src_ip' },
      { line: 2, reason: 'invalid src_ip: not an IPv4 or IPv6 address' },
      { line: 3, reason: 'invalid dest_ip: not an IPv4 or IPv6 address' },
      { line: 4, reason: 'invalid src_port: expected an integer 0-65535' },
      { line: 5, reason: 'invalid dest_port: expected an integer 0-65535' },
      { line: 6, reason: 'invalid alert.signature_id: expected a non-negative integer' },
      { line: 7, reason: 'invalid alert.severity: expected an integer 1-255' },
      { line: 8, reason: 'invalid alert.signature: expected a string' },
      { line: 9, reason: 'invalid alert: expected an object' },
      { line: 10, reason: 'missing timestamp' },
      { line: 11, reason: 'invalid timestamp: expected ISO 8601 with a UTC offset' },
      { line: 12, reason: 'missing event_type' },
      { line: 13, reason: 'invalid timestamp: expected an ISO 8601 string' },
    ]);
  });

  it('truncates long signature and category texts to 256 characters without splitting a surrogate pair', () => {
    const long = 'x'.repeat(255) + '😀' + 'y'.repeat(10);
    const r = parseBatch(lines(eveAlert({ alert: { signature: long, category: 'c'.repeat(300) } })), 'eve', OPTS);
    expect(r.alerts[0]?.signature).toBe('x'.repeat(255));
    expect(r.alerts[0]?.category).toBe('c'.repeat(256));
  });

  it('accepts an alert without the alert object (no rule fields)', () => {
    const r = parseBatch(lines(eveAlert({ alert: undefined })), 'eve', OPTS);
    expect(r.alerts).toEqual([
      { time: iso('2026-11-21T10:00:00Z'), sensor: 'sensor-a', srcIp: '203.0.113.5', srcPort: 1234, dstIp: '192.0.2.10', dstPort: 80, proto: 'tcp' },
    ]);
  });
});

describe('Snort 3 alert_json', () => {
  it('parses the fixture: seconds preferred, *_ap split, year-less and local timestamps rejected', () => {
    const r = parseBatch(fixture('snort3.ndjson'), 'snort', OPTS);
    expect(r.alerts).toEqual<Alert[]>([
      {
        time: iso('2026-11-21T10:00:00Z'),
        sensor: 'sensor-a',
        srcIp: '198.51.100.23',
        srcPort: 49152,
        dstIp: '192.0.2.80',
        dstPort: 80,
        proto: 'tcp',
        sigId: 1000001,
        signature: 'LOCAL web probe',
        category: 'Web Application Attack',
        severity: 1,
      },
      {
        time: iso('2026-11-21T10:01:00Z'),
        sensor: 'sensor-a',
        srcIp: '198.51.100.24',
        srcPort: 5060,
        dstIp: '192.0.2.81',
        dstPort: 5060,
        proto: 'udp',
        sigId: 2008578,
      },
      {
        time: iso('2026-11-21T10:02:00Z'),
        sensor: 'sensor-a',
        srcIp: '2001:db8::7',
        srcPort: 443,
        dstIp: '2001:db8::80',
        dstPort: 51515,
        proto: 'tcp',
        sigId: 1000002,
        signature: 'LOCAL tls oddity',
        severity: 2,
      },
      {
        time: iso('2026-11-21T11:30:00.250Z'),
        sensor: 'sensor-a',
        srcIp: '203.0.113.99',
        dstIp: '192.0.2.1',
        proto: 'icmp',
        sigId: 384,
        signature: 'PROTOCOL-ICMP PING',
        category: 'Misc activity',
        severity: 3,
      },
    ]);
    expect(r.skipped).toBe(0);
    expect(r.rejected).toEqual([
      { line: 2, reason: "timestamp has no year; add 'seconds' to alert_json fields" },
      {
        line: 5,
        reason: "ambiguous src_ap: an IPv6 address with a port needs brackets; add 'src_addr' to alert_json fields",
      },
      {
        line: 7,
        reason: "timestamp is local time without a UTC offset (ambiguous); add 'seconds' to alert_json fields",
      },
    ]);
  });

  it('prefers src_addr/dst_addr over the *_ap pairs and explains a missing time', () => {
    const r = parseBatch(
      lines(
        { seconds: NOW / 1000 - 60, src_addr: '192.0.2.1', src_ap: '2001:db8::1:80', dst_ap: '192.0.2.2:8080', proto: 'TCP' },
        { src_addr: '192.0.2.1', proto: 'TCP' },
        { seconds: 1.5, src_addr: '192.0.2.1' },
        { seconds: NOW / 1000, timestamp: 'garbage', src_addr: '192.0.2.1', dst_ap: '192.0.2.2:http' },
      ),
      'snort',
      OPTS,
    );
    expect(r.alerts).toEqual([
      { time: NOW - 60_000, sensor: 'sensor-a', srcIp: '192.0.2.1', dstIp: '192.0.2.2', dstPort: 8080, proto: 'tcp' },
    ]);
    expect(r.rejected).toEqual([
      { line: 2, reason: "missing time; add 'seconds' to alert_json fields" },
      { line: 3, reason: 'invalid seconds: expected a non-negative integer' },
      { line: 4, reason: 'invalid dst_ap: bad port' },
    ]);
  });
});

describe('NDJSON framing', () => {
  it("auto-detects EVE and Snort per line with format 'ndjson'", () => {
    const body = fixture('eve-mixed.ndjson') + '\n' + fixture('snort3.ndjson');
    const r = parseBatch(body, 'ndjson', OPTS);
    const eve = parseBatch(fixture('eve-mixed.ndjson'), 'eve', OPTS);
    const snort = parseBatch(fixture('snort3.ndjson'), 'snort', OPTS);
    expect(r.alerts).toEqual([...eve.alerts, ...snort.alerts]);
    expect(r.skipped).toBe(eve.skipped);
    expect(r.rejectedCount).toBe(eve.rejectedCount + snort.rejectedCount);
  });

  it("rejects an object that is neither EVE nor Snort under 'ndjson'", () => {
    const r = parseBatch('{"hello":"world"}', 'ndjson', OPTS);
    expect(r.rejected).toEqual([{ line: 1, reason: 'not an EVE record (no event_type), a Snort alert_json record nor an IDEA record ("Format": "IDEA0")' }]);
  });

  it('detects the dialect of an object', () => {
    expect(detectNdjsonFormat({ event_type: 'flow' })).toBe('eve');
    expect(detectNdjsonFormat({ seconds: 1 })).toBe('snort');
    expect(detectLineFormat({ msg: 'x', sid: 1 })).toBe('snort');
    expect(detectLineFormat({ hello: 1 })).toBeUndefined();
    expect(detectLineFormat([1])).toBeUndefined();
  });

  it('ignores blank lines but keeps physical line numbers; accepts CRLF and a BOM', () => {
    const body = '\uFEFF\r\n  \n' + JSON.stringify(eveAlert()) + '\r\n\t\r\nnot json\r\n\n';
    const r = parseBatch(body, 'eve', OPTS);
    expect(r.alerts).toHaveLength(1);
    expect(r.rejected).toEqual([{ line: 5, reason: 'not valid JSON' }]);
    expect(r.skipped).toBe(0);
  });

  it('rejects JSON values that are not objects, line by line', () => {
    const r = parseBatch(lines(eveAlert(), '[1,2]', '"text"', 'null', '42'), 'eve', OPTS);
    expect(r.alerts).toHaveLength(1);
    expect(r.rejected.map((x) => x.reason)).toEqual(Array(4).fill('not a JSON object'));
    expect(r.rejected.map((x) => x.line)).toEqual([2, 3, 4, 5]);
  });

  it('treats an empty or blank NDJSON body as a heartbeat', () => {
    for (const body of ['', '\n\n', '  \r\n']) {
      for (const format of ['eve', 'snort', 'ndjson'] as const) {
        expect(parseBatch(body, format, OPTS)).toEqual({ alerts: [], rejected: [], rejectedCount: 0, skipped: 0 });
      }
    }
  });

  it('refuses an empty or whitespace-only JSON body as malformed_body: the JSON heartbeat is {"alerts":[]} (DESIGN §4)', () => {
    for (const body of ['', ' ', '\n\n', '  \r\n\t']) {
      expect(thrown(body, 'native').code, JSON.stringify(body)).toBe('malformed_body');
    }
    expect(parseBatch(' {"alerts":[]}\n', 'native', OPTS)).toEqual({ alerts: [], rejected: [], rejectedCount: 0, skipped: 0 });
  });

  it('throws malformed_body when no line is a JSON object', () => {
    for (const body of ['<html><body>502 Bad Gateway</body></html>', '\u0000\u0001\u00ff\u0002garbage\n\u0003', '[1]\n2\n"x"']) {
      const err = thrown(body, 'eve');
      expect(err.code).toBe('malformed_body');
    }
  });

  it('does not throw when at least one line is an object, even if nothing is accepted', () => {
    const r = parseBatch('garbage\n{"event_type":"flow"}', 'eve', OPTS);
    expect(r).toMatchObject({ alerts: [], skipped: 1, rejectedCount: 1 });
  });

  it('rejects lines over 64 KiB without parsing them', () => {
    const big = JSON.stringify(eveAlert({ pad: 'x'.repeat(70_000) }));
    const wide = JSON.stringify(eveAlert({ pad: '€'.repeat(22_000) })); // < 64 Ki UTF-16 units, > 64 KiB of UTF-8
    const r = parseBatch(lines(big, eveAlert(), wide), 'eve', OPTS);
    expect(r.alerts).toHaveLength(1);
    expect(r.rejected).toEqual([
      { line: 1, reason: 'line too long (over 65536 bytes)' },
      { line: 3, reason: 'line too long (over 65536 bytes)' },
    ]);
  });

  it('a body of only over-long object lines is not malformed', () => {
    const r = parseBatch(JSON.stringify(eveAlert({ pad: 'x'.repeat(70_000) })), 'eve', OPTS);
    expect(r.rejectedCount).toBe(1);
  });

  it('caps the listed rejections but counts them all', () => {
    const body = lines(...Array.from({ length: 250 }, () => 'nope'), eveAlert());
    const r = parseBatch(body, 'eve', OPTS);
    expect(r.rejectedCount).toBe(250);
    expect(r.rejected).toHaveLength(100);
    expect(r.rejected.at(-1)).toEqual({ line: 100, reason: 'not valid JSON' });
    expect(parseBatch(body, 'eve', { ...OPTS, maxRejectedListed: 3 }).rejected).toHaveLength(3);
  });

  it('throws too_large past maxAlerts (rejected alert lines count; skipped lines do not)', () => {
    const ok = lines(eveAlert(), eveAlert(), { event_type: 'flow' }, { event_type: 'flow' });
    expect(parseBatch(ok, 'eve', { ...OPTS, maxAlerts: 2 }).alerts).toHaveLength(2);
    expect(thrown(lines(eveAlert(), eveAlert(), eveAlert()), 'eve', { ...OPTS, maxAlerts: 2 }).code).toBe('too_large');
    expect(thrown(lines(eveAlert(), eveAlert(), 'bad'), 'eve', { ...OPTS, maxAlerts: 2 }).code).toBe('too_large');
    const many = lines(...Array.from({ length: 10_001 }, () => eveAlert()));
    expect(thrown(many, 'eve').code).toBe('too_large');
  });
});

describe('time limits', () => {
  const at = (t: string) => eveAlert({ timestamp: t });

  it('rejects alerts older than the horizon and more than 5 minutes ahead', () => {
    const r = parseBatch(
      lines(
        at('2025-10-18T12:00:00Z'), // exactly 400 days: kept
        at('2025-10-18T11:59:59.999Z'),
        at('2026-11-22T12:05:00Z'), // exactly 5 minutes ahead: kept
        at('2026-11-22T12:05:00.001Z'),
        at('2026-11-22T14:04:00+0200'), // 12:04 UTC
      ),
      'eve',
      OPTS,
    );
    expect(r.alerts.map((a) => a.time)).toEqual([
      iso('2025-10-18T12:00:00Z'),
      iso('2026-11-22T12:05:00Z'),
      iso('2026-11-22T12:04:00Z'),
    ]);
    expect(r.rejected).toEqual([
      { line: 2, reason: 'older than the 400-day horizon' },
      { line: 4, reason: 'more than 5 minutes in the future' },
    ]);
  });

  it('honours configured limits', () => {
    const r = parseBatch(
      lines(at('2026-11-20T11:00:00Z'), at('2026-11-22T12:00:31Z')),
      'eve',
      { ...OPTS, horizonDays: 2, maxFutureMs: 30_000 },
    );
    expect(r.rejected).toEqual([
      { line: 1, reason: 'older than the 2-day horizon' },
      { line: 2, reason: 'more than 30 s in the future' },
    ]);
  });
});

describe('hostile input', () => {
  it('rejects lines with forbidden keys anywhere, including escaped spellings', () => {
    const base = JSON.stringify(eveAlert()).slice(0, -1);
    const r = parseBatch(
      lines(
        `${base},"__proto__":{"polluted":true}}`,
        `${base},"flow":{"constructor":{"prototype":1}}}`,
        `${base},"http":[{"x":{"prototype":1}}]}`,
        `${base},"\\u005f_proto__":{"polluted":true}}`,
        eveAlert({ alert: { signature: 'constructor prototype __proto__' } }), // only values: fine
      ),
      'eve',
      OPTS,
    );
    expect(r.rejected).toEqual([
      { line: 1, reason: 'forbidden key __proto__' },
      { line: 2, reason: 'forbidden key constructor' },
      { line: 3, reason: 'forbidden key prototype' },
      { line: 4, reason: 'forbidden key __proto__' },
    ]);
    expect(r.alerts).toHaveLength(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects deep nesting without crashing, and allows exactly 32 levels', () => {
    const deepArrays = '['.repeat(10_000) + ']'.repeat(10_000);
    const deepInAlert = JSON.stringify(eveAlert()).slice(0, -1) + ',"x":' + '{"a":'.repeat(40) + '1' + '}'.repeat(40) + '}';
    const at32 = JSON.stringify(eveAlert()).slice(0, -1) + ',"x":' + '['.repeat(31) + ']'.repeat(31) + '}';
    const at33 = JSON.stringify(eveAlert()).slice(0, -1) + ',"x":' + '['.repeat(32) + ']'.repeat(32) + '}';
    // Brackets inside strings do not nest.
    const bracketsInString = JSON.stringify(eveAlert({ payload_printable: '{'.repeat(100) + '['.repeat(100) }));
    const r = parseBatch(lines(deepArrays, deepInAlert, at32, at33, bracketsInString), 'eve', OPTS);
    expect(r.rejected).toEqual([
      { line: 1, reason: 'nesting too deep (over 32 levels)' },
      { line: 2, reason: 'nesting too deep (over 32 levels)' },
      { line: 4, reason: 'nesting too deep (over 32 levels)' },
    ]);
    expect(r.alerts).toHaveLength(2);
  });

  it('scans lines with very many brackets exactly: wide is fine, escaped quotes do not fool it, bombs are refused', () => {
    const wide = JSON.stringify(eveAlert({ list: Array.from({ length: 2000 }, () => ({ a: [] })) }));
    const escaped = JSON.stringify(eveAlert({ p: 'a\\"' + '['.repeat(2000), q: '\\' }));
    const bomb = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const r = parseBatch(lines(wide, escaped, bomb), 'eve', OPTS);
    expect(r.alerts).toHaveLength(2);
    expect(r.rejected).toEqual([{ line: 3, reason: 'nesting too deep (over 32 levels)' }]);
    // A body of nothing but bombs is still made of objects: rejected line by line, not malformed.
    expect(parseBatch(bomb, 'eve', OPTS).rejectedCount).toBe(1);
  });
});

describe('native JSON', () => {
  it('parses the fixture; ignores sensor and unknown fields; numbers lines by array index', () => {
    const r = parseBatch(fixture('native-valid.json'), 'native', OPTS);
    expect(r.alerts).toEqual<Alert[]>([
      { time: iso('2026-11-21T10:00:00Z'), sensor: 'sensor-a', srcIp: '198.51.100.7', dstPort: 445, proto: 'tcp' },
      {
        time: iso('2026-11-22T04:30:00.500Z'),
        sensor: 'sensor-a',
        srcIp: '2001:db8::1',
        srcPort: 123,
        dstIp: '2001:db8::2',
        dstPort: 123,
        proto: 'udp',
        sigId: 42,
        signature: 'LOCAL NTP monlist',
        category: 'Attempted Denial of Service',
        severity: 3,
      },
    ]);
    expect(r.rejected).toEqual([
      { line: 3, reason: 'time has no UTC offset (ambiguous)' },
      { line: 4, reason: 'invalid srcIp: not an IPv4 or IPv6 address' },
    ]);
    expect(r.skipped).toBe(0);
  });

  it('validates proto and time strictly', () => {
    const body = JSON.stringify({
      alerts: [
        { time: '2026-11-21T10:00:00Z', srcIp: '192.0.2.1' },
        { time: '2026-11-21T10:00:00Z', srcIp: '192.0.2.1', proto: 'TCP' },
        { time: 1795255200000, srcIp: '192.0.2.1', proto: 'tcp' },
        { srcIp: '192.0.2.1', proto: 'tcp' },
        { time: '2026-11-21T10:00:00+01:00', srcIp: '192.0.2.1', proto: 'other', srcPort: 1.5 },
        7,
        null,
        [],
      ],
    });
    const r = parseBatch(body, 'native', OPTS);
    expect(r.alerts).toEqual([]);
    expect(r.rejected).toEqual([
      { line: 1, reason: 'missing proto' },
      { line: 2, reason: 'invalid proto: expected tcp, udp, icmp or other' },
      { line: 3, reason: 'invalid time: expected an ISO 8601 string with a UTC offset' },
      { line: 4, reason: 'missing time' },
      { line: 5, reason: 'invalid srcPort: expected an integer 0-65535' },
      { line: 6, reason: 'not a JSON object' },
      { line: 7, reason: 'not a JSON object' },
      { line: 8, reason: 'not a JSON object' },
    ]);
  });

  it('throws malformed_body for bodies of the wrong shape', () => {
    for (const body of ['{"alerts":', '[]', '"x"', '{}', '{"alerts":{}}', '{"alerts":null}', 'null', '<html></html>']) {
      expect(thrown(body, 'native').code, body).toBe('malformed_body');
    }
  });

  it('throws malformed_body for a forbidden key outside the alerts, rejects one inside an alert', () => {
    expect(thrown('{"__proto__":{"x":1},"alerts":[]}', 'native').message).toBe('forbidden key __proto__');
    expect(thrown('{"meta":{"constructor":1},"alerts":[]}', 'native').code).toBe('malformed_body');
    const r = parseBatch(
      '{"alerts":[{"time":"2026-11-21T10:00:00Z","srcIp":"192.0.2.1","proto":"tcp","x":{"prototype":1}},' +
        '{"time":"2026-11-21T10:00:00Z","srcIp":"192.0.2.1","proto":"tcp"}]}',
      'native',
      OPTS,
    );
    expect(r.rejected).toEqual([{ line: 1, reason: 'forbidden key prototype' }]);
    expect(r.alerts).toHaveLength(1);
  });

  it('throws malformed_body for deep nesting and too_large past maxAlerts', () => {
    const deep = '{"alerts":[],"x":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}';
    expect(thrown(deep, 'native').code).toBe('malformed_body');
    const one = { time: '2026-11-21T10:00:00Z', srcIp: '192.0.2.1', proto: 'tcp' };
    expect(thrown(JSON.stringify({ alerts: [one, one, one] }), 'native', { ...OPTS, maxAlerts: 2 }).code).toBe('too_large');
    expect(parseBatch(JSON.stringify({ alerts: Array(10_000).fill(one) }), 'native', OPTS).alerts).toHaveLength(10_000);
  });
});

describe('formatFromContentType', () => {
  it.each([
    ['application/x-ndjson', 'ndjson'],
    ['Application/X-NDJSON; charset=utf-8', 'ndjson'],
    ['application/json', 'json'],
    ['application/json;charset="UTF-8"', 'json'],
    [' application/json ; foo=bar', 'json'],
    ['application/json; charset=iso-8859-1', undefined],
    ['text/plain', undefined],
    ['application/jsonl', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (ct, expected) => {
    expect(formatFromContentType(ct)).toBe(expected);
  });
});

describe('a body given as bytes', () => {
  it('parses exactly as its decoded text: BOM, CRLF, blank lines, non-ASCII, invalid UTF-8, bad lines, line numbers', () => {
    const text = `\uFEFF${lines(eveAlert({ alert: { signature_id: 7, signature: 'Überwachung ✓', category: 'c', severity: 1 } }))}\r\n\r\n  \n{not json}\r\n${lines(eveAlert({ src_ip: 'x' }), eveAlert({ event_type: 'flow' }), eveAlert())}\n`;
    const bytes = Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0x7b, 0xe2, 0x28, 0xa1, 0x7d, 0x0a]), Buffer.from(lines(eveAlert()), 'utf8')]);
    const fromBytes = parseBatch(bytes, 'eve', OPTS);
    expect(fromBytes).toEqual(parseBatch(bytes.toString('utf8'), 'eve', OPTS));
    expect(fromBytes.alerts).toHaveLength(3);
    expect(fromBytes.alerts[0]!.signature).toBe('Überwachung ✓');
    expect(fromBytes.rejected.map((r) => r.line)).toEqual([4, 5, 8]);
    expect(fromBytes.skipped).toBe(1);
  });
});
