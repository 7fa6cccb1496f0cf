import { describe, expect, it } from 'vitest';
import { parse, parseDuration, UsageError } from '../../lib/cli/args.js';

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
    const { values } = parse(['--json', '--data-dir', '/tmp/x'], {});
    expect(values.json).toBe(true);
    expect(values['data-dir']).toBe('/tmp/x');
  });

  it('reads durations with units and refuses others', () => {
    expect(parseDuration('90s', '--x')).toBe(90_000);
    expect(parseDuration('30d', '--x')).toBe(30 * 86_400_000);
    expect(() => parseDuration('5', '--x')).toThrow(UsageError);
  });
});
