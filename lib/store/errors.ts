import { RetryLaterError } from '../errors.js';

const RETRYABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
  'SlowDown',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/**
 * Turns a storage failure that a retry can cure (throttling, 5xx, connection trouble) into RetryLaterError,
 * so that the sensor gets 503 + Retry-After and tries again with the same Idempotency-Key. Anything else is
 * returned unchanged: it is a bug or a configuration problem and must surface as such.
 */
export function classifyStorageError(err: unknown): unknown {
  if (err instanceof RetryLaterError) return err;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; cause?: { code?: string } };
  const status = e?.$metadata?.httpStatusCode;
  if (
    (e?.name !== undefined && RETRYABLE_NAMES.has(e.name)) ||
    (status !== undefined && status >= 500) ||
    (e?.code !== undefined && NETWORK_CODES.has(e.code)) ||
    (e?.cause?.code !== undefined && NETWORK_CODES.has(e.cause.code))
  ) {
    return new RetryLaterError(`storage unavailable (${e?.name ?? e?.code ?? status})`, 2);
  }
  return err;
}

export async function withStorage<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw classifyStorageError(err);
  }
}
