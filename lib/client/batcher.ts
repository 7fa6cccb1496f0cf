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

export type InputFormat = 'eve' | 'snort' | 'idea' | 'native';

export interface BatchLimits {
  /** Lines per batch (`--batch-size`). */
  maxLines: number;
  /** Upper bound on a batch's uncompressed body. */
  maxBytes: number;
}

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

  constructor(
    private readonly limits: BatchLimits,
    startOffset = 0,
  ) {
    this.start = startOffset;
    this.end = startOffset;
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
  add(line: Buffer, end: number, now = 0): CutBatch | undefined {
    return this.addRange(line, 0, line.length, end, now);
  }

  /**
   * add() for bytes [from, to) of `src`, copied without an intermediate view. At most one batch completes per
   * line: a size cut leaves one line in the new batch, which is full only if maxLines is 1 — and then no
   * earlier line can be waiting.
   */
  addRange(src: Buffer, from: number, to: number, end: number, now = 0): CutBatch | undefined {
    let out: CutBatch | undefined;
    const need = to - from + 1;
    // Room for the native wrapper too, so that the same cut holds in either format.
    if (this.count > 0 && this.used + need + NATIVE_WRAPPER_BYTES > this.limits.maxBytes) out = this.cut();
    if (this.count === 0) this.since = now;
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
    if (this.count >= this.limits.maxLines) out = this.cut();
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
    // The buffers are kept for the next batches: neither exceeds maxBytes plus one line.
    return batch;
  }
}
