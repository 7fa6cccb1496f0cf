/**
 * Cuts a stream of log lines into batches by count and by size (DESIGN §4: the service refuses bodies over
 * 5 MiB after decompression and more than a capped number of alerts). Pure: no I/O, no clock.
 *
 * A batch covers a byte range of its file, from where the previous batch ended to the end of its last line:
 * lines that are never sent (blank, too long) between two batches belong to the later one's range, so a
 * follower that resumes at a batch's start re-reads (and drops) them again rather than losing track.
 *
 * Lines are kept as bytes in two reused buffers (one being filled, one holding the batch just cut),
 * newline-terminated: for EVE and Snort that is the request body as is. No string per line and no buffer per
 * batch is what keeps a 1 GB push's memory flat: garbage the collector would free "later" is memory too.
 */

import { SETTINGS } from '../settings.js';

export type InputFormat = 'eve' | 'snort' | 'idea' | 'native';

export interface BatchLimits {
  /** Lines per batch (`--batch-size`). */
  maxLines: number;
  /** Upper bound on a batch's uncompressed body. */
  maxBytes: number;
  /**
   * Distinct UTC days per batch (lines whose day is known): a line of one more day starts a new batch. The
   * service refuses batches over its own cap (DEFAULT_MAX_DAYS_PER_BATCH); unlimited when absent.
   */
  maxDays?: number;
  /**
   * A batch that fills up while holding more than one UTC day is cut where its last day began, and that day's
   * lines start the next batch: each day a batch touches costs the service a write (and a mark for a past
   * day), so a backfill cut at day boundaries pays one per day rather than one more per batch boundary.
   */
  wholeDays?: boolean;
}

/**
 * The service's default cap on distinct UTC days in one batch (a batch over it is refused with 413, which
 * push would answer by splitting). The client keeps under it from the start, so a backfill never meets it.
 */
export const DEFAULT_MAX_DAYS_PER_BATCH = SETTINGS.maxDaysPerBatch.default;

export interface CutBatch {
  /**
   * The lines, each followed by "\n". A view into the batcher's buffer, valid until the next add() or take():
   * build the request from it at once (prepareBatchFromNdjson copies or compresses it).
   */
  ndjson: Buffer;
  lines: number;
  /** Byte range [start, end) of the file this batch accounts for. */
  start: number;
  end: number;
}

/** 4 MiB: a margin under the service's 5 MiB so that a proxy's or a future limit's rounding never bites. */
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** `{"alerts":[` + `]}`: the native wrapper around the lines. */
export const NATIVE_WRAPPER_BYTES = 13;

/** Guesses the input format from its first line (an explicit --format wins). */
export function detectFormat(line: string): InputFormat {
  try {
    const obj = JSON.parse(line) as Record<string, unknown>;
    if (typeof obj.event_type === 'string') return 'eve';
    if (obj.Format === 'IDEA0') return 'idea';
    if (typeof obj.srcIp === 'string' || typeof obj.time === 'string') return 'native';
  } catch {
    /* fall through: the service reports the line */
  }
  return 'snort';
}

const DAY_MS = 86_400_000;
const EVE_TIME = Buffer.from('"timestamp":"');
const NATIVE_TIME = Buffer.from('"time":"');
// IDEA's time of detection (RFC 3339); records written with a space after the colon are left undated here.
const IDEA_TIME = Buffer.from('"DetectTime":"');
const SNORT_SECONDS = Buffer.from('"seconds":');

/**
 * The UTC day (days since the epoch) of a log line, read straight from its bytes without parsing the JSON —
 * this runs for every line of a 1 GB push: EVE's `timestamp` and native `time` (ISO 8601 with an offset),
 * Snort 3's `seconds`. Undefined when the line has none that reads; the service judges such lines itself.
 * Only for cutting batches: the service counts the alert by its own reading of the time.
 */
