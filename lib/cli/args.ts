/** Small helpers shared by the CLI commands: option parsing, units, output. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

/** No stack to act on: no local stack running for the data dir, or no such deployed stack. */
export class StackUnavailable extends Error {}

/** Exit codes: sysexits(3) where one fits. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unavailable: 69, tempfail: 75 } as const;

export const COMMON_OPTIONS = {
  'data-dir': { type: 'string', default: '.alertgraph' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  stack: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/**
 * An option that takes a value takes the next argument whatever it looks like, as getopt does: base64url keys
 * may start with '-', and `--public-key -AbC…` must not be read as a missing value.
 */
export function joinOptionValues(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (takesValue.has(arg) && next !== undefined && next.startsWith('-')) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  const all = { ...COMMON_OPTIONS, ...options };
  try {
    return parseArgs({ args: joinOptionValues(argv, all), options: all, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "5m", "2h", "30d" → milliseconds. */
export function parseDuration(value: string, option: string): number {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  if (!m) throw new UsageError(`${option} takes a number with a unit s, m, h or d (e.g. 5m), got "${value}"`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

export function parseDate(value: string | undefined, option: string): string {
  if (value === undefined) throw new UsageError(`${option} is required (YYYY-MM-DD)`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ||
      new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
    throw new UsageError(`${option} must be a date YYYY-MM-DD, got "${value}"`);
  }
  return value;
}

export function parsePositiveInt(value: string | undefined, option: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${option} must be an integer from 1 to ${max}, got "${value}"`);
  return n;
}

/** Prints a command's help on stdout; --help is a successful run. */
export function printHelp(text: string): number {
  process.stdout.write(`${text}\n`);
  return EXIT.ok;
}

export interface Output {
  json: boolean;
  /** Machine output (--json) or a human line. */
  result(value: unknown, human: string): void;
  info(line: string): void;
}

export function output(json: boolean): Output {
  return {
    json,
    result: (value, human) => process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human}\n`),
    info: (line) => process.stderr.write(`${line}\n`),
  };
}
