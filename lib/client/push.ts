/**
 * `alertgraph push`: reads a log as a stream, cuts it into batches, signs and sends each, retries what can be
 * retried, and spools what could not be delivered in time (DESIGN §10).
 */
import { createReadStream } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { batchIdempotencyKey, signedBatchHeaders, type PreparedBatch } from './sign-batch.js';
import type { Spool } from './spool.js';

export type InputFormat = 'eve' | 'snort' | 'native';

export interface PushOptions {
  endpoint: string;
  sensor: string;
  privateKey: KeyObject;
  format?: InputFormat;
  batchSize: number;
  /** Upper bound on a batch's uncompressed size; the service refuses more than 5 MiB. */
  maxBatchBytes?: number;
  /** How long one batch may be retried before the rest is spooled. */
  retryForMs: number;
  spool: Spool;
  gzip?: boolean;
  onProgress?: (p: PushSummary) => void;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  fetchImpl?: typeof fetch;
}

export interface PushSummary {
  batches: number;
  accepted: number;
  rejected: number;
  skipped: number;
  duplicateBatches: number;
  writeUnits: number;
  /** Batches the service refused (4xx other than 413); their errors are listed. */
  failedBatches: number;
  spooledBatches: number;
  lines: number;
  errors: { batch: string; status: number; code?: string; detail?: string }[];
}

export class SpooledExit extends Error {
  constructor(readonly summary: PushSummary) {
    super('the endpoint could not be reached in time; unsent batches were spooled');
  }
}

const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;

export function emptySummary(): PushSummary {
  return { batches: 0, accepted: 0, rejected: 0, skipped: 0, duplicateBatches: 0, writeUnits: 0, failedBatches: 0, spooledBatches: 0, lines: 0, errors: [] };
}

export function prepareBatch(sensor: string, lines: string[], format: InputFormat, gzip: boolean): PreparedBatch {
  const text = format === 'native' ? `{"alerts":[${lines.join(',')}]}` : `${lines.join('\n')}\n`;
  const raw = Buffer.from(text, 'utf8');
  return {
    idempotencyKey: batchIdempotencyKey(sensor, raw),
    contentType: format === 'native' ? 'application/json' : 'application/x-ndjson',
    body: gzip ? gzipSync(raw) : raw,
    gzip,
    lines: lines.length,
  };
}

function detectFormat(line: string): InputFormat {
  try {
    const obj = JSON.parse(line) as Record<string, unknown>;
    if (typeof obj.event_type === 'string') return 'eve';
    if (typeof obj.srcIp === 'string' || typeof obj.time === 'string') return 'native';
  } catch {
    /* fall through: the service reports the line */
  }
  return 'snort';
}

/** Non-blank lines of the input (native input: one alert object per line). */
async function* inputLines(input: Readable): AsyncGenerator<string> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() !== '') yield line;
  }
}

interface SendOutcome {
  kind: 'ok' | 'refused' | 'split' | 'retry';
  status: number;
  receipt?: Record<string, unknown>;
  problem?: { code?: string; detail?: string };
  retryAfterMs?: number;
}

export class BatchSender {
  private readonly url: URL;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: PushOptions) {
    this.url = new URL(`${opts.endpoint.replace(/\/+$/, '')}/v1/batches`);
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.fetchImpl = opts.fetchImpl ?? fetch;
  }

  async sendOnce(batch: PreparedBatch): Promise<SendOutcome> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: signedBatchHeaders({ url: this.url, sensor: this.opts.sensor, privateKey: this.opts.privateKey, batch }),
        body: batch.body,
        signal: AbortSignal.timeout(60_000),
      });
    } catch {
      return { kind: 'retry', status: 0 };
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* not JSON: a proxy's error page */
    }
    if (res.status === 200 || res.status === 202) return { kind: 'ok', status: res.status, receipt: json };
    const problem = { code: typeof json.code === 'string' ? json.code : undefined, detail: typeof json.detail === 'string' ? json.detail : undefined };
    if (res.status === 413 && batch.lines > 1) return { kind: 'split', status: 413, problem };
    if (res.status === 429 || res.status >= 500) {
      const ra = Number(res.headers.get('retry-after'));
      return { kind: 'retry', status: res.status, problem, retryAfterMs: Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined };
    }
    return { kind: 'refused', status: res.status, problem };
  }

  /**
   * Sends one batch, retrying with exponential backoff and full jitter (honouring Retry-After) until it is
   * delivered or `retryForMs` has passed. Returns undefined when the time ran out.
   */
  async sendWithRetry(batch: PreparedBatch): Promise<SendOutcome | undefined> {
    const deadline = Date.now() + this.opts.retryForMs;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.sendOnce(batch);
      if (outcome.kind !== 'retry') return outcome;
      const backoff = Math.random() * Math.min(30_000, 250 * 2 ** attempt);
      const wait = Math.max(backoff, outcome.retryAfterMs ?? 0);
      if (Date.now() + wait > deadline) return undefined;
      await this.sleep(wait);
    }
  }
}

