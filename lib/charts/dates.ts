/** UTC day arithmetic for the chart builders: plain numbers, no time zone and no clock involved. */

export const DAY_MS = 86_400_000;

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Milliseconds of 00:00 UTC of a `YYYY-MM-DD` day; throws on anything else so bad input fails loudly. */
export function dayStartMs(day: string): number {
  const m = DAY_RE.exec(day);
  if (!m) throw new RangeError(`not a YYYY-MM-DD day: ${JSON.stringify(day)}`);
  const [, y, mo, d] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d));
  // Date.UTC rolls 2026-02-31 over into March; reject it rather than plot it on the wrong day.
  if (dayString(ms) !== day) throw new RangeError(`no such day: ${day}`);
  return ms;
}

export function dayString(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return dayString(dayStartMs(day) + n * DAY_MS);
}

/** Monday 00:00 UTC of the ISO week holding `ms`. */
export function weekStartMs(ms: number): number {
  const weekday = (new Date(ms).getUTCDay() + 6) % 7; // Monday = 0
  return Math.floor(ms / DAY_MS) * DAY_MS - weekday * DAY_MS;
}

/** First day of the month holding `ms`, 00:00 UTC. */
export function monthStartMs(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextMonthStartMs(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** `2026-11-22T14:05:09.123Z` → `2026-11-22 14:05 UTC`; a string that is no instant is shown as given. */
export function formatInstantUtc(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const s = new Date(ms).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 16)} UTC`;
}
