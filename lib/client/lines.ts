/**
 * Splits a byte stream into lines while keeping each line's byte offsets in the file. `push --follow`
 * checkpoints byte offsets, so it needs exact positions, which `readline` does not give; and a file with no
 * newline at all must not be buffered whole, so over-long lines are dropped as they stream past.
 *
 * Lines stay bytes: an EVE line goes into its batch exactly as read, so the hot path of a 1 GB push creates
 * no JavaScript string, buffer or object per line (each one is garbage that inflates the heap).
 */

export interface Line {
  /**
   * The line without its terminator (a trailing CR is removed too); undefined when the line was too long.
   * Often a view into the chunk just pushed: use it before pushing the next chunk.
   */
  bytes: Buffer | undefined;
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just after the line's terminator: where the next line starts. */
  end: number;
  /** 1-based physical line number counted from where the splitter started. */
  number: number;
}

/**
 * Receives one line: bytes [from, to) of `src` (undefined when the line was too long), its byte range
 * [start, end) in the file and its 1-based number. `src` may be the caller's chunk: use it before returning.
 */
export type LineSink = (src: Buffer | undefined, from: number, to: number, start: number, end: number, number: number) => void;

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Blank for our purpose: nothing but ASCII white space in [from, to) (the service would skip it too). */
export function isBlank(bytes: Uint8Array, from = 0, to = bytes.length): boolean {
  for (let i = from; i < to; i++) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== CR && b !== 0x0b && b !== 0x0c) return false;
  }
  return true;
}

export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Set once the current line has outgrown the limit: its bytes are no longer kept. */
  private tooLong = false;
  private lineStart: number;
  private position: number;
  private lineNumber = 0;

  constructor(
    startOffset: number,
    /** The service refuses longer lines anyway (64 KiB); keeping them would let one bad line exhaust memory. */
    private readonly maxLineBytes: number,
  ) {
    this.lineStart = startOffset;
    this.position = startOffset;
  }

  /** Offset where the next (not yet complete) line starts. */
  get nextLineStart(): number {
    return this.lineStart;
  }

  /** Bytes fed so far, as an offset in the file. */
  get offset(): number {
    return this.position;
  }

  /**
   * Feeds the next chunk and calls `sink` for each line it completes, synchronously. The hot path of a large
   * push: a line wholly inside the chunk is passed as a range of the chunk — no copy, and not even an object.
   */
  each(chunk: Buffer, sink: LineSink): void {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl === -1) break;
      const end = this.position + (nl + 1 - from);
      if (this.parts.length === 0 && !this.tooLong && nl - from <= this.maxLineBytes) {
        this.emit(sink, chunk, from, nl, end);
      } else {
        this.keep(chunk, from, nl);
        this.completeParts(sink, end);
      }
      this.position = end;
      from = nl + 1;
    }
    if (from < chunk.length) {
      this.keep(chunk, from, chunk.length);
      this.position += chunk.length - from;
    }
  }

  /**
   * The unterminated rest as a last line (when a file is known to be finished: end of a pushed file, or a
   * rotated file that stopped growing). Returns whether there was one.
   */
  finishEach(sink: LineSink): boolean {
    if (this.position === this.lineStart) return false;
    this.completeParts(sink, this.position);
    return true;
  }

  /** Feeds the next chunk; returns the lines it completes (views into the chunk). */
  push(chunk: Buffer): Line[] {
    const out: Line[] = [];
    this.each(chunk, (src, from, to, start, end, number) => out.push({ bytes: src?.subarray(from, to), start, end, number }));
    return out;
  }

  /** finishEach() as a Line, or undefined. */
  finish(): Line | undefined {
    let line: Line | undefined;
    this.finishEach((src, from, to, start, end, number) => (line = { bytes: src?.subarray(from, to), start, end, number }));
    return line;
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    if (this.tooLong || to === from) return;
    if (this.partBytes + (to - from) > this.maxLineBytes) {
      this.tooLong = true;
      this.parts = [];
      this.partBytes = 0;
      return;
    }
    // A copy: the caller may reuse its read buffer for the next chunk.
    this.parts.push(Buffer.from(chunk.subarray(from, to)));
    this.partBytes += to - from;
  }

  private completeParts(sink: LineSink, end: number): void {
    if (this.tooLong) {
      this.emit(sink, undefined, 0, 0, end);
      return;
    }
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partBytes);
    this.emit(sink, bytes, 0, bytes.length, end);
  }

  private emit(sink: LineSink, src: Buffer | undefined, from: number, to: number, end: number): void {
    const start = this.lineStart;
    this.parts = [];
    this.partBytes = 0;
    this.tooLong = false;
    this.lineStart = end;
    const stop = src !== undefined && to > from && src[to - 1] === CR ? to - 1 : to;
    sink(src, from, stop, start, end, ++this.lineNumber);
  }
}
