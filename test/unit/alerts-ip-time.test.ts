import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeIp } from '../../lib/alerts/ip.js';
import { parseIsoTime, utcDay } from '../../lib/alerts/time.js';

describe('normalizeIp', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // tie: the first run is compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['FE80::0:0:0:ABCD', 'fe80::abcd'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1'],
    ['::192.0.2.1', '::c000:201'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });

  it.each(['', '01.2.3.4', '1.2.3', '256.1.1.1', ' 1.2.3.4', 'fe80::1%eth0', '1::2::3', 'example.org', '[::1]', '::ffff:1.2.3'])(
    'refuses %j',
    (input) => {
      expect(normalizeIp(input)).toBeUndefined();
    },
  );

  it('agrees with the WHATWG URL serializer (RFC 5952 compression) and is idempotent', () => {
    const groups = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(groups, fc.boolean(), (g, upper) => {
        let text = g.map((w) => w.toString(16).padStart(4, '0')).join(':');
        if (upper) text = text.toUpperCase();
        const got = normalizeIp(text);
        const mapped = g.slice(0, 5).every((w) => w === 0) && g[5] === 0xffff;
        if (mapped) {
          expect(got).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        } else {
          expect(got).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1));
        }
        expect(normalizeIp(got!)).toBe(got);
      }),
    );
  });
});

describe('parseIsoTime', () => {
  it.each([
    ['2021-06-06T15:59:46.457984+0200', Date.UTC(2021, 5, 6, 13, 59, 46, 457)],
    ['2021-06-06T15:59:46.457984+02:00', Date.UTC(2021, 5, 6, 13, 59, 46, 457)],
    ['2021-06-06T15:59:46+02', Date.UTC(2021, 5, 6, 13, 59, 46)],
    ['2021-06-06T23:30:00-0530', Date.UTC(2021, 5, 7, 5, 0, 0)],
    ['2021-06-06T00:00:00.9Z', Date.UTC(2021, 5, 6, 0, 0, 0, 900)],
    ['2021-06-06t00:00:00.12z', Date.UTC(2021, 5, 6, 0, 0, 0, 120)],
    ['2021-06-06 00:00:00.999999999Z', Date.UTC(2021, 5, 6, 0, 0, 0, 999)], // truncated, never rounded up a day
    ['2024-02-29T12:00:00Z', Date.UTC(2024, 1, 29, 12)],
    ['2000-02-29T12:00:00Z', Date.UTC(2000, 1, 29, 12)],
    ['0021-06-06T00:00:00Z', Date.parse('0021-06-06T00:00:00.000Z')], // no Date.UTC two-digit-year quirk
  ])('%s', (input, expected) => {
    expect(parseIsoTime(input)).toBe(expected);
  });

  it.each([
    ['2021-06-06T15:59:46', 'no_offset'],
    ['2021-06-06T15:59:46.123', 'no_offset'],
    ['2021-02-29T00:00:00Z', 'invalid'],
    ['2100-02-29T00:00:00Z', 'invalid'],
    ['2021-13-01T00:00:00Z', 'invalid'],
    ['2021-06-06T24:00:00Z', 'invalid'],
    ['2021-06-06T23:60:00Z', 'invalid'],
    ['2021-06-06T23:59:60Z', 'invalid'],
    ['2021-06-06T00:00:00.Z', 'invalid'],
    ['2021-06-06T00:00:00.1234567890Z', 'invalid'],
    ['2021-06-06T00:00:00+2400', 'invalid'],
    ['2021-06-06T00:00:00+02:0', 'invalid'],
    ['2021-06-06T00:00:00Zjunk', 'invalid'],
    ['2021-6-6T00:00:00Z', 'invalid'],
    ['11/21-10:00:00.123456', 'invalid'],
    ['', 'invalid'],
  ])('%s → %s', (input, expected) => {
    expect(parseIsoTime(input)).toBe(expected);
  });

  it('matches Date for any instant written with any offset and fraction length', () => {
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom('colon', 'plain', 'Z'),
        (ms, offset, extraDigits, style) => {
          const off = style === 'Z' ? 0 : offset;
          const local = new Date(ms + off * 60_000).toISOString().slice(0, 23); // YYYY-MM-DDTHH:MM:SS.mmm
          const abs = Math.abs(off);
          const zone =
            style === 'Z'
              ? 'Z'
              : `${off < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${style === 'colon' ? ':' : ''}${pad(abs % 60)}`;
          expect(parseIsoTime(local + '7'.repeat(extraDigits) + zone)).toBe(ms);
        },
      ),
    );
  });

  it('utcDay gives the UTC calendar date', () => {
    expect(utcDay(Date.UTC(2021, 5, 6, 23, 59, 59, 999))).toBe('2021-06-06');
    expect(utcDay(Date.UTC(2021, 5, 7))).toBe('2021-06-07');
  });
});
