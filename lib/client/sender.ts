/**
 * Sends one signed batch over HTTP and classifies the answer (DESIGN §4): delivered, refused for good,
 * too large (split it), or worth another try. Retries follow backoff.ts within a time budget.
 */
import type { KeyObject } from 'node:crypto';
import { abortableSleep, DEFAULT_BACKOFF, parseRetryAfter, retryDelay, type BackoffPolicy } from './backoff.js';
import { signedBatchHeaders, type PreparedBatch } from './sign-batch.js';
import { fetchTransport, nodeTransport, type Transport, type TransportResponse } from './transport.js';

export interface SenderOptions {
  endpoint: string;
  sensor: string;
  privateKey: KeyObject;
  /** Default time budget of sendWithRetry. */
  retryForMs: number;
  /** Per request; a hung connection must not hold a batch forever. */
  requestTimeoutMs?: number;
  backoff?: BackoffPolicy;
  /** Aborts waits between attempts (a stopping follower spools rather than sleeps). */
  signal?: AbortSignal;
  /** Aborts requests in flight (fired a little after `signal`, so a request about to finish may finish). */
  hardSignal?: AbortSignal;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Sends through this fetch instead of node:http (tests; see transport.ts). */
  fetchImpl?: typeof fetch;
  now?: () => number;
  random?: () => number;
  /** Called for every attempt that will be retried (counts, logs). */
  onRetry?: (outcome: SendOutcome) => void;
}

export interface SendOutcome {
  /** ok: 2xx. refused: a 4xx that a retry cannot cure. split: 413 on a batch of several lines. retry: the rest. */
  kind: 'ok' | 'refused' | 'split' | 'retry';
  /** HTTP status; 0 when no response came (connection refused or reset, timeout). */
  status: number;
  receipt?: Record<string, unknown>;
  problem?: { code?: string; detail?: string };
  /** Alert lines the service rejected, with its reasons (from a receipt, or a 400's problem document). */
  rejectedLines?: RejectedLine[];
  /** How many alert lines a refused batch had rejected (its problem document's `rejected`). */
  rejectedCount?: number;
  retryAfterMs?: number;
}

/** One rejected alert line as the service reports it: `line` is 1-based within the batch. */
export interface RejectedLine {
  line: number;
  reason: string;
}

/** The service's list of rejected lines, if the document has a well-formed one. */
function rejectedLinesOf(doc: Record<string, unknown>): RejectedLine[] | undefined {
  const list = doc.rejectedLines;
  if (!Array.isArray(list)) return undefined;
  const out = list.filter((r): r is RejectedLine =>
    r !== null && typeof r === 'object' && typeof (r as RejectedLine).line === 'number' && typeof (r as RejectedLine).reason === 'string');
  return out.length ? out.map((r) => ({ line: r.line, reason: r.reason })) : undefined;
}

/** Statuses worth retrying besides 5xx: timeout, too early, too many requests. */
const RETRYABLE_4XX = new Set([408, 425, 429]);

export class BatchSender {
  private readonly url: URL;
  private readonly transport: Transport;
  private readonly now: () => number;
  private privateKey: KeyObject;

  constructor(private readonly opts: SenderOptions) {
    this.url = new URL(`${opts.endpoint.replace(/\/+$/, '')}/v1/batches`);
    this.transport = opts.fetchImpl ? fetchTransport(opts.fetchImpl) : nodeTransport;
    this.now = opts.now ?? Date.now;
    this.privateKey = opts.privateKey;
  }

  /** Switches the signing key (a follower re-reads its key file after a rotation). */
  setPrivateKey(key: KeyObject): void {
    this.privateKey = key;
  }

  async sendOnce(batch: PreparedBatch): Promise<SendOutcome> {
    let res: TransportResponse;
    try {
      res = await this.transport(this.url, {
        // Signed per attempt: `created` must be within ±300 s of the server's clock (DESIGN §4).
        headers: signedBatchHeaders({ url: this.url, sensor: this.opts.sensor, privateKey: this.privateKey, batch, now: this.now() }),
        body: batch.body,
        timeoutMs: this.opts.requestTimeoutMs ?? 60_000,
        signal: this.opts.hardSignal,
      });
    } catch (err) {
      // No answer, or the connection broke while it was read: whether the batch counted is unknown, and a
      // resend with the same key is exactly how the service is meant to be asked again.
      return { kind: 'retry', status: 0, problem: { detail: networkError(err) } };
    }
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      /* not JSON: a proxy's error page */
    }
    const status = res.status;
    if (status >= 200 && status < 300) return { kind: 'ok', status, receipt: json, rejectedLines: rejectedLinesOf(json) };
    const problem = {
      code: typeof json.code === 'string' ? json.code : undefined,
      detail: typeof json.detail === 'string' ? json.detail : status >= 300 && status < 400 ? `the endpoint redirects to ${res.header('location') ?? '?'}; use that URL` : undefined,
    };
    if (status === 413 && batch.lines > 1) return { kind: 'split', status, problem };
    if (status >= 500 || RETRYABLE_4XX.has(status)) {
      return { kind: 'retry', status, problem, retryAfterMs: parseRetryAfter(res.header('retry-after'), this.now()) };
    }
    const rejectedCount = typeof json.rejected === 'number' ? json.rejected : undefined;
    return { kind: 'refused', status, problem, rejectedLines: rejectedLinesOf(json), rejectedCount };
  }

  /**
   * Sends one batch, retrying with exponential backoff and full jitter (Retry-After as a floor) until it is
   * delivered, refused, or `budgetMs` has passed. Undefined when the time ran out (or the wait was aborted):
   * the caller spools the batch. A budget of 0 makes exactly one attempt.
   */
  async sendWithRetry(batch: PreparedBatch, budgetMs = this.opts.retryForMs): Promise<SendOutcome | undefined> {
    const deadline = this.now() + budgetMs;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.sendOnce(batch);
      if (outcome.kind !== 'retry') return outcome;
      this.opts.onRetry?.(outcome);
      const remaining = deadline - this.now();
      if (remaining <= 0 || this.opts.signal?.aborted) return undefined;
      // The server asked not to come back before then: trying earlier would only be refused again.
      if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > remaining) return undefined;
      // The last attempt lands on the deadline rather than being skipped.
      const wait = Math.min(retryDelay(attempt, outcome.retryAfterMs, this.opts.random, this.opts.backoff ?? DEFAULT_BACKOFF), remaining);
      if (this.opts.sleep) await this.opts.sleep(wait);
      else await abortableSleep(wait, this.opts.signal);
      if (this.opts.signal?.aborted) return undefined;
    }
  }
}

function networkError(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'request timed out';
  return e?.code ?? e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}
