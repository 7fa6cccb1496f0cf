/**
 * IDEA input (DESIGN §15): records written by hand from the published IDEA definition (test/fixtures/alerts/
 * idea.ndjson), detected by `"Format": "IDEA0"` in an NDJSON body (mixed with EVE) or forced with 'idea', mapped
 * onto the alert model; each rejection names the IDEA field.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectLineFormat, parseBatch } from '../../lib/alerts/parse.js';
import { detectFormat } from '../../lib/client/batcher.js';
import { eveAlert } from '../helpers/eve.js';

const fixture = readFileSync(new URL('../fixtures/alerts/idea.ndjson', import.meta.url), 'utf8');
const now = Date.parse('2026-11-21T00:00:00Z');
const opts = { sensor: 's1', now };

describe('IDEA records', () => {
  it('are recognised by their Format, on the server and by push', () => {
    const first = fixture.split('\n')[0]!;
    expect(detectLineFormat(JSON.parse(first))).toBe('idea');
    expect(detectFormat(first)).toBe('idea');
    expect(detectLineFormat({ Format: 'IDEA1', DetectTime: 'x' })).toBe(undefined);
  });

  it('map DetectTime, Source, Target, Category, Description and Node onto alerts', () => {
    const r = parseBatch(fixture, 'ndjson', opts);
    expect(r.alerts).toEqual([
      {
        time: Date.parse('2026-11-20T10:15:30Z'),
        sensor: 's1',
        srcIp: '192.0.2.10',
        srcPort: 40112,
        dstIp: '198.51.100.20',
        dstPort: 23,
        proto: 'tcp',
        signature: 'TCP SYN scan of port 23',
        category: 'Recon.Scanning',
      },
      {
        // +01:00 → 11:00:00.250 UTC; the first Source without an address is passed over; no Description: the
        // categories and the Node name make the signature; the protocol comes from the Source.
        time: Date.parse('2026-11-20T11:00:00.250Z'),
        sensor: 's1',
        srcIp: '2001:db8::5',
        dstIp: '2001:db8:1::22',
        dstPort: 22,
        proto: 'tcp',
        signature: 'Attempt.Login, Intrusion.UserCompromise (org.example.sshguard)',
        category: 'Attempt.Login, Intrusion.UserCompromise',
      },
      {
        time: Date.parse('2026-11-20T13:30:00Z'),
        sensor: 's1',
        srcIp: '203.0.113.7',
        proto: 'icmp',
        signature: 'Anomaly.Traffic (org.example.flowmon)',
        category: 'Anomaly.Traffic',
      },
    ]);
  });

  it('are refused with the IDEA field named', () => {
    const r = parseBatch(fixture, 'ndjson', opts);
    expect(r.rejected).toEqual([
      { line: 4, reason: 'invalid Source[0].IP4[0]: a network or range, not one address (only single addresses are counted)' },
      { line: 5, reason: 'missing DetectTime' },
      { line: 6, reason: 'invalid DetectTime: no time zone (add Z or an offset)' },
      { line: 7, reason: 'missing Source[].IP4 or Source[].IP6' },
      { line: 8, reason: 'invalid Target[0].Port[0]: expected an integer 0-65535' },
      { line: 9, reason: 'invalid Source[0].IP4[0]: not an IPv4 or IPv6 address' },
    ]);
  });

  it('mix with EVE lines in one NDJSON body; forced "idea" refuses what is not IDEA', () => {
    const eve = eveAlert({ time: Date.parse('2026-11-20T09:00:00Z'), dstPort: 445 });
    const idea = fixture.split('\n')[0]!;
    const mixed = parseBatch(`${eve}\n${idea}\n`, 'ndjson', opts);
    expect(mixed.alerts.map((a) => a.dstPort)).toEqual([445, 23]);
    const forced = parseBatch(`${eve}\n${idea}\n`, 'idea', opts);
    expect(forced.alerts.map((a) => a.dstPort)).toEqual([23]);
    expect(forced.rejected).toEqual([{ line: 1, reason: 'not an IDEA record: Format must be "IDEA0"' }]);
  });
});
