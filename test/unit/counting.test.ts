import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../lib/alerts/types.js';
import {
  addAggregate,
  countBatch,
  decodeAggregate,
  emptyAggregate,
  encodeAggregate,
  isScan,
  sumAggregates,
  utcDay,
  type DayAggregate,
} from '../../lib/counting/aggregate.js';

const base = Date.parse('2026-11-20T00:00:00Z');

const alertArb: fc.Arbitrary<Alert> = fc.record(
  {
    time: fc.integer({ min: base, max: base + 3 * 86_400_000 - 1 }),
    sensor: fc.constant('s1'),
    srcIp: fc.ipV4(),
    dstPort: fc.integer({ min: 0, max: 65535 }),
    proto: fc.constantFrom('tcp', 'udp', 'icmp', 'other'),
    sigId: fc.integer({ min: 1, max: 30 }),
    signature: fc.constantFrom('ET SCAN Nmap', 'ET POLICY x', 'GPL ICMP PING'),
    category: fc.constantFrom('Attempted Information Leak', 'Network Scan', 'Misc activity'),
  },
  { requiredKeys: ['time', 'sensor', 'srcIp', 'proto'] },
) as fc.Arbitrary<Alert>;

function sumOver(days: Map<string, DayAggregate>): DayAggregate {
  return sumAggregates(days.values());
}

/** Aggregates compared by value (key order and prototype-less maps do not matter). */
function plain(agg: DayAggregate) {
  return JSON.parse(JSON.stringify(agg));
}

describe('countBatch', () => {
  it('counts by UTC day, protocol, port, signature, category and scan', () => {
    const alerts: Alert[] = [
      { time: Date.parse('2026-11-20T23:59:59.999Z'), sensor: 's', srcIp: '192.0.2.1', dstPort: 445, proto: 'tcp', sigId: 1, signature: 'ET SCAN SMB', category: 'Attempted Information Leak' },
      { time: Date.parse('2026-11-21T00:00:00Z'), sensor: 's', srcIp: '192.0.2.1', dstPort: 445, proto: 'tcp', sigId: 1, signature: 'ET SCAN SMB' },
      { time: Date.parse('2026-11-21T10:00:00Z'), sensor: 's', srcIp: '2001:db8::1', dstPort: 137, proto: 'udp', category: 'Network Scan' },
      { time: Date.parse('2026-11-21T11:00:00Z'), sensor: 's', srcIp: '192.0.2.9', proto: 'icmp', signature: 'GPL ICMP PING' },
    ];
    const days = countBatch(alerts);
    expect([...days.keys()]).toEqual(['2026-11-20', '2026-11-21']);
    const d20 = days.get('2026-11-20')!;
    const d21 = days.get('2026-11-21')!;
    expect(d20.total).toBe(1);
    expect(d21.total).toBe(3);
    expect(d21.byProto).toEqual({ tcp: 1, udp: 1, icmp: 1, other: 0 });
    expect({ ...d21.byPort }).toEqual({ 'tcp/445': 1, 'udp/137': 1 });
    expect({ ...d21.bySignature }).toEqual({ '1': 1, 'msg:GPL ICMP PING': 1 });
    expect({ ...d21.byCategory }).toEqual({ 'Network Scan': 1 });
    // "scan" in the signature (ET SCAN SMB) or the category (Network Scan); the ICMP ping is not a scan.
    expect(d21.scan).toBe(2);
    expect(d20.scan).toBe(1);
  });

  it('never lets a key from an alert reach Object.prototype', () => {
    const alerts: Alert[] = [{ time: base, sensor: 's', srcIp: '192.0.2.1', proto: 'tcp', category: '__proto__', signature: 'constructor' }];
    const agg = countBatch(alerts).get(utcDay(base))!;
    expect(agg.byCategory['__proto__']).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(agg.byCategory)).toBeNull();
    const decoded = decodeAggregate(encodeAggregate(agg));
    expect(decoded.byCategory['__proto__']).toBe(1);
  });

  it('recognises scans case-insensitively in category or signature only', () => {
    expect(isScan({ category: 'Detection of a Network Scan' })).toBe(true);
    expect(isScan({ signature: 'ET SCAN Potential SSH Scan' })).toBe(true);
    expect(isScan({ signature: 'ET POLICY curl User-Agent' })).toBe(false);
    expect(isScan({})).toBe(false);
  });

  it('property: per-day totals, protocol counts and port counts all sum to the alerts counted', () => {
    fc.assert(
      fc.property(fc.array(alertArb, { maxLength: 300 }), (alerts) => {
        const days = countBatch(alerts);
        const all = sumOver(days);
        expect(all.total).toBe(alerts.length);
        const p = all.byProto;
        expect(p.tcp + p.udp + p.icmp + p.other).toBe(alerts.length);
        const withPort = alerts.filter((a) => a.dstPort !== undefined && a.proto !== 'icmp').length;
        expect(Object.values(all.byPort).reduce((s, n) => s + n, 0)).toBe(withPort);
        for (const [day, agg] of days) {
          expect(agg.total).toBe(alerts.filter((a) => utcDay(a.time) === day).length);
        }
      }),
    );
  });

  it('property: any split of a batch into parts gives the same totals as the whole', () => {
    fc.assert(
      fc.property(fc.array(alertArb, { maxLength: 200 }), fc.array(fc.nat(), { maxLength: 6 }), (alerts, cutsRaw) => {
        const cuts = [...new Set(cutsRaw.map((c) => (alerts.length ? c % (alerts.length + 1) : 0)))].sort((a, b) => a - b);
        const parts: Alert[][] = [];
        let start = 0;
        for (const c of [...cuts, alerts.length]) {
          parts.push(alerts.slice(start, c));
          start = c;
        }
        const whole = countBatch(alerts);
        const byDay = new Map<string, DayAggregate>();
        for (const part of parts) {
          for (const [day, agg] of countBatch(part)) {
            byDay.set(day, addAggregate(byDay.get(day) ?? emptyAggregate(), agg));
          }
        }
        expect([...byDay.keys()].sort()).toEqual([...whole.keys()].sort());
        for (const [day, agg] of whole) expect(plain(byDay.get(day)!)).toEqual(plain(agg));
      }),
    );
  });

  it('property: encoding round-trips', () => {
    fc.assert(
      fc.property(fc.array(alertArb, { maxLength: 100 }), (alerts) => {
        const norm = (a: DayAggregate) => ({ ...a, byPort: { ...a.byPort }, bySignature: { ...a.bySignature }, byCategory: { ...a.byCategory } });
        for (const agg of countBatch(alerts).values()) {
          expect(norm(decodeAggregate(encodeAggregate(agg)))).toEqual(norm(agg));
        }
      }),
    );
  });
});

describe('utcDay', () => {
  it('names the UTC date at both edges of a day', () => {
    expect(utcDay(Date.parse('2021-06-06T23:59:59.999Z'))).toBe('2021-06-06');
    expect(utcDay(Date.parse('2021-06-07T00:00:00.000Z'))).toBe('2021-06-07');
    expect(utcDay(Date.parse('1969-12-31T12:00:00Z'))).toBe('1969-12-31');
  });
});
