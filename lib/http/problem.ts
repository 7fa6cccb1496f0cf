/**
 * Errors → RFC 9457 problem documents. This is the only place that decides HTTP statuses for errors.
 * A 500 says nothing internal; the caller logs the cause.
 */
import { AlertgraphError, type ErrorCode, RateLimitedError, RetryLaterError } from '../errors.js';

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const STATUS: Record<ErrorCode, number> = {
  malformed_body: 400,
  invalid_alert: 400,
  invalid_idempotency_key: 400,
  signature_invalid: 401,
  digest_mismatch: 401,
  unknown_sensor: 401,
  sensor_revoked: 401,
  stale_signature: 401,
  idempotency_conflict: 409,
  too_large: 413,
  too_many_days: 413,
  rate_limited: 429,
  unsupported_media_type: 415,
  retry_later: 503,
  not_found: 404,
  method_not_allowed: 405,
  internal: 500,
};

const TITLES: Record<ErrorCode, string> = {
  malformed_body: 'The body cannot be read as a batch',
  invalid_alert: 'No valid alert in the batch',
  invalid_idempotency_key: 'Invalid Idempotency-Key',
  signature_invalid: 'The request signature is not valid',
  digest_mismatch: 'The body does not match its Content-Digest',
  unknown_sensor: 'Unknown sensor',
  sensor_revoked: 'Sensor revoked',
  stale_signature: 'The signature is outside its validity window',
  idempotency_conflict: 'Idempotency-Key already used for another batch',
  too_large: 'Batch too large',
  too_many_days: 'Batch spans too many days',
  rate_limited: 'Too many requests for this sensor',
  unsupported_media_type: 'Unsupported media type',
  retry_later: 'Storage is busy; retry later with the same Idempotency-Key',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  internal: 'Internal error',
};

/** Problem types are URNs: stable identifiers that do not pretend to be pages someone must host. */
export const PROBLEM_TYPE_BASE = 'urn:alertgraph:problem:';

export function statusFor(code: ErrorCode): number {
  return STATUS[code];
}

export function problemResponse(code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): HttpResponse {
  const status = STATUS[code];
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
  return {
    statusCode: status,
    headers,
    body: JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${code}`, title: TITLES[code], status, code, detail, ...extra }),
  };
}

/** Maps any thrown value to a response; `internal` for anything that is not one of ours. */
export function errorResponse(err: unknown): HttpResponse {
  if (err instanceof AlertgraphError) {
    const res = problemResponse(err.code, err.message, err.details);
    if (err instanceof RetryLaterError || err instanceof RateLimitedError) res.headers['retry-after'] = String(err.retryAfterSeconds);
    return res;
  }
  return problemResponse('internal', 'The request could not be processed. It has been logged.');
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
