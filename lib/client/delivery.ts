/**
 * What happens to a batch after it is cut: sent (and counted in the summary), split on 413, refused and
 * reported, or spooled when the endpoint stays unreachable — and the spool drained again, oldest first, with
 * the original keys. Shared by `push` and `push --follow`.
 */
import type { KeyObject } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { InputFormat } from './batcher.js';
import type { BatchSender, SendOutcome } from './sender.js';
import { batchIdempotencyKey, type PreparedBatch } from './sign-batch.js';
import { DamagedSpoolEntry, type QuarantinedEntry, type Spool } from './spool.js';

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
  /** Batches sent from the spool in this run (their counts are in the totals above). */
  drainedBatches: number;
  /** Empty batches sent by `--follow` so that a quiet sensor is seen as alive. */
  heartbeats: number;
  /** Non-blank lines read. */
  lines: number;
  bytesRead: number;
  /** Attempts that failed and were tried again, by HTTP status ("0": no answer). */
  retries: number;
  retryStatuses: Record<string, number>;
  /** Refused batches, the first MAX_ERRORS of them (errorsOmitted counts the rest). */
  errors: { batch: string; status: number; code?: string; detail?: string }[];
  errorsOmitted: number;
  /**
   * Alert lines the service rejected, with its reasons, the first MAX_REJECTIONS of them (rejectionsOmitted
   * counts the rest, including lines the service counted in `rejected` without listing them). `inputLine` is
   * the line of the input when known; `line` the line within the batch.
   */
  rejections: Rejection[];
  rejectionsOmitted: number;
  /** Damaged spool entries moved to the spool's quarantine dir in this run (not sent; see the warning). */
  quarantined: QuarantinedEntry[];
}

export interface Rejection {
  batch: string;
  line: number;
  inputLine?: number;
  reason: string;
}

const MAX_ERRORS = 100;
const MAX_REJECTIONS = 10_000;

export function emptySummary(): PushSummary {
  return {
    batches: 0, accepted: 0, rejected: 0, skipped: 0, duplicateBatches: 0, writeUnits: 0, failedBatches: 0,
    spooledBatches: 0, drainedBatches: 0, heartbeats: 0, lines: 0, bytesRead: 0, retries: 0, retryStatuses: {},
    errors: [], errorsOmitted: 0, rejections: [], rejectionsOmitted: 0, quarantined: [],
  };
}

const NATIVE_PREFIX = Buffer.from('{"alerts":[');
const NATIVE_SUFFIX = Buffer.from(']}');

/**
 * Builds a batch's body from its lines (each followed by "\n") and derives its Idempotency-Key from the
 * content (DESIGN §10). The same lines always give the same key, which is what makes a resend — after a
 * crash, a 413 split, from the spool — count once.
 */
export function prepareBatchFromNdjson(sensor: string, ndjson: Buffer, lines: number, format: InputFormat, gzip: boolean): PreparedBatch {
  // `ndjson` may be a view the caller reuses: the body must be our own copy (or the compressed form).
  let raw = gzip ? ndjson : Buffer.from(ndjson);
  if (format === 'native') {
    // Canonical native lines hold no raw newline (batcher.lineForBatch), so each separator becomes a comma.
    const inner = Buffer.from(ndjson.subarray(0, Math.max(0, ndjson.length - 1)));
    for (let i = inner.indexOf(0x0a); i !== -1; i = inner.indexOf(0x0a, i + 1)) inner[i] = 0x2c;
    raw = Buffer.concat([NATIVE_PREFIX, inner, NATIVE_SUFFIX]);
  }
  return {
    idempotencyKey: batchIdempotencyKey(sensor, raw),
    contentType: format === 'native' ? 'application/json' : 'application/x-ndjson',
    body: gzip ? gzipSync(raw) : raw,
    gzip,
    lines,
  };
}

/** The same from lines as strings (the demo loader and benchmarks build batches this way). */
export function prepareBatch(sensor: string, lines: string[], format: InputFormat, gzip: boolean): PreparedBatch {
  return prepareBatchFromNdjson(sensor, Buffer.from(`${lines.join('\n')}\n`, 'utf8'), lines.length, format, gzip);
}

