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
