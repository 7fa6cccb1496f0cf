/**
 * HTTP Message Signatures (RFC 9421) for requests, Ed25519 only (§3.3.6).
 *
 * The verifier follows §3.2: parse Signature-Input and Signature (§4.1, §4.2), pick one label,
 * check the signature parameters (§2.3), rebuild the signature base (§2.5) and verify it.
 * Application policy (required components, clock skew) is applied as §3.2.1 and §7.2 advise.
 */
import { KeyObject, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { SignatureError } from '../errors.js';
import { checkContentDigest } from './content-digest.js';
import {
  innerList,
  item,
  parseDictionary,
  parseItem,
  parseList,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
  serializeList,
  serializeKey,
  serializeMember,
  type Dictionary,
  type Item,
  type Member,
  type Parameters,
} from './structured-fields.js';

export interface HttpRequestParts {
  method: string;
  /** Path only, e.g. '/v1/batches' (no query). */
  path: string;
  /** Raw query string without '?', may be ''. */
  query?: string;
  /** host[:port], lower-case. Falls back to the Host header when absent. */
  authority?: string;
  scheme?: string;
  /** Lower-case names, multiple values already combined with ", ". */
  headers: Record<string, string | undefined>;
}

export interface VerifyOptions {
  /** Resolves a keyid to an Ed25519 public KeyObject; may throw SignatureError('unknown_sensor'|'sensor_revoked'). */
  keyLookup: (keyId: string) => Promise<KeyObject> | KeyObject;
  /**
   * Asked once when the signature does not verify with the key from keyLookup (which may come from a cache):
   * the current key if it changed since (a rotation), else undefined. The signature is then tried with it.
   */
  refreshKey?: (keyId: string) => Promise<KeyObject | undefined>;
  /** ms since epoch */
  now: number;
  /** default 300: |created - now| must be <= this */
  maxSkewSeconds?: number;
  /** e.g. ['@method','@path','content-digest','content-type','idempotency-key'] */
  requiredComponents?: string[];
  /** default true */
  requireCreated?: boolean;
  /** which signature label to verify; default: the first in Signature-Input */
  label?: string;
  /**
   * When given, Content-Digest is checked against these bytes (RFC 9530) after the signature
   * verifies, so one call authenticates headers and body. Omit it to call checkContentDigest yourself.
   */
  body?: Uint8Array;
}

export interface VerifiedSignature {
  label: string;
  keyId: string;
  created?: number;
  expires?: number;
  /** Covered components in order: the bare name, or the serialized identifier when it has parameters. */
  components: string[];
  alg?: string;
  nonce?: string;
  tag?: string;
}

/** A covered component identifier (§2): a name plus component parameters. */
export interface ComponentId {
  readonly name: string;
  readonly params: Parameters;
  /** The identifier serialized as an sf-item, as it appears at the start of a base line (§2.5). */
  readonly serialized: string;
}

export interface SignOptions {
  keyId: string;
  privateKey: KeyObject;
  /** unix seconds */
  created: number;
  /** Bare names ('@method', 'content-type') or serialized identifiers ('"@query-param";name="id"'). */
  components: string[];
  /** default 'sig1' */
  label?: string;
  expires?: number;
  nonce?: string;
  tag?: string;
  /** default 'ed25519'; null leaves the alg parameter out (as in the RFC's own examples). */
  alg?: 'ed25519' | null;
}

const DEFAULT_MAX_SKEW_SECONDS = 300;
const ED25519_SIGNATURE_BYTES = 64;

const DERIVED = new Set(['@method', '@target-uri', '@authority', '@scheme', '@request-target', '@path', '@query', '@query-param']);

/** Field names are lower-cased tokens (§2.1); derived names are "@" + lower-case token. */
const COMPONENT_NAME = /^@?[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Only HTAB, SP and visible ASCII may reach the base: a CR or LF would let one value forge another line. */
const UNSAFE_VALUE = /[^\t\x20-\x7e]/;

/** Structured types of fields we can re-serialize for the `sf` parameter (§2.1.1). */
const SF_FIELD_TYPES: ReadonlyMap<string, 'dictionary' | 'list' | 'item'> = new Map([
  ['signature-input', 'dictionary'],
  ['signature', 'dictionary'],
  ['accept-signature', 'dictionary'],
  ['content-digest', 'dictionary'],
  ['repr-digest', 'dictionary'],
  ['want-content-digest', 'dictionary'],
  ['want-repr-digest', 'dictionary'],
  ['priority', 'dictionary'],
  ['cache-status', 'list'],
  ['proxy-status', 'list'],
]);

function invalid(message: string, details: Record<string, unknown> = {}): never {
  throw new SignatureError('signature_invalid', message, details);
}

/** 'idempotency-key' → 'Idempotency-Key', for messages an operator will recognise. */
function displayName(name: string): string {
  if (name.startsWith('@')) return `"${name}"`;
  return name.replace(/(^|-)([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

function describe(c: ComponentId): string {
  return c.params.size === 0 ? displayName(c.name) : c.serialized;
}

// ---------------------------------------------------------------------------------------------
// Component identifiers

/** Checks an sf-item from a covered-components inner list and turns it into a ComponentId. */
function componentFromItem(it: Item): ComponentId {
  if (typeof it.value !== 'string') {
    invalid('Each covered component must be a quoted string, e.g. "@method" (RFC 9421 §2)');
  }
  const name = it.value;
  if (!COMPONENT_NAME.test(name)) {
    invalid(
      `Covered component ${JSON.stringify(name)} is not a valid component name: field names must be lower-case (RFC 9421 §2.1)`,
    );
  }
  if (name === '@signature-params') {
    invalid('"@signature-params" cannot itself be a covered component (RFC 9421 §2.3)');
  }
  const derived = name.startsWith('@');
  if (derived && !DERIVED.has(name)) {
    invalid(
      name === '@status'
        ? '"@status" only exists for responses (RFC 9421 §2.2.9)'
        : `Unknown derived component ${JSON.stringify(name)} (RFC 9421 §2.2)`,
    );
  }
  for (const [p, v] of it.params) {
    if (derived) {
      if (name === '@query-param' && p === 'name' && typeof v === 'string') continue;
      invalid(`Component parameter ;${p} is not supported on ${JSON.stringify(name)} (RFC 9421 §2.2)`);
    }
    if (p === 'sf' && v === true) continue;
    if (p === 'key' && typeof v === 'string') continue;
    if (p === 'bs' || p === 'req' || p === 'tr') {
      invalid(`Component parameter ;${p} on ${JSON.stringify(name)} is not supported by this server`);
    }
    invalid(`Unknown or malformed component parameter ;${p} on ${JSON.stringify(name)} (RFC 9421 §2.1)`);
  }
  if (name === '@query-param' && !it.params.has('name')) {
    invalid('"@query-param" needs a ;name="..." parameter (RFC 9421 §2.2.8)');
  }
  // Names were checked above, so a parameterless identifier needs no escaping.
  const serialized = it.params.size === 0 ? `"${name}"` : serializeItem(it);
  return { name, params: it.params, serialized };
}

/**
 * '@method' → {name:'@method'}; a string starting with '"' is parsed as a serialized identifier
 * with parameters, e.g. '"@query-param";name="id"' or '"content-digest";key="sha-256"'.
 * Throws SignatureError('signature_invalid') for unknown or malformed identifiers.
 */
export function componentIdFromString(spec: string): ComponentId {
  if (spec.startsWith('"')) {
    let it: Item;
    try {
      it = parseItem(spec);
    } catch (err) {
      return invalid(`Component identifier ${spec} is malformed: ${(err as Error).message}`);
    }
    return componentFromItem(it);
  }
  return componentFromItem(item(spec));
}

function checkNoDuplicates(components: readonly ComponentId[]): void {
  // §2.5: an identifier (name and parameters together) may appear only once.
  const seen = new Set<string>();
  for (const c of components) {
    if (seen.has(c.serialized)) {
      invalid(`Covered component ${c.serialized} is listed more than once (RFC 9421 §2.5)`);
    }
    seen.add(c.serialized);
  }
}

// ---------------------------------------------------------------------------------------------
// Component values (§2.1, §2.2)

/** Removes leading and trailing SP/HTAB only (RFC 9110 §5.5 OWS), not every Unicode space. */
function trimOWS(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && (v.charCodeAt(a) === 0x20 || v.charCodeAt(a) === 0x09)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 0x20 || v.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === v.length ? v : v.slice(a, b);
}

function missing(c: ComponentId, what: string): never {
  return invalid(`The signature covers ${describe(c)} but the request has no ${what}`, { component: c.serialized });
}

function authorityOf(req: HttpRequestParts): string | undefined {
  const raw = req.authority ?? req.headers['host'];
  if (raw === undefined) return undefined;
  // §2.2.3: normalized per RFC 9110 §4.2.3 — lower-case, default port removed.
  let a = trimOWS(raw).toLowerCase();
  const scheme = req.scheme?.toLowerCase();
  if ((scheme === 'https' && a.endsWith(':443')) || (scheme === 'http' && a.endsWith(':80'))) {
    a = a.slice(0, a.lastIndexOf(':'));
  }
  return a;
}

/** application/x-www-form-urlencoded percent-encode set, space as %20 (RFC 9421 §2.2.8). */
function encodeQueryPart(s: string): string {
  return encodeURIComponent(s).replace(/[!'()~]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

function queryParamValue(req: HttpRequestParts, c: ComponentId): string {
  const wanted = c.params.get('name') as string;
  let found: string | undefined;
  let count = 0;
  // WHATWG form-urlencoded parsing, then re-encoding, as §2.2.8 specifies; the name parameter
  // holds the encoded name, so names are compared in encoded form.
  for (const [k, v] of new URLSearchParams(req.query ?? '')) {
    if (encodeQueryPart(k) === wanted) {
      found = encodeQueryPart(v);
      count++;
    }
  }
  if (found === undefined) return missing(c, `query parameter ${JSON.stringify(wanted)}`);
  if (count > 1) {
    // §2.2.8: a repeated parameter name MUST NOT be signed individually.
    invalid(`Query parameter ${JSON.stringify(wanted)} occurs more than once; sign "@query" instead (RFC 9421 §2.2.8)`);
  }
  return found;
}

function derivedValue(req: HttpRequestParts, c: ComponentId): string {
  switch (c.name) {
    case '@method':
      // §2.2.1: case-sensitive, not normalized.
      return req.method;
    case '@path':
      // §2.2.6: an empty path is "/".
      return req.path === '' ? '/' : req.path;
    case '@query':
      // §2.2.7: leading "?" always; "?" alone when there is no query.
      return `?${req.query ?? ''}`;
    case '@request-target': {
      const path = req.path === '' ? '/' : req.path;
      return req.query ? `${path}?${req.query}` : path;
    }
    case '@authority':
      return authorityOf(req) ?? missing(c, 'authority (Host)');
    case '@scheme':
      // §2.2.4: lower-case.
      return req.scheme?.toLowerCase() ?? missing(c, 'scheme');
    case '@target-uri': {
      // §2.2.2: the full target URI.
      const scheme = req.scheme?.toLowerCase() ?? missing(c, 'scheme');
      const authority = authorityOf(req) ?? missing(c, 'authority (Host)');
      const path = req.path === '' ? '/' : req.path;
      return `${scheme}://${authority}${path}${req.query ? `?${req.query}` : ''}`;
    }
    case '@query-param':
      return queryParamValue(req, c);
    default:
      return invalid(`Unknown derived component ${JSON.stringify(c.name)}`);
  }
}

function reserialize(c: ComponentId, value: string, kind: 'dictionary' | 'list' | 'item'): string {
  try {
    if (kind === 'dictionary') return serializeDictionary(parseDictionary(value));
    if (kind === 'list') return serializeList(parseList(value));
    return serializeItem(parseItem(value));
  } catch (err) {
    return invalid(`${displayName(c.name)} is not a valid structured field (needed for ;sf): ${(err as Error).message}`);
  }
}

function fieldValue(req: HttpRequestParts, c: ComponentId): string {
  const raw = req.headers[c.name];
  // typeof, not `=== undefined`: names like "constructor" must not reach Object.prototype.
  if (typeof raw !== 'string') return missing(c, `${displayName(c.name)} header`);
  const value = trimOWS(raw);
  if (c.params.size === 0) return value;

  const key = c.params.get('key');
  if (typeof key === 'string') {
    // §2.1.2: the value of one Dictionary member, serialized.
    let dict: Dictionary;
    try {
      dict = parseDictionary(value);
    } catch (err) {
      return invalid(`${displayName(c.name)} is not a valid structured field dictionary (needed for ;key): ${(err as Error).message}`);
    }
    const member: Member | undefined = dict.get(key);
    if (member === undefined) return missing(c, `member ${JSON.stringify(key)} in the ${displayName(c.name)} header`);
    return serializeMember(member);
  }
  // Only ;sf is left (componentFromItem admits nothing else for fields).
  const kind = SF_FIELD_TYPES.get(c.name);
  if (kind === undefined) {
    return invalid(`;sf is not supported for ${displayName(c.name)}: its structured type is not known to this server`);
  }
  return reserialize(c, value, kind);
}

function componentValue(req: HttpRequestParts, c: ComponentId): string {
  const v = c.name.charCodeAt(0) === 0x40 /* @ */ ? derivedValue(req, c) : fieldValue(req, c);
  if (UNSAFE_VALUE.test(v)) {
    invalid(`The value of ${describe(c)} contains characters that cannot be signed (only visible ASCII, space and tab)`, {
      component: c.serialized,
    });
  }
  return v;
}

/**
 * The signature base of RFC 9421 §2.5: one `<identifier>: <value>` line per covered component,
 * then the `"@signature-params"` line; lines joined by LF, no trailing newline.
 * `paramsSerialized` is the serialized inner list with its parameters (§2.3).
 */
export function signatureBase(req: HttpRequestParts, components: ComponentId[], paramsSerialized: string): string {
  let base = '';
  for (const c of components) {
    base += `${c.serialized}: ${componentValue(req, c)}\n`;
  }
  return `${base}"@signature-params": ${paramsSerialized}`;
}

// ---------------------------------------------------------------------------------------------
// Verification (§3.2)

function integerParam(label: string, name: string, v: unknown): number {
  if (typeof v !== 'number') invalid(`Signature "${label}": parameter ${name} must be an integer (RFC 9421 §2.3)`);
  return v;
}

function stringParam(label: string, name: string, v: unknown): string {
  if (typeof v !== 'string') invalid(`Signature "${label}": parameter ${name} must be a quoted string (RFC 9421 §2.3)`);
  return v;
}

export async function verifyRequestSignature(req: HttpRequestParts, opts: VerifyOptions): Promise<VerifiedSignature> {
  const inputHeader = req.headers['signature-input'];
  const signatureHeader = req.headers['signature'];
  if (inputHeader === undefined || trimOWS(inputHeader) === '') {
    invalid('Signature-Input header is required (RFC 9421 §4.1)');
  }
  if (signatureHeader === undefined || trimOWS(signatureHeader) === '') {
    invalid('Signature header is required (RFC 9421 §4.2)');
  }

  let inputs: Dictionary;
  let signatures: Dictionary;
  try {
    inputs = parseDictionary(inputHeader);
  } catch (err) {
    return invalid(`Signature-Input header is not a valid structured field dictionary (RFC 9421 §4.1): ${(err as Error).message}`);
  }
  try {
    signatures = parseDictionary(signatureHeader);
  } catch (err) {
    return invalid(`Signature header is not a valid structured field dictionary (RFC 9421 §4.2): ${(err as Error).message}`);
  }

  // Choose the label: the caller's, or the first one offered.
  let label = opts.label;
  if (label === undefined) {
    const first = inputs.keys().next();
    if (first.done === true) invalid('Signature-Input header contains no signature');
    label = first.value;
  }
  const input = inputs.get(label);
  if (input === undefined) invalid(`Signature-Input has no signature labelled "${label}"`, { label });
  const sigMember = signatures.get(label);
  if (sigMember === undefined) {
    invalid(
      `Signature header has no signature labelled "${label}"; the labels in Signature-Input and Signature must match`,
      { label },
    );
  }
  if (input.kind !== 'inner') {
    invalid(`Signature-Input "${label}" must be a list of covered components, e.g. ("@method" "@path")`, { label });
  }
  if (sigMember.kind !== 'item' || !(sigMember.value instanceof Uint8Array)) {
    invalid(`Signature "${label}" must be a byte sequence, e.g. ${label}=:<base64>: (RFC 9421 §4.2)`, { label });
  }
  const signature = sigMember.value;

  // Covered components (§2, §2.5).
  const components = input.items.map(componentFromItem);
  checkNoDuplicates(components);

  // Signature parameters (§2.3). Unknown parameters are kept: they are part of the signed base.
  let created: number | undefined;
  let expires: number | undefined;
  let keyId: string | undefined;
  let alg: string | undefined;
  let nonce: string | undefined;
  let tag: string | undefined;
  for (const [name, v] of input.params) {
    switch (name) {
      case 'created':
        created = integerParam(label, name, v);
        break;
      case 'expires':
        expires = integerParam(label, name, v);
        break;
      case 'keyid':
        keyId = stringParam(label, name, v);
        break;
      case 'alg':
        alg = stringParam(label, name, v);
        break;
      case 'nonce':
        nonce = stringParam(label, name, v);
        break;
      case 'tag':
        tag = stringParam(label, name, v);
        break;
    }
  }
  if (alg !== undefined && alg !== 'ed25519') {
    invalid(`Signature "${label}" uses alg="${alg}"; only "ed25519" is supported`, { label, alg });
  }
  if (keyId === undefined) invalid(`Signature "${label}" has no keyid parameter; set keyid to the sensor id`, { label });
  if (created === undefined && opts.requireCreated !== false) {
    invalid(`Signature "${label}" has no created parameter; it is required (RFC 9421 §2.3)`, { label });
  }

  // Application policy: what must be covered (§1.4, §7.2.1).
  if (opts.requiredComponents !== undefined && opts.requiredComponents.length > 0) {
    const covered = new Set(components.map((c) => c.serialized));
    for (const spec of opts.requiredComponents) {
      const required = componentIdFromString(spec);
      if (!covered.has(required.serialized)) {
        invalid(`${describe(required)} is not covered by the signature`, {
          label,
          missingComponent: required.params.size === 0 ? required.name : required.serialized,
        });
      }
    }
  }

  // Freshness (§2.3 created/expires, §7.2.4). Compared in ms to avoid rounding the skew.
  const maxSkewMs = (opts.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS) * 1000;
  if (created !== undefined) {
    const ageMs = opts.now - created * 1000;
    if (ageMs > maxSkewMs || -ageMs > maxSkewMs) {
      const ageS = Math.round(ageMs / 1000);
      throw new SignatureError(
        'stale_signature',
        ageMs > 0
          ? `Signature "${label}" was created ${ageS} s ago; at most ${maxSkewMs / 1000} s is allowed (check the sensor's clock)`
          : `Signature "${label}" was created ${-ageS} s in the future; at most ${maxSkewMs / 1000} s of clock skew is allowed (check the sensor's clock)`,
        { label, created, serverTime: Math.floor(opts.now / 1000), maxSkewSeconds: maxSkewMs / 1000 },
      );
    }
  }
  if (expires !== undefined && expires * 1000 < opts.now) {
    throw new SignatureError('stale_signature', `Signature "${label}" expired at ${expires} (unix s)`, {
      label,
      expires,
      serverTime: Math.floor(opts.now / 1000),
    });
  }
  // A signature that expires when or before it was created is valid at no instant (§2.3): malformed, even while both are inside the window.
  if (expires !== undefined && created !== undefined && expires <= created) {
    invalid(`Signature "${label}" expires (${expires}) at or before it was created (${created})`, { label, created, expires });
  }

  if (signature.byteLength !== ED25519_SIGNATURE_BYTES) {
    invalid(`Signature "${label}" must be ${ED25519_SIGNATURE_BYTES} bytes for Ed25519, got ${signature.byteLength}`, { label });
  }

  // May throw unknown_sensor / sensor_revoked: propagated unchanged.
  const key = await opts.keyLookup(keyId);
  if (!(key instanceof KeyObject) || key.asymmetricKeyType !== 'ed25519') {
    invalid(`The key registered for keyid "${keyId}" is not an Ed25519 key`, { label, keyId });
  }

  const base = Buffer.from(signatureBase(req, components, serializeInnerList(input)), 'latin1');
  const verifies = (k: KeyObject): boolean => {
    try {
      return cryptoVerify(null, base, k, signature) === true;
    } catch {
      return false;
    }
  };
  let ok = verifies(key);
  if (!ok && opts.refreshKey !== undefined) {
    const fresh = await opts.refreshKey(keyId);
    if (fresh instanceof KeyObject && fresh.asymmetricKeyType === 'ed25519') ok = verifies(fresh);
  }
  // Only an explicit true is success.
  if (ok !== true) {
    invalid(`Signature "${label}" does not verify with the key registered for keyid "${keyId}"`, { label, keyId });
  }

  if (opts.body !== undefined) checkContentDigest(req.headers['content-digest'], opts.body);

  const result: VerifiedSignature = {
    label,
    keyId,
    components: components.map((c) => (c.params.size === 0 ? c.name : c.serialized)),
  };
  if (created !== undefined) result.created = created;
  if (expires !== undefined) result.expires = expires;
  if (alg !== undefined) result.alg = alg;
  if (nonce !== undefined) result.nonce = nonce;
  if (tag !== undefined) result.tag = tag;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Signing (§3.1)

export function signRequest(
  req: HttpRequestParts,
  opts: SignOptions,
): { 'signature-input': string; signature: string } {
  const label = opts.label ?? 'sig1';
  if (opts.privateKey.type !== 'private' || opts.privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error('signRequest needs an Ed25519 private key');
  }
  if (!Number.isSafeInteger(opts.created)) throw new Error('created must be an integer number of unix seconds');

  const components = opts.components.map(componentIdFromString);
  checkNoDuplicates(components);

  // Parameter order is free (§2.3); this one reads naturally and matches the project profile.
  const params: Parameters = new Map();
  params.set('created', opts.created);
  if (opts.expires !== undefined) params.set('expires', opts.expires);
  params.set('keyid', opts.keyId);
  const alg = opts.alg === undefined ? 'ed25519' : opts.alg;
  if (alg !== null) params.set('alg', alg);
  if (opts.nonce !== undefined) params.set('nonce', opts.nonce);
  if (opts.tag !== undefined) params.set('tag', opts.tag);

  const list = innerList(
    components.map((c) => item(c.name, c.params)),
    params,
  );
  const paramsSerialized = serializeInnerList(list);
  const base = signatureBase(req, components, paramsSerialized);
  const sig = cryptoSign(null, Buffer.from(base, 'latin1'), opts.privateKey);
  const labelKey = serializeKey(label); // throws unless the label is a valid sf key (§4.1)
  return {
    'signature-input': `${labelKey}=${paramsSerialized}`,
    signature: `${labelKey}=:${sig.toString('base64')}:`,
  };
}