export function lineDay(src: Buffer, from: number, to: number, format: InputFormat): number | undefined {
  if (format === 'snort') {
    const at = src.indexOf(SNORT_SECONDS, from);
    if (at < 0 || at >= to) return undefined;
    let p = at + SNORT_SECONDS.length;
    while (p < to && src[p] === 0x20) p++;
    let seconds = 0;
    let digits = 0;
    for (; p < to && src[p]! >= 0x30 && src[p]! <= 0x39 && digits < 12; p++, digits++) seconds = seconds * 10 + src[p]! - 0x30;
    return digits === 0 ? undefined : Math.floor(seconds / 86_400);
  }
  const key = format === 'native' ? NATIVE_TIME : format === 'idea' ? IDEA_TIME : EVE_TIME;
  const at = src.indexOf(key, from);
  if (at < 0 || at >= to) return undefined;
  const p = at + key.length;
  const q = src.indexOf(0x22, p);
  if (q < 0 || q > to || q - p < 16) return undefined;
  // The zone at the end: ±HH:MM, ±HHMM, Z, or none (taken as UTC).
  const sign6 = src[q - 6];
  const sign5 = src[q - 5];
  const zone = sign6 === 0x2b || sign6 === 0x2d ? 6 : sign5 === 0x2b || sign5 === 0x2d ? 5 : src[q - 1] === 0x5a ? 1 : 0;
  // Consecutive lines mostly share date, hour, minute and zone: then the day is the previous line's.
  if (sameStamp(src, p, q, zone)) return cache.day;
  const ms = Date.UTC(digits(src, p, 4), digits(src, p + 5, 2) - 1, digits(src, p + 8, 2), digits(src, p + 11, 2), digits(src, p + 14, 2));
  const sign = src[q - zone] === 0x2d ? -1 : 1;
  const offsetMin = zone === 6 ? sign * (digits(src, q - 5, 2) * 60 + digits(src, q - 2, 2)) : zone === 5 ? sign * (digits(src, q - 4, 2) * 60 + digits(src, q - 2, 2)) : 0;
  const day = Math.floor((ms - offsetMin * 60_000) / DAY_MS);
  if (!Number.isFinite(day)) return undefined;
  remember(src, p, q, zone, day);
  return day;
}

