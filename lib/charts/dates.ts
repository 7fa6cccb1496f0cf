/** UTC day arithmetic for the chart builders: plain numbers, no time zone and no clock involved. */

import { DAY_MS } from '../util/days.js';

export { addDays, DAY_MS, dayStartMs, dayString } from '../util/days.js';

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
