/**
 * The HTTP API as plain request → response, shared by the Lambda handler and the local gateway.
 */
import { AlertgraphError } from '../errors.js';
import { ingestBatch, type IngestDeps } from '../ingest/ingest-batch.js';
import { errorFields, type Log } from '../log.js';
import { openApiDocument } from './openapi.js';
import { ID_PATTERN } from '../store/table.js';
import { errorResponse, jsonResponse, problemResponse, type HttpResponse } from './problem.js';

export interface ApiRequest {
  method: string;
  path: string;
  /** Raw query string without `?`. */
  query: string;
  /** Lower-case names; repeated fields joined with ", ". */
  headers: Record<string, string | undefined>;
  body: Uint8Array;
  authority?: string;
  scheme?: string;
}

/** What one batch request ended as, for metrics: a receipt's counts, or the refusal's code. */
export type BatchOutcome =
  | { ok: true; status: number; accepted: number; rejected: number; skipped: number; duplicate: boolean; writeUnits: number; ms: number }
  | { ok: false; status: number; code: string; ms: number };

export interface ApiDeps {
  ingest: IngestDeps;
  log: Log;
  onBatch?: (outcome: BatchOutcome) => void;
}

/**
 * The key id a request claims, for logs only (unverified): an operator looking at refusals wants to know which
 * sensor is misconfigured. Only an id of the registry's shape is echoed, so nothing arbitrary reaches the log.
 */
function claimedSensor(headers: ApiRequest['headers']): string | undefined {
  const id = /keyid="([^"]{1,63})"/.exec(headers['signature-input'] ?? '')?.[1];
  return id !== undefined && ID_PATTERN.test(id) ? id : undefined;
}

export async function handleApiRequest(req: ApiRequest, deps: ApiDeps): Promise<HttpResponse> {
  const route = `${req.method.toUpperCase()} ${req.path}`;
  switch (route) {
    case 'GET /healthz':
      return jsonResponse(200, { status: 'ok' });
    case 'GET /openapi.json':
      return jsonResponse(200, openApiDocument(deps.ingest.limits), { 'cache-control': 'public, max-age=300' });
    case 'POST /v1/batches':
      return postBatch(req, deps);
    default:
      if (req.path === '/v1/batches') {
        const res = problemResponse('method_not_allowed', `${req.method} is not allowed on /v1/batches; use POST`);
        res.headers.allow = 'POST';
        return res;
      }
      return problemResponse('not_found', `no route for ${req.method} ${req.path}`);
  }
}

async function postBatch(req: ApiRequest, deps: ApiDeps): Promise<HttpResponse> {
  const started = performance.now();
  try {
    const { status, receipt } = await ingestBatch(req, deps.ingest);
    const ms = Math.round(performance.now() - started);
    deps.onBatch?.({ ok: true, status, accepted: receipt.accepted, rejected: receipt.rejected, skipped: receipt.skipped, duplicate: receipt.duplicate, writeUnits: receipt.writeUnits, ms });
    deps.log.info('batch', {
      sensor: receipt.sensor,
      status,
      accepted: receipt.accepted,
      rejected: receipt.rejected,
      skipped: receipt.skipped,
      duplicate: receipt.duplicate,
      bytes: receipt.bytes,
      writeUnits: receipt.writeUnits,
      ms,
    });
    return jsonResponse(status, receipt);
  } catch (err) {
    const res = errorResponse(err);
    const fields = { status: res.statusCode, ms: Math.round(performance.now() - started), sensor: claimedSensor(req.headers) };
    deps.onBatch?.({ ok: false, status: res.statusCode, code: err instanceof AlertgraphError ? err.code : 'internal', ms: fields.ms });
    if (err instanceof AlertgraphError) {
      // Expected refusals: the code says it all; the client's details stay out of the log.
      deps.log.warn('batch refused', { ...fields, code: err.code });
    } else {
      deps.log.error('batch failed', { ...fields, ...errorFields(err) });
    }
    return res;
  }
}
