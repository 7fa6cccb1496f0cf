/**
 * The partner gate rule (DESIGN §9) in Node: which paths are served, which query strings a partner request
 * may carry, and whether its partner is revoked.
 *
 * The rule is written once, in `cloudfront/partner-gate.js`, the CloudFront Function that enforces it on AWS.
 * This module loads that very source into a `vm` context (its `import cf from 'cloudfront'` line replaced by
 * an injected `cf`) and calls its `gateDecision`, so the local CDN and CloudFront cannot drift apart: there is
 * no second copy to keep in step. Loading reads the file beside the sources at run time, so this module is
 * for Node hosts running from the repository (the local stack, tests), not for bundled Lambdas.
 *
 * Query strings are handed to the rule unparsed (split on `&` and the first `=`, never percent-decoded): the
 * rule only accepts values with no `%`, `&`, `=` or `?`, so whether CloudFront decodes them or not cannot
 * change its answer.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

/** Absolute path of the CloudFront Function source, for the CDK stack (`FunctionCode.fromFile`). */
export const PARTNER_GATE_PATH = fileURLToPath(new URL('../../cloudfront/partner-gate.js', import.meta.url));
/** The runtime the function is written for; it needs 2.0 for `cf.kvs()` and async/await. */
export const PARTNER_GATE_RUNTIME = 'cloudfront-js-2.0';

const IMPORT_LINE = "import cf from 'cloudfront';";

export type GateReason =
  | 'not_served'
  | 'ambiguous_query'
  | 'missing'
  | 'malformed'
  | 'revoked'
  | 'revocation_list_unavailable';

export type GateResult =
  | { ok: true; area: 'public'; key: string }
  | { ok: true; area: 'partners'; key: string; partnerId: string; linkId?: string }
  | { ok: false; status: 403 | 404 | 503; reason: GateReason };

/** The request fields of a CloudFront Functions viewer-request event that the gate reads. */
export interface CfQueryEntry {
  value: string;
  multiValue?: { value: string }[];
}
export interface CfRequest {
  method: string;
  uri: string;
  querystring: Record<string, CfQueryEntry>;
  headers: Record<string, { value: string }>;
  cookies: Record<string, { value: string }>;
}
export interface CfResponse {
  statusCode: number;
  statusDescription?: string;
  headers?: Record<string, { value: string }>;
  body?: { encoding: string; data: string };
}
/** The part of `cf.kvs()` the function uses. */
export interface KvsHandle {
  exists(key: string): Promise<boolean>;
}

export interface PartnerGate {
  gateDecision(request: CfRequest): RawDecision;
  /** The revocation-list keys the handler looks up for an allowed partner decision. */
  revocationKeys(decision: RawDecision): string[];
  handler(event: { version: string; context: Record<string, string>; viewer: { ip: string }; request: CfRequest }): Promise<CfRequest | CfResponse>;
}

type RawDecision =
  | { allow: true; area: 'public' | 'partners'; uri: string; partnerId?: string; linkId?: string }
  | { allow: false; status: 403 | 404 | 503; reason: GateReason };

/** The function's source text, as CloudFront gets it. */
export function partnerGateSource(): string {
  return readFileSync(PARTNER_GATE_PATH, 'utf8');
}

/**
 * Evaluates the CloudFront Function source in a fresh context that has only the JavaScript built-ins (no
 * Node globals, as at the edge) and `cf` with the given KeyValueStore handle.
 */
export function loadPartnerGate(kvs: KvsHandle, source = partnerGateSource()): PartnerGate {
  const lines = source.split('\n');
  if (lines[0]?.trim() !== IMPORT_LINE) {
    throw new Error(`${PARTNER_GATE_PATH} must start with \`${IMPORT_LINE}\``);
  }
  // Keep the line count so that stack traces point at the file's own lines; the runtime is strict mode.
  lines[0] = "'use strict';";
  const context = vm.createContext({ cf: { kvs: () => kvs } });
  new vm.Script(lines.join('\n'), { filename: PARTNER_GATE_PATH }).runInContext(context);
  const gate = context as unknown as Partial<PartnerGate>;
  if (typeof gate.gateDecision !== 'function' || typeof gate.handler !== 'function' || typeof gate.revocationKeys !== 'function') {
    throw new Error(`${PARTNER_GATE_PATH} must define gateDecision, revocationKeys and handler`);
  }
  return { gateDecision: gate.gateDecision, revocationKeys: gate.revocationKeys, handler: gate.handler };
}