/** n ASCII digits at src[i…] as a number; NaN if one is not a digit. */
function digits(src: Buffer, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = src[k]! - 0x30;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/**
 * The last timestamp read: its first 16 bytes (date, hour, minute — an offset such as +05:30 moves the day
 * boundary inside an hour) and its zone, and the day they make.
 */
const cache = { head: Buffer.alloc(16), zone: Buffer.alloc(6), zoneLength: -1, day: 0 };

function sameStamp(src: Buffer, p: number, q: number, zone: number): boolean {
  if (cache.zoneLength !== zone) return false;
  for (let k = 0; k < 16; k++) if (src[p + k] !== cache.head[k]) return false;
  for (let k = 0; k < zone; k++) if (src[q - zone + k] !== cache.zone[k]) return false;
  return true;
}

function remember(src: Buffer, p: number, q: number, zone: number, day: number): void {
  src.copy(cache.head, 0, p, p + 16);
  src.copy(cache.zone, 0, q - zone, q);
  cache.zoneLength = zone;
  cache.day = day;
}

/**
 * The text a native line contributes to a batch, or why it is dropped. A native body is one JSON document, so
 * one malformed line would make the service refuse the whole batch; and the canonical form (which never holds
 * a raw newline) lets a spooled native batch be split again into exactly the lines the direct path sends.
 * Other formats go as they are: the service reports their bad lines one by one.
 */
export function lineForBatch(text: string, format: InputFormat): { text: string } | { reject: string } {
  if (format !== 'native') return { text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { reject: 'not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { reject: 'not a JSON object' };
  return { text: JSON.stringify(value) };
}

export class Batcher {
  private buf = Buffer.allocUnsafeSlow(64 * 1024);
  /** The buffer of the batch cut last, still referenced by its CutBatch until the next add() or take(). */
  private spare = Buffer.allocUnsafeSlow(64 * 1024);
  private used = 0;
  private count = 0;
  private start: number;
  private end: number;
  private since: number | undefined;
  /** Distinct UTC days (days since the epoch) of the lines in the batch. */
  private days = new Set<number>();
  /** The day of the last line with a known day, and where the run of lines of that day began in the batch. */
  private lastDay: number | undefined;
  private runUsed = 0;
  private runCount = 0;
  private runEnd: number;

  constructor(
    private readonly limits: BatchLimits,
    startOffset = 0,
  ) {
    this.start = startOffset;
    this.end = startOffset;
    this.runEnd = startOffset;
  }

  get size(): number {
    return this.count;
  }

  /** When the oldest line of the partial batch arrived (for the time-based flush of `--follow`). */
  get waitingSince(): number | undefined {
    return this.since;
  }

  /**
   * Adds one line (without its terminator) ending at byte `end` of the file. Returns the batch this
   * completes, if any: the one cut first because the line would not fit, or this one if now full.
   */
  add(line: Buffer, end: number, now = 0, day?: number): CutBatch | undefined {
    return this.addRange(line, 0, line.length, end, now, day);
  }

  /**
   * add() for bytes [from, to) of `src`, copied without an intermediate view. At most one batch completes per
   * line: a size or day cut leaves one line in the new batch, which is full only if maxLines is 1 — and then
   * no earlier line can be waiting. `day` is the line's UTC day (days since the epoch), when known.
   */
  addRange(src: Buffer, from: number, to: number, end: number, now = 0, day?: number): CutBatch | undefined {
    let out: CutBatch | undefined;
    const need = to - from + 1;
    // Room for the native wrapper too, so that the same cut holds in either format.
    if (this.count > 0 && this.used + need + NATIVE_WRAPPER_BYTES > this.limits.maxBytes) out = this.cut();
    else if (this.count > 0 && day !== undefined && !this.days.has(day) && this.days.size >= (this.limits.maxDays ?? Infinity)) out = this.cut();
    if (this.count === 0) this.since = now;
    if (day !== undefined && day !== this.lastDay) {
      // A new run of lines of one day begins here.
      this.lastDay = day;
      this.runUsed = this.used;
      this.runCount = this.count;
      this.runEnd = this.end;
    }
    if (day !== undefined) this.days.add(day);
    if (this.used + need > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.used + need));
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    src.copy(this.buf, this.used, from, to);
    this.buf[this.used + need - 1] = 0x0a;
    this.used += need;
    this.count++;
    this.end = end;
    if (this.count >= this.limits.maxLines) out = this.limits.wholeDays && this.runCount > 0 ? this.cutBeforeLastDay() : this.cut();
    return out;
  }

  /** The partial batch, if any (end of input, time-based flush, rotation, shutdown). */
  take(): CutBatch | undefined {
    return this.count > 0 ? this.cut() : undefined;
  }

  private cut(): CutBatch {
    const batch: CutBatch = { ndjson: this.buf.subarray(0, this.used), lines: this.count, start: this.start, end: this.end };
    // Swap: the next lines go to the other buffer, so this batch's bytes stay intact until the next call.
    [this.buf, this.spare] = [this.spare, this.buf];
    this.used = 0;
    this.count = 0;
    this.start = this.end;
    this.since = undefined;
    this.days.clear();
    this.lastDay = undefined;
    this.runUsed = 0;
    this.runCount = 0;
    this.runEnd = this.end;
    // The buffers are kept for the next batches: neither exceeds maxBytes plus one line.
    return batch;
  }

  /** Cuts the lines before the last day's run; that run stays as the start of the next batch. */
  private cutBeforeLastDay(): CutBatch {
    const batch: CutBatch = { ndjson: this.buf.subarray(0, this.runUsed), lines: this.runCount, start: this.start, end: this.runEnd };
    // The run moves to the other buffer; this one keeps the cut's bytes intact until the next call.
    const rest = this.used - this.runUsed;
    if (this.spare.length < rest) this.spare = Buffer.allocUnsafeSlow(Math.max(this.spare.length * 2, rest));
    this.buf.copy(this.spare, 0, this.runUsed, this.used);
    [this.buf, this.spare] = [this.spare, this.buf];
    this.used = rest;
    this.count -= this.runCount;
    this.start = this.runEnd;
    // What is left is the last day's run (and lines of no known day within it).
    this.days.clear();
    if (this.lastDay !== undefined) this.days.add(this.lastDay);
    this.runUsed = 0;
    this.runCount = 0;
    this.runEnd = this.start;
    return batch;
  }
}
