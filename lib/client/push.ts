/**
 * `alertgraph push`: reads a log as a stream, cuts it into batches, signs and sends each, retries what can be
 * retried, and spools what could not be delivered in time (DESIGN §10). Memory stays bounded whatever the
 * input size: one read chunk, one batch and its compressed body at a time.
 */
import { open } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { BackoffPolicy } from './backoff.js';
import { Batcher, DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_DAYS_PER_BATCH, detectFormat, lineDay, lineForBatch, type BatchLimits, type CutBatch, type InputFormat } from './batcher.js';
import { Delivery, emptySummary, prepareBatchFromNdjson, type PushSummary } from './delivery.js';
import { isBlank, LineSplitter, type LineSink } from './lines.js';
import { expandNativeDocument } from './native-document.js';
import { BatchSender, type SendOutcome } from './sender.js';
import type { PreparedBatch } from './sign-batch.js';
import type { QuarantinedEntry, Spool } from './spool.js';

export { BatchSender, type SendOutcome } from './sender.js';
export { emptySummary, prepareBatch, prepareBatchFromNdjson, type PushSummary } from './delivery.js';
export type { InputFormat } from './batcher.js';

/** The service rejects longer lines (lib/alerts/safety.ts); the client drops them without buffering them. */
export const MAX_LINE_BYTES = 65_536;

export interface PushOptions {
  endpoint: string;
  sensor: string;
  privateKey: KeyObject;
  format?: InputFormat;
  batchSize: number;
  /** Upper bound on a batch's uncompressed size; the service refuses more than 5 MiB. */
  maxBatchBytes?: number;
  /** Distinct UTC days per batch (default DEFAULT_MAX_DAYS_PER_BATCH, the service's default cap). */
  maxDaysPerBatch?: number;
  /** Cut full batches at UTC day boundaries (default true; see BatchLimits.wholeDays). */
  wholeDays?: boolean;
  /** How long one batch may be retried before it (and the rest) is spooled. */
  retryForMs: number;
  spool: Spool;
  gzip?: boolean;
  /** Called after every batch and every read chunk. */
  onProgress?: (p: PushSummary) => void;
  /** A refused batch (reported as it happens; the summary lists them too). */
  onRefused?: (error: PushSummary['errors'][number]) => void;
  /** A damaged spool entry moved aside (the summary lists them too). */
  onQuarantined?: (entry: QuarantinedEntry) => void;
  /** A line dropped by the client (too long, or not a JSON object in native input). */
  onLineRejected?: (where: string, reason: string) => void;
  backoff?: BackoffPolicy;
  requestTimeoutMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  fetchImpl?: typeof fetch;
  now?: () => number;
  random?: () => number;
}

export class SpooledExit extends Error {
  constructor(readonly summary: PushSummary) {
    super('the endpoint could not be reached in time; unsent batches were spooled');
  }
}

/** A sender whose retries are counted in the summary. */
export function senderFor(opts: PushOptions, summary: PushSummary, extra: { signal?: AbortSignal; hardSignal?: AbortSignal } = {}): BatchSender {
  return new BatchSender({
    ...opts,
    ...extra,
    onRetry: (o: SendOutcome) => {
      summary.retries++;
      summary.retryStatuses[String(o.status)] = (summary.retryStatuses[String(o.status)] ?? 0) + 1;
    },
  });
}

/** The batch limits of push and push --follow from their options. */
export function batchLimits(opts: PushOptions): BatchLimits {
  return {
    maxLines: opts.batchSize,
    maxBytes: opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
    maxDays: opts.maxDaysPerBatch ?? DEFAULT_MAX_DAYS_PER_BATCH,
    wholeDays: opts.wholeDays ?? true,
  };
}

/** A batch built from a range of the input: its request, and the byte range [start, end) it accounts for. */
export interface SealedBatch {
  batch: PreparedBatch;
  start: number;
  end: number;
}

export interface LineIntakeOptions {
  sensor: string;
  gzip: boolean;
  format?: InputFormat;
  onReject?: (where: string, reason: string) => void;
  /** How a dropped line is named in messages (a line number for push, a byte offset for --follow). */
  where?: (start: number, number: number) => string;
  /** Attach each batch's input line numbers (PreparedBatch.inputLines), so rejections can name them. */
  trackInputLines?: boolean;
  now?: () => number;
}

/**
 * Turns lines into batches ready to send: drops blank lines, rejects what the service would refuse anyway,
 * detects the format from the first line, and builds each batch's request the moment it is cut (the cut's
 * bytes live in the batcher's reused buffer). Shared by push and the follower so both cut the same batches.
 */
export class LineIntake {
  format: InputFormat | undefined;
  private ready: SealedBatch[] = [];
  private readonly now: () => number;
  /** Input line numbers of the lines in the batcher, oldest first (only with trackInputLines). */
  private numbers: number[] = [];

  constructor(
    private readonly batcher: Batcher,
    private readonly summary: PushSummary,
    private readonly opts: LineIntakeOptions,
  ) {
    this.format = opts.format;
    this.now = opts.now ?? Date.now;
  }

