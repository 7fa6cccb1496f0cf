/** Small helpers shared by the CLI commands: option parsing, units, output. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

/** Exit codes: sysexits(3) where one fits. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unavailable: 69, tempfail: 75 } as const;

/**
 * An option that takes a value takes the next argument whatever it looks like, as getopt does: base64url keys
 * may start with '-', and `--public-key -AbC…` must not be read as a missing value.
 */
export function joinOptionValues(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const takesValue = optionsTakingValue(options);
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

/**
 * node:util parseArgs with this CLI's rules on top: values as getopt takes them, an option name given as a value
 * refused, an unknown option answered with the nearest known one. `options` are all the command takes;
 * lib/cli/program.ts builds them from the table.
 */
/** `--name` and `-x` of the options that take a value. */
export function optionsTakingValue(options: NonNullable<ParseArgsConfig['options']>): Set<string> {
  const found = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    found.add(`--${name}`);
    if (o.short) found.add(`-${o.short}`);
  }
  return found;
}

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], all: O) {
  const names = Object.keys(all);
  // DESIGN §10: a value that is one of the command's own option names is a forgotten value (`keygen --out
  // --json` must not write a file named "--json"); any other value is taken as given.
  for (let i = 0; i < argv.length - 1; i++) {
    const name = /^--([^=]+)$/.exec(argv[i]!)?.[1];
    const next = /^--([^=]+)/.exec(argv[i + 1]!)?.[1];
    if (name && next && (all as Record<string, { type: string }>)[name]?.type === 'string' && names.includes(next)) {
      throw new UsageError(`--${name} needs a value, got the option --${next}`);
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    const name = /^--([^=]+)/.exec(arg)?.[1];
    if (!name) continue;
    if (!names.includes(name)) {
      const guess = closestName(name, names);
      throw new UsageError(`unknown option --${name}${guess ? `; did you mean --${guess}?` : ''}`);
    }
    if ((all as Record<string, { type: string }>)[name]!.type === 'string' && !arg.includes('=')) i++; // its value
  }
  try {
    return parseArgs({ args: joinOptionValues(argv, all), options: all, allowPositionals: true, strict: true });
  } catch (err) {
    // node:util's wording ("Unknown option '--x'. To specify a positional argument…") is not ours to show.
    const message = (err as Error).message.split('. To specify')[0]!.replace(/'/g, '');
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
  }
}

/** The known option nearest to a mistyped one (edit distance ≤ 2, or a prefix of it), if any. */
export function closestName(typed: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = name.startsWith(typed) && typed.length >= 3 ? 1 : editDistance(typed, name);
    if (d <= 2 && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "5m", "2h", "30d" → milliseconds. */
export function parseDuration(value: string, option: string): number {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  if (!m) throw new UsageError(`${option} takes a number with a unit s, m, h or d (e.g. 5m), got "${value}"`);
  return Number(m[1]) * UNITS[m[2]!]!;
}

export function parseDate(value: string, option: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ||
      new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
    throw new UsageError(`${option} must be a date YYYY-MM-DD, got "${value}"`);
  }
  return value;
}

export function parsePositiveInt(value: string, option: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${option} must be an integer from 1 to ${max}, got "${value}"`);
  return n;
}

/** A period of days: --from not after --to, when both are given. */
export function checkPeriod(from: string | undefined, to: string | undefined): void {
  if (from !== undefined && to !== undefined && from > to) throw new UsageError('--from is after --to');
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

/** Rows as an aligned text table, for a terminal. */
export function formatTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (values: string[]) => values.map((v, i) => v.slice(0, 60).padEnd(widths[i]!)).join('  ').trimEnd();
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n') +
    `\n(${rows.length} row${rows.length === 1 ? '' : 's'})`;
}