function record(summary: PushSummary, batch: PreparedBatch, outcome: SendOutcome): void {
  summary.batches++;
  if (outcome.kind === 'ok') {
    const r = outcome.receipt ?? {};
    const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : 0);
    summary.writeUnits += n('writeUnits');
    // A duplicate batch was counted by an earlier push: its alerts are not counted (or reported) again.
    if (r.duplicate === true) {
      summary.duplicateBatches++;
      return;
    }
    summary.accepted += n('accepted');
    summary.rejected += n('rejected');
    summary.skipped += n('skipped');
  } else {
    summary.failedBatches++;
    summary.errors.push({ batch: batch.idempotencyKey, status: outcome.status, ...outcome.problem });
  }
}

/**
 * Delivers one prepared batch: splits on 413 (re-deriving keys for the halves from their content),
 * spools it if the endpoint stays unreachable. Returns false when it was spooled.
 */
async function deliver(sender: BatchSender, opts: PushOptions, summary: PushSummary, batch: PreparedBatch, lines?: string[], format?: InputFormat): Promise<boolean> {
  const outcome = await sender.sendWithRetry(batch);
  if (outcome === undefined) {
    await opts.spool.add(batch);
    summary.spooledBatches++;
    return false;
  }
  if (outcome.kind === 'split' && lines && format) {
    const half = Math.ceil(lines.length / 2);
    for (const part of [lines.slice(0, half), lines.slice(half)]) {
      if (!(await deliver(sender, opts, summary, prepareBatch(opts.sensor, part, format, opts.gzip ?? true), part, format))) return false;
    }
    return true;
  }
  record(summary, batch, outcome);
  opts.onProgress?.(summary);
  return true;
}

/** Sends the spooled batches first (original keys), oldest first. Returns false if the endpoint is still down. */
export async function drainSpool(opts: PushOptions, summary: PushSummary): Promise<boolean> {
  const sender = new BatchSender(opts);
  for (const name of await opts.spool.list()) {
    const batch = await opts.spool.read(name);
    const outcome = await sender.sendWithRetry(batch);
    if (outcome === undefined) return false;
    record(summary, batch, outcome);
    await opts.spool.remove(name);
    opts.onProgress?.(summary);
  }
  return true;
}

/**
 * Pushes `input` (a file path, or a stream such as stdin; undefined to only drain the spool).
 * Throws SpooledExit when batches had to be spooled.
 */
export async function pushLog(input: string | Readable | undefined, opts: PushOptions): Promise<PushSummary> {
  const summary = emptySummary();
  const sender = new BatchSender(opts);
  const gzip = opts.gzip ?? true;
  let endpointDown = !(await drainSpool(opts, summary));
  if (input === undefined) {
    if (endpointDown) throw new SpooledExit(summary);
    return summary;
  }
  const stream = typeof input === 'string' ? createReadStream(input) : input;
  const maxBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  let format = opts.format;
  let lines: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (lines.length === 0) return;
    const batch = prepareBatch(opts.sensor, lines, format ?? 'eve', gzip);
    const sent = lines;
    lines = [];
    bytes = 0;
    if (endpointDown) {
      // Once the endpoint has stayed down for the whole retry window, the rest goes straight to the spool.
      await opts.spool.add(batch);
      summary.spooledBatches++;
      return;
    }
    if (!(await deliver(sender, opts, summary, batch, sent, format ?? 'eve'))) endpointDown = true;
  };
  for await (const line of inputLines(stream)) {
    format ??= detectFormat(line);
    summary.lines++;
    if (lines.length >= opts.batchSize || (bytes + line.length + 1 > maxBytes && lines.length > 0)) await flush();
    lines.push(line);
    bytes += line.length + 1;
  }
  await flush();
  if (endpointDown) throw new SpooledExit(summary);
  return summary;
}