/**
 * The lines a prepared batch was built from, for splitting a batch that meets a 413 (sent directly or from
 * the spool alike). Native lines come back in the canonical form the reader sends, so the halves get the
 * same keys whichever path they take.
 */
export function linesOfBatch(batch: PreparedBatch): { lines: string[]; format: InputFormat } | undefined {
  try {
    const text = (batch.gzip ? gunzipSync(batch.body) : Buffer.from(batch.body)).toString('utf8');
    if (batch.contentType === 'application/json') {
      const doc = JSON.parse(text) as { alerts?: unknown };
      if (!Array.isArray(doc.alerts)) return undefined;
      return { lines: doc.alerts.map((a) => JSON.stringify(a)), format: 'native' };
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return { lines, format: 'eve' };
  } catch {
    return undefined;
  }
}

export interface DeliveryOptions {
  sensor: string;
  spool: Spool;
  gzip: boolean;
  retryForMs: number;
  /**
   * Follow mode: a 401 is not final. The key file is read again (a rotated key), and if the service still
   * refuses, the batch is spooled rather than dropped, to be sent once the key is registered.
   */
  reloadKey?: () => Promise<KeyObject | undefined>;
  onBatch?: (summary: PushSummary) => void;
  onRefused?: (error: PushSummary['errors'][number]) => void;
  /** A damaged spool entry was moved aside (the caller warns, naming it and what to do). */
  onQuarantined?: (entry: QuarantinedEntry) => void;
}

export type DeliveryResult = 'sent' | 'spooled';

export class Delivery {
  /** Set once the endpoint stayed unreachable for a whole retry budget: new batches go straight to the spool. */
  down = false;

  constructor(
    private readonly sender: BatchSender,
    private readonly opts: DeliveryOptions,
    readonly summary: PushSummary = emptySummary(),
  ) {}

  /**
   * Sends one batch (splitting it on 413), or spools it. 'spooled' when any part of it went to the spool; in
   * both cases the batch is safe and its input may be checkpointed.
   */
  async deliver(batch: PreparedBatch, budgetMs = this.opts.retryForMs): Promise<DeliveryResult> {
    if (this.down) return this.spoolBatch(batch);
    const outcome = await this.attempt(batch, budgetMs);
    if (outcome === undefined) {
      this.down = true;
      return this.spoolBatch(batch);
    }
    if (outcome.kind === 'split') return this.split(batch, budgetMs, outcome);
    this.record(batch, outcome);
    return 'sent';
  }

  /**
   * Sends the spooled batches, oldest first, each with `budgetMs` of retries (0: one attempt each, how a
   * follower probes a dead endpoint). True when the spool is empty afterwards.
   */
  async drain(budgetMs = this.opts.retryForMs): Promise<boolean> {
    await this.opts.spool.sweep();
    for (const name of await this.opts.spool.list()) {
      let batch: PreparedBatch | undefined;
      try {
        batch = await this.opts.spool.read(name);
      } catch (err) {
        if (!(err instanceof DamagedSpoolEntry)) throw err;
        // One bad entry must not hold back the others, nor every later push: it is moved aside and reported.
        const moved = await this.opts.spool.quarantine(name, err.reason);
        this.summary.quarantined.push(moved);
        this.opts.onQuarantined?.(moved);
        continue;
      }
      // Gone: a concurrent drain (another push for this sensor) sent it.
      if (batch === undefined) continue;
      const outcome = await this.attempt(batch, budgetMs);
      if (outcome === undefined) {
        this.down = true;
        return false;
      }
      this.summary.drainedBatches++;
      if (outcome.kind === 'split') {
        // The halves are delivered (or spooled under their own keys) before the whole leaves the spool; a crash
        // in between replays the whole, which splits into the same halves again.
        await this.split(batch, budgetMs, outcome);
      } else {
        this.record(batch, outcome);
      }
      await this.opts.spool.remove(name);
      if (this.down) return false;
    }
    this.down = false;
    return true;
  }

  private async attempt(batch: PreparedBatch, budgetMs: number): Promise<SendOutcome | undefined> {
    let outcome = await this.sender.sendWithRetry(batch, budgetMs);
    if (outcome?.kind === 'refused' && outcome.status === 401 && this.opts.reloadKey) {
      const key = await this.opts.reloadKey().catch(() => undefined);
      if (key) {
        this.sender.setPrivateKey(key);
        outcome = await this.sender.sendWithRetry(batch, budgetMs);
      }
      if (outcome?.kind === 'refused' && outcome.status === 401) {
        this.reportOnce(batch, outcome);
        return undefined;
      }
    }
    return outcome;
  }

  private async split(batch: PreparedBatch, budgetMs: number, outcome: SendOutcome): Promise<DeliveryResult> {
    // The lines come back out of the body (a batch in flight keeps no second copy of them).
    const parts = linesOfBatch(batch);
    if (parts === undefined || parts.lines.length < 2) {
      this.record(batch, { ...outcome, kind: 'refused' });
      return 'sent';
    }
    // Halves at a fixed point with content-derived keys: a re-run splits the same batch the same way.
    const { lines, format } = parts;
    const half = Math.ceil(lines.length / 2);
    let result: DeliveryResult = 'sent';
    for (const [from, to] of [[0, half], [half, lines.length]] as const) {
      const sub = prepareBatch(this.opts.sensor, lines.slice(from, to), format, this.opts.gzip);
      if (batch.inputLines) sub.inputLines = batch.inputLines.slice(from, to);
      if ((await this.deliver(sub, budgetMs)) === 'spooled') result = 'spooled';
    }
    return result;
  }

  private async spoolBatch(batch: PreparedBatch): Promise<DeliveryResult> {
    await this.opts.spool.add(batch);
    this.summary.spooledBatches++;
    this.opts.onBatch?.(this.summary);
    return 'spooled';
  }

  private refusedKeys = new Set<string>();

  /** A batch held back on a 401 is reported once, not on every probe. */
  private reportOnce(batch: PreparedBatch, outcome: SendOutcome): void {
    if (this.refusedKeys.has(batch.idempotencyKey)) return;
    this.refusedKeys.add(batch.idempotencyKey);
    this.opts.onRefused?.({ batch: batch.idempotencyKey, status: outcome.status, ...outcome.problem });
  }

  /** The service's reasons for rejected lines; `count` is how many it rejected (its list may be capped). */
  private recordRejections(batch: PreparedBatch, outcome: SendOutcome, count: number): void {
    const s = this.summary;
    const listed = outcome.rejectedLines ?? [];
    for (const r of listed) {
      if (s.rejections.length >= MAX_REJECTIONS) {
        s.rejectionsOmitted++;
        continue;
      }
      const inputLine = batch.inputLines?.[r.line - 1];
      s.rejections.push({ batch: batch.idempotencyKey, line: r.line, ...(inputLine !== undefined ? { inputLine } : {}), reason: r.reason });
    }
    s.rejectionsOmitted += Math.max(0, count - listed.length);
  }

  private record(batch: PreparedBatch, outcome: SendOutcome): void {
    const s = this.summary;
    s.batches++;
    if (outcome.kind === 'ok') {
      const r = outcome.receipt ?? {};
      const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : 0);
      s.writeUnits += n('writeUnits');
      // A duplicate batch was counted by an earlier push: its alerts are not counted (or reported) again.
      if (r.duplicate === true) s.duplicateBatches++;
      else {
        s.accepted += n('accepted');
        s.rejected += n('rejected');
        s.skipped += n('skipped');
        this.recordRejections(batch, outcome, n('rejected'));
      }
    } else {
      this.recordRejections(batch, outcome, outcome.rejectedCount ?? 0);
      s.failedBatches++;
      const error = { batch: batch.idempotencyKey, status: outcome.status, ...outcome.problem };
      if (s.errors.length < MAX_ERRORS) s.errors.push(error);
      else s.errorsOmitted++;
      this.opts.onRefused?.(error);
    }
    this.opts.onBatch?.(s);
  }
}
