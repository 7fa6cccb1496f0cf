/**
 * Moves an EVE (or any NDJSON) log in time by whole days, so that a real log from years ago falls inside the
 * service's 400-day horizon. Every `YYYY-MM-DDThh:mm:ss` in a line is moved by the same number of days, and
 * offsets are kept, so each alert's UTC day moves by exactly that many days and per-day counts are preserved.
 *
 *   node --import tsx bench/shift-log.ts <in> <out> [--end YYYY-MM-DD]
 * --end: the UTC date the log's last day should land on (default: yesterday).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

const STAMP = /(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}:\d{2})/g;
const DAY = 86_400_000;

export function shiftLine(line: string, days: number): string {
  return line.replace(STAMP, (_m, y: string, mo: string, d: string, rest: string) => {
    const t = Date.UTC(Number(y), Number(mo) - 1, Number(d)) + days * DAY;
    return `${new Date(t).toISOString().slice(0, 10)}T${rest}`;
  });
}

/** Event time fields: EVE `timestamp`, native `time`. Other dates (TLS certificate validity…) are not event times. */
const EVENT_TIME = /"(?:timestamp|time)":"(\d{4}-\d{2}-\d{2})T/;

/** The latest event date in the log (local dates; good enough to choose a whole-day shift). */
export async function lastDate(path: string): Promise<string> {
  let last = '';
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    const d = EVENT_TIME.exec(line)?.[1];
    if (d !== undefined && d > last) last = d;
  }
  return last;
}

const EVENT_STAMP = /"(timestamp|time)":"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})"/;

function offsetMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
}

/** The event time of a line in ms, or undefined. */
export function eventTime(line: string): number | undefined {
  const m = EVENT_STAMP.exec(line);
  if (!m) return undefined;
  const [, , y, mo, d, h, mi, sec, , zone] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)) - offsetMinutes(zone!) * 60_000;
}

/**
 * Moves a line's event time by `ms`, keeping its offset and fraction as written. Unlike whole-day shifts this
 * moves alerts across UTC days, so per-day counts change; it is for measurements that need the log to end
 * "now", as live sensors send it.
 */
export function shiftLineMs(line: string, ms: number): string {
  return line.replace(EVENT_STAMP, (whole, field: string, y, mo, d, h, mi, sec, fraction: string | undefined, zone: string) => {
    const off = offsetMinutes(zone);
    const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)) - off * 60_000 + ms;
    const local = new Date(utc + off * 60_000).toISOString().slice(0, 19);
    return `"${field}":"${local}${fraction ?? ''}${zone}"`;
  });
}

/** Shifts a log so that its last event is `endMs` (e.g. a minute ago). Returns the shift in ms. */
export async function shiftLogTo(input: string, output: string, endMs: number): Promise<number> {
  let last = -Infinity;
  for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
    const t = eventTime(line);
    if (t !== undefined && t > last) last = t;
  }
  const delta = Number.isFinite(last) ? endMs - last : 0;
  const out = createWriteStream(output);
  for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
    if (!out.write(`${shiftLineMs(line, delta)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return delta;
}

export async function shiftLog(input: string, output: string, end: string): Promise<number> {
  const last = await lastDate(input);
  const days = Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${last}T00:00:00Z`)) / DAY);
  const out = createWriteStream(output);
  for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
    if (!out.write(`${shiftLine(line, days)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return days;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input, output] = process.argv.slice(2);
  const endIdx = process.argv.indexOf('--end');
  const end = endIdx > 0 ? process.argv[endIdx + 1]! : new Date(Date.now() - DAY).toISOString().slice(0, 10);
  if (!input || !output) {
    process.stderr.write('usage: node --import tsx bench/shift-log.ts <in> <out> [--end YYYY-MM-DD]\n');
    process.exit(2);
  }
  const days = await shiftLog(input, output, end);
  process.stdout.write(`shifted by ${days} days → ${output}\n`);
}