  /** The LineSink to hand to LineSplitter.each(). */
  readonly sink: LineSink = (src, from, to, start, end, number) => {
    if (src === undefined) {
      this.reject(start, number, `longer than ${MAX_LINE_BYTES} bytes`);
      return;
    }
    if (isBlank(src, from, to)) return;
    this.summary.lines++;
    if (this.opts.trackInputLines) this.numbers.push(number);
    this.format ??= detectFormat(src.toString('utf8', from, to));
    let cut;
    if (this.format === 'native') {
      const r = lineForBatch(src.toString('utf8', from, to), 'native');
      if ('reject' in r) {
        if (this.opts.trackInputLines) this.numbers.pop();
        this.reject(start, number, r.reject);
        return;
      }
      const canonical = Buffer.from(r.text, 'utf8');
      cut = this.batcher.addRange(canonical, 0, canonical.length, end, this.now(), lineDay(canonical, 0, canonical.length, 'native'));
    } else {
      cut = this.batcher.addRange(src, from, to, end, this.now(), lineDay(src, from, to, this.format));
    }
    if (cut) this.seal(cut);
  };

  /** The batches completed so far, in order; the caller delivers them. */
  drain(): SealedBatch[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  /** drain() plus the partial batch (end of input, time-based flush, rotation, shutdown). */
  flush(): SealedBatch[] {
    const cut = this.batcher.take();
    if (cut) this.seal(cut);
    return this.drain();
  }

  get waitingSince(): number | undefined {
    return this.batcher.waitingSince;
  }

  private seal(cut: CutBatch): void {
    const batch = prepareBatchFromNdjson(this.opts.sensor, cut.ndjson, cut.lines, this.format ?? 'eve', this.opts.gzip);
    // A cut holds the oldest lines of the batcher: the first `cut.lines` numbers.
    if (this.opts.trackInputLines) batch.inputLines = this.numbers.splice(0, cut.lines);
    this.ready.push({ batch, start: cut.start, end: cut.end });
  }

  private reject(start: number, number: number, reason: string): void {
    // Counted with the service's rejections: to the operator both are alert lines that were not counted.
    this.summary.rejected++;
    this.opts.onReject?.(this.opts.where ? this.opts.where(start, number) : `line ${number}`, reason);
  }
}

/**
 * A file's content in chunks read into one reused buffer: a stream would allocate a fresh buffer per chunk,
 * and on a 1 GB file those wait for the garbage collector by the dozen. Each chunk is only valid until the
 * next one is requested (the splitter copies what it keeps).
 */
async function* fileChunks(path: string, size = 256 * 1024): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafeSlow(size);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, size, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** The first two bytes of every gzip member (RFC 1952 §2.3.1). */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Whether a file starts like gzip (a logrotate-compressed `eve.json.2.gz`). */
export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return isGzip(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/**
 * The input as it is, or decompressed when it starts with the gzip magic bytes: a rotated log compressed by
 * logrotate is read like the plain one (several concatenated members included), from a file or from stdin.
 */
async function* gunzipIfCompressed(chunks: AsyncIterable<Buffer | string>, name: string): AsyncGenerator<Buffer | string> {
  const it = chunks[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  if (typeof first.value === 'string' || !isGzip(first.value)) {
    yield first.value;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
    return;
  }
  // Copies: the file reader reuses its buffer, and the decompressor may still hold a chunk when the next is read.
  async function* compressed() {
    yield Buffer.from(first.value as Buffer);
    for (let next = await it.next(); !next.done; next = await it.next()) yield Buffer.from(next.value as Buffer);
  }
  const gunzip = pipeline(Readable.from(compressed()), createGunzip(), () => {});
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    throw new Error(`${name} starts like gzip but cannot be decompressed: ${(err as Error).message}`);
  }
}

/**
 * Pushes `input` (a file path, or a stream such as stdin; undefined to only drain the spool). The spool is
 * drained first, with the original keys. Throws SpooledExit when batches are left in the spool.
 */
export async function pushLog(input: string | Readable | undefined, opts: PushOptions): Promise<PushSummary> {
  const summary = emptySummary();
  const gzip = opts.gzip ?? true;
  const delivery = new Delivery(senderFor(opts, summary), {
    sensor: opts.sensor,
    spool: opts.spool,
    gzip,
    retryForMs: opts.retryForMs,
    onBatch: opts.onProgress,
    onRefused: opts.onRefused,
    onQuarantined: opts.onQuarantined,
  }, summary);
  // If the endpoint is still down, the input is spooled straight away rather than retried batch by batch.
  await delivery.drain();
  if (input === undefined) {
    if (delivery.down) throw new SpooledExit(summary);
    return summary;
  }

  const raw = gunzipIfCompressed(typeof input === 'string' ? fileChunks(input) : (input as AsyncIterable<Buffer | string>), typeof input === 'string' ? input : 'the input');
  const splitter = new LineSplitter(0, MAX_LINE_BYTES);
  const batcher = new Batcher(batchLimits(opts));
  let format = opts.format;
  // A native input may be one {"alerts":[…]} document rather than one alert per line (EVE and Snort never are).
  const chunks = format === undefined || format === 'native' ? expandNativeDocument(raw, () => (format = 'native')) : raw;
  let intake: LineIntake | undefined;
  const intakeFor = () => (intake ??= new LineIntake(batcher, summary, { sensor: opts.sensor, gzip, format, onReject: opts.onLineRejected, trackInputLines: true, now: opts.now }));
  for await (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    summary.bytesRead += bytes.length;
    const sink = intakeFor();
    splitter.each(bytes, sink.sink);
    // Sequential on purpose: the next chunk is not read while a batch is in flight, which is the backpressure
    // that keeps memory flat on a 1 GB file.
    for (const sealed of sink.drain()) await delivery.deliver(sealed.batch);
    opts.onProgress?.(summary);
  }
  const sink = intakeFor();
  splitter.finishEach(sink.sink);
  for (const sealed of sink.flush()) await delivery.deliver(sealed.batch);
  if (delivery.down) throw new SpooledExit(summary);
  return summary;
}
