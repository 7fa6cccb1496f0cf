/**
 * UTC calendar days (`YYYY-MM-DD`): the unit every statistic is counted and drawn in. One place for the
 * arithmetic, so the ingest, the render job, `stats` and the charts agree on what a day is.
 */

export const DAY_MS = 86_400_000;

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function dayString(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Milliseconds of 00:00 UTC of a `YYYY-MM-DD` day; throws on anything else so bad input fails loudly. */
export function dayStartMs(day: string): number {
  const m = DAY_RE.exec(day);
  if (!m) throw new RangeError(`not a YYYY-MM-DD day: ${JSON.stringify(day)}`);
  const [, y, mo, d] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d));
  // Date.UTC rolls 2026-02-31 over into March; reject it rather than count it on the wrong day.
  if (dayString(ms) !== day) throw new RangeError(`no such day: ${day}`);
  return ms;
}

export function addDays(day: string, n: number): string {
  return dayString(dayStartMs(day) + n * DAY_MS);
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = dayStartMs(to);
  for (let t = dayStartMs(from); t <= end; t += DAY_MS) out.push(dayString(t));
  return out;
}

const dayNames = new Map<number, string>();

/** The UTC day of an instant in ms: the day an alert is counted under. Cached per day number (once per alert). */
export function utcDay(ms: number): string {
  const n = Math.floor(ms / DAY_MS);
  let name = dayNames.get(n);
  if (name === undefined) {
    name = dayString(n * DAY_MS);
    if (dayNames.size > 10_000) dayNames.clear();
    dayNames.set(n, name);
  }
  return name;
}