let shared: PartnerGate | undefined;
function sharedGate(): PartnerGate {
  // gateDecision never touches the store; a handle that fails loudly proves it.
  shared ??= loadPartnerGate({
    exists: () => Promise.reject(new Error('gateDecision must not read the KeyValueStore')),
  });
  return shared;
}

/**
 * A request as a CloudFront Functions event sees it: the raw path as `uri`, and the query string split on
 * `&` and the first `=` of each part, repeated names collapsed into `multiValue`. Nothing is decoded.
 * Takes the raw request target (`/path?query`), or a URL (whose pathname WHATWG has already normalised).
 */
export function cfRequestFrom(target: string | URL, method = 'GET'): CfRequest {
  const raw = typeof target === 'string' ? target : `${target.pathname}${target.search}`;
  const q = raw.indexOf('?');
  const uri = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? '' : raw.slice(q + 1);
  // No prototype, so names like `__proto__` or `constructor` are plain keys as in the CloudFront event.
  const querystring = Object.create(null) as Record<string, CfQueryEntry>;
  if (query !== '') {
    for (const part of query.split('&')) {
      const eq = part.indexOf('=');
      const name = eq === -1 ? part : part.slice(0, eq);
      const value = eq === -1 ? '' : part.slice(eq + 1);
      const entry = querystring[name];
      if (entry === undefined) querystring[name] = { value };
      else (entry.multiValue ??= [{ value: entry.value }]).push({ value });
    }
  }
  return { method, uri, querystring, headers: {}, cookies: {} };
}

/** The gate without the revocation lookup (for callers whose lookup is asynchronous, like the local CDN). */
export function decideGate(target: string | URL): GateResult {
  const d = sharedGate().gateDecision(cfRequestFrom(target));
  if (!d.allow) return { ok: false, status: d.status, reason: d.reason };
  const key = d.uri.slice(1);
  if (d.area === 'public') return { ok: true, area: 'public', key };
  const result: GateResult = { ok: true, area: 'partners', key, partnerId: String(d.partnerId) };
  if (d.linkId !== undefined) result.linkId = String(d.linkId);
  return result;
}

/**
 * The revocation-list keys the CloudFront Function looks up for an allowed partner request (its partner id,
 * and `link:<id>` when the link names one), taken from the function itself so the local CDN asks the same.
 */
export function gateRevocationKeys(gate: { partnerId: string; linkId?: string }): string[] {
  const decision: RawDecision = { allow: true, area: 'partners', uri: '/', partnerId: gate.partnerId };
  if (gate.linkId !== undefined) decision.linkId = gate.linkId;
  return [...sharedGate().revocationKeys(decision)];
}

/**
 * The CloudFront Function's whole rule: path, query-string shape, and revocation. `revoked` is the
 * revocation list (the KeyValueStore's keys: partner ids and `link:<id>`) or a predicate over those keys.
 */
export function checkPartnerRequest(
  target: string | URL,
  revoked: ReadonlySet<string> | ((key: string) => boolean),
): GateResult {
  const result = decideGate(target);
  if (!result.ok || result.area === 'public') return result;
  const has = typeof revoked === 'function' ? revoked : (key: string) => revoked.has(key);
  return gateRevocationKeys(result).some(has) ? { ok: false, status: 403, reason: 'revoked' } : result;
}

/** Prefix of a revoked link's key in the revocation list; partner ids cannot contain ':', so no clash. */
export const LINK_KEY_PREFIX = 'link:';

/** What one revocation-list key stands for. */
export type RevocationKey = { kind: 'partner'; partnerId: string } | { kind: 'link'; linkId: string };

export function parseRevocationKey(key: string): RevocationKey {
  return key.startsWith(LINK_KEY_PREFIX) ? { kind: 'link', linkId: key.slice(LINK_KEY_PREFIX.length) } : { kind: 'partner', partnerId: key };
}

/** The KeyValueStore entry that revokes a partner at the edge (key = partner id, value = revocation time). */
export function revocationEntry(partnerId: string, revokedAt: string): { key: string; value: string } {
  return { key: partnerId, value: revokedAt };
}

/** The KeyValueStore entry that revokes one link at the edge (key = `link:<link id>`, value = revocation time). */
export function linkRevocationEntry(linkId: string, revokedAt: string): { key: string; value: string } {
  return { key: `${LINK_KEY_PREFIX}${linkId}`, value: revokedAt };
}
