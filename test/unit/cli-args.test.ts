import { describe, expect, it } from 'vitest';
import { closestName, parse, parseDuration, UsageError } from '../../lib/cli/args.js';

describe('CLI option parsing', () => {
  it('gives an option its value even when the value starts with "-" (base64url keys do)', () => {
    const { values, positionals } = parse(['add', 'vie-1', '--public-key', '-Ab_c-123', '--deployed', '2026-11-01'], {
      'public-key': { type: 'string' },
      deployed: { type: 'string' },
    });
    expect(values['public-key']).toBe('-Ab_c-123');
    expect(values.deployed).toBe('2026-11-01');
    expect(positionals).toEqual(['add', 'vie-1']);
  });

  it('still refuses unknown options and keeps flags as flags', () => {
    expect(() => parse(['--nope'], {})).toThrow(UsageError);
    const { values } = parse(['--json', '--data-dir', '/tmp/x'], { json: { type: 'boolean' }, 'data-dir': { type: 'string' } });
    expect(values.json).toBe(true);
    expect(values['data-dir']).toBe('/tmp/x');
  });

  it('reads durations with units and refuses others', () => {
    expect(parseDuration('90s', '--x')).toBe(90_000);
    expect(parseDuration('30d', '--x')).toBe(30 * 86_400_000);
    expect(() => parseDuration('5', '--x')).toThrow(UsageError);
  });

  it('names the option a typo was probably meant to be', () => {
    const options = { sensor: { type: 'string' }, key: { type: 'string' } } as const;
    expect(() => parse(['log.json', '--sensr', 'x'], options)).toThrow('unknown option --sensr; did you mean --sensor?');
    expect(() => parse(['--zzzzzz'], options)).toThrow(/^unknown option --zzzzzz$/);
    expect(closestName('jsn', ['json', 'stack'])).toBe('json');
    expect(closestName('dat', ['data-dir', 'json'])).toBe('data-dir');
    expect(closestName('xyz', ['json', 'stack'])).toBeUndefined();
  });

  it('refuses an option name as the value of an option that takes one (keygen --out --json)', () => {
    expect(() => parse(['--out', '--json'], { out: { type: 'string' }, json: { type: 'boolean' } })).toThrow('--out needs a value, got the option --json');
    // Any other value is taken as given, even one that starts with "--" (a base64url key may).
    expect(parse(['--public-key', '--Ab_c', '--json'], { 'public-key': { type: 'string' }, json: { type: 'boolean' } }).values['public-key']).toBe('--Ab_c');
  });
});
