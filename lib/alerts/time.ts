/**
 * Timestamp parsing by hand: Date.parse is implementation-defined for offsets without a colon (`+0200`) and
 * for fractions longer than milliseconds, both of which Suricata writes. A fixed-position charCode parser is
 * exact and much cheaper than a regex plus Date.
 */

/** Why a timestamp could not be turned into an instant. */
export type TimeProblem = 'invalid' | 'no_offset';

const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil); no Date.UTC year quirks. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The number written by `len` ASCII digits at `at`, or -1 if any of them is not a digit. */
function digitsAt(s: string, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1; // NaN (past the end) also fails the comparisons
    n = n * 10 + d;
  }
  return n;
}

/**
 * Parse an ISO 8601 / RFC 3339 date-time with seconds and a zone: `2021-06-06T14:03:12.123456+0200`,
 * `…+02:00`, `…+02`, `…Z`. The fraction may have 1–9 digits and is truncated to milliseconds (truncating
 * never moves an instant into the next day). Returns UTC milliseconds since the epoch.
 */
export function parseIsoTime(s: string): number | TimeProblem {
  const n = s.length;
  if (n < 19) return 'invalid';
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  const hour = digitsAt(s, 11, 2);
  const minute = digitsAt(s, 14, 2);
  const second = digitsAt(s, 17, 2);
  const sep = s.charCodeAt(10);
  if (
    year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
    second < 0 || second > 59 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 ||
    (sep !== 84 && sep !== 116 && sep !== 32) || // 'T', 't', or the space RFC 3339 §5.6 permits
    s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 ||
    day > daysInMonth(year, month)
  ) {
    return 'invalid';
  }

  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < n) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (i - start < 3) ms = ms * 10 + d;
      i++;
    }
    const len = i - start;
    if (len < 1 || len > 9) return 'invalid';
    if (len < 3) ms *= len === 1 ? 100 : 10;
  }

  let offsetMinutes: number;
  if (i === n) return 'no_offset';
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i + 1 !== n) return 'invalid';
    offsetMinutes = 0;
  } else if (z === 43 || z === 45) {
    const oh = digitsAt(s, i + 1, 2);
    let om = 0;
    const rest = n - (i + 3);
    if (rest === 3 && s.charCodeAt(i + 3) === 58) om = digitsAt(s, i + 4, 2);
    else if (rest === 2) om = digitsAt(s, i + 3, 2);
    else if (rest !== 0) return 'invalid';
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return 'invalid';
    offsetMinutes = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return 'invalid';
  }

  return (
    daysFromCivil(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    ms
  );
}

/** The UTC calendar day an instant falls on: the day an alert is counted under. */
export { utcDay } from '../util/days.js';
