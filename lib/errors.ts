/**
 * Errors are values with a stable `code`. The HTTP layer maps each class to a status (lib/http/problem.ts);
 * nothing else decides statuses. Codes are part of the wire contract: never rename one.
 */

export type ErrorCode =
  | 'malformed_body'
  | 'invalid_alert'
  | 'signature_invalid'
  | 'digest_mismatch'
  | 'unknown_sensor'
  | 'sensor_revoked'
  | 'stale_signature'
  | 'idempotency_conflict'
  | 'invalid_idempotency_key'
  | 'too_large'
  | 'too_many_days'
  | 'rate_limited'
  | 'unsupported_media_type'
  | 'retry_later'
  | 'not_found'
  | 'method_not_allowed'
  | 'internal';

export class AlertgraphError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra members for the problem document (RFC 9457 extension members). Never secrets or raw IPs. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request is not authentic: bad or missing signature, digest, key, or timing. → 401 */
export class SignatureError extends AlertgraphError {}

/** The body cannot be used as a batch. → 400 (or 413/415 by code) */
export class ValidationError extends AlertgraphError {}

/** Same Idempotency-Key, different content. → 409 */
export class ConflictError extends AlertgraphError {}

/** A sensor (or a claimed key id) sent more than its budget; retry after the given seconds. → 429 */
export class RateLimitedError extends AlertgraphError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super('rate_limited', message, {});
  }
}

/** Storage throttled or unavailable; the sensor should retry with the same key. → 503 */
export class RetryLaterError extends AlertgraphError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super('retry_later', message, {});
  }
}
