/**
 * Partner links as CloudFront signed URLs with a custom policy (DESIGN §9), and a verifier that checks a
 * request the way CloudFront does, for the local CDN.
 *
 * Link format:
 *   <base>/partners/index.html?partner=<id>&link=<link id>&Policy=<cf-b64>&Key-Pair-Id=<key id>&Signature=<cf-b64>
 * Policy:
 *   {"Statement":[{"Resource":"<base>/partners/*?partner=<id>&link=<link id>","Condition":{"DateLessThan":{"AWS:EpochTime":<s>}}}]}
 *
 * The link id is part of the signed Resource, so it cannot be dropped or changed without the Resource no longer
 * matching (the gate admits `partner` and `link` once each, with values free of `&`, `=`, `?` and `%`, so the
 * query must end in exactly `partner=<id>&link=<link id>`); that is what lets one link be revoked on its own.
 * Links issued before per-link revocation have Resource `.../partners/*?partner=<id>` and no `link`: they keep
 * working until they expire and end only with their partner (adding a `link` to them cannot help a viewer:
 * it can only make the gate look up one more revocation key).
 *
 * CloudFront matches the Resource against the whole request URL including its query string, minus its own
 * signing parameters (Developer Guide, "Create a signed URL using a custom policy": the Resource is "the base
 * URL including your query strings, if any, but excluding the CloudFront Policy, Signature, and Key-Pair-Id
 * parameters"; `*` matches zero or more characters and `?` exactly one, anywhere in the string). So one
 * signature opens every object under partners/ for that partner only: changing `partner=` breaks the match.
 * Note the `?` before `partner` is itself a one-character wildcard, and `*` also matches `?`, `&` and `=`;
 * the gate (cloudfront/partner-gate.js) therefore admits only `partner` and the signing parameters, each once,
 * with values that contain none of those characters, which leaves exactly one way to match the Resource.
 */
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { PARTNER_INDEX, PARTNERS_PREFIX } from '../publish/layout.js';
import { ID_PATTERN } from '../store/table.js';

/** Query parameters that belong to CloudFront's signature, removed before the Resource is matched. */
export const SIGNING_PARAMS = ['Policy', 'Signature', 'Key-Pair-Id', 'Expires', 'Hash-Algorithm'] as const;
export const PARTNER_PARAM = 'partner';
export const LINK_PARAM = 'link';
/** Link ids: lower-case UUIDs, the same pattern as the gate's LINK_ID. */
export const LINK_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type HashAlgorithm = 'SHA1' | 'SHA256';

/** Object keys under partners/ that a link may name: plain segments, as the gate requires. */
const PARTNER_PATH = /^partners\/(?:[A-Za-z0-9_~-][A-Za-z0-9_.~-]*\/)*[A-Za-z0-9_~-][A-Za-z0-9_.~-]*$/;
const CF_B64 = /^[A-Za-z0-9~_-]+$/;

/** CloudFront's URL-safe base64: standard base64 with `+`→`-`, `=`→`_`, `/`→`~`. */
export function toCloudFrontBase64(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
}

/** The inverse; undefined when the text has a character outside CloudFront's alphabet. */
export function fromCloudFrontBase64(text: string): Buffer | undefined {
  if (!CF_B64.test(text)) return undefined;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
}

/** `scheme://host[:port]` of a CDN base URL; refuses anything with a path, query or fragment. */
export function cdnOrigin(baseUrl: string): string {
  const u = new URL(baseUrl);
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username) {
    throw new Error(`CDN base URL must be just http(s)://host[:port], got ${baseUrl}`);
  }
  return u.origin;
}

/** The query a link carries besides the signing parameters: the partner, then the link id when it has one. */
export function partnerQuery(partnerId: string, linkId?: string): string {
  return `${PARTNER_PARAM}=${partnerId}${linkId === undefined ? '' : `&${LINK_PARAM}=${linkId}`}`;
}

/**
 * The Resource a partner's link is signed for: everything under partners/, for that partner (and that link)
 * only. Without a link id, the format of links issued before per-link revocation.
 */
export function partnerResource(baseUrl: string, partnerId: string, linkId?: string): string {
  return `${cdnOrigin(baseUrl)}/${PARTNERS_PREFIX}*?${partnerQuery(partnerId, linkId)}`;
}

/** The custom policy, serialised without whitespace as CloudFront requires. */
export function partnerPolicy(resource: string, expiresAt: Date): string {
  const epoch = Math.floor(expiresAt.getTime() / 1000);
  return JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': epoch } } }] });
}

export interface IssuePartnerUrlInput {
  /** The CDN's origin: https://<distribution or alias>, or the local gateway's URL. */
  baseUrl: string;
  partnerId: string;
  /** The audit's id of this link, signed into the URL so that the link can be revoked on its own. */
  linkId: string;
  /** Object key under partners/ the link opens (its images open with the same signature). */
  path?: string;
  expiresAt: Date;
  /** CloudFront public key id (the trusted key group's member). */
  keyPairId: string;
  privateKeyPem: string;
  /** SHA1 is CloudFront's default; SHA256 adds `Hash-Algorithm=SHA256` to the link. */
  algorithm?: HashAlgorithm;
}

/** Signs a partner link with AWS's own signer, over our custom policy. */
export function issuePartnerUrl(input: IssuePartnerUrlInput): string {
  const path = input.path ?? PARTNER_INDEX;
  if (!ID_PATTERN.test(input.partnerId)) throw new Error(`partner id ${JSON.stringify(input.partnerId)} is not a valid id`);
  if (!PARTNER_PATH.test(path)) throw new Error(`link path must be an object key under ${PARTNERS_PREFIX}, got ${JSON.stringify(path)}`);
  if (!LINK_ID_PATTERN.test(input.linkId)) throw new Error(`link id ${JSON.stringify(input.linkId)} is not a lower-case UUID`);
  if (Number.isNaN(input.expiresAt.getTime())) throw new Error('link expiry is not a valid date');
  const origin = cdnOrigin(input.baseUrl);
  const policy = partnerPolicy(partnerResource(origin, input.partnerId, input.linkId), input.expiresAt);
  return getSignedUrl({
    url: `${origin}/${path}?${partnerQuery(input.partnerId, input.linkId)}`,
    policy,
    keyPairId: input.keyPairId,
    privateKey: input.privateKeyPem,
    ...(input.algorithm ? { algorithm: input.algorithm } : {}),
  });
}

/** A fresh link-signing key pair: RSA 2048 (what CloudFront public keys accept), PEM. */
export function generateLinkKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

export type VerifyFailure =
  | 'missing'
  | 'malformed'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'not_covered'
  | 'unknown_key'
  | 'ambiguous_query';

export type VerifyResult = { ok: true; partnerId: string; linkId?: string; expiresAt: number } | { ok: false; reason: VerifyFailure };

export interface VerifyInput {
  /** The full request URL as CloudFront sees it: scheme, host, raw path and query. */
  url: URL;
  /** Key-Pair-Id → public key (KeyObject or PEM): the trusted key group. */
  publicKeys: ReadonlyMap<string, KeyObject | string>;
  /** Epoch milliseconds. */
  now: number;
  /** The viewer's address, for policies with an IpAddress condition. */
  sourceIp?: string;
}

interface Condition {
  DateLessThan?: { 'AWS:EpochTime'?: unknown };
  DateGreaterThan?: { 'AWS:EpochTime'?: unknown };
  IpAddress?: { 'AWS:SourceIp'?: unknown };
}

const fail = (reason: VerifyFailure): VerifyResult => ({ ok: false, reason });

/**
 * Checks a partner request: the link's single `partner` value (and at most one `link`), then the signed URL
 * exactly as CloudFront checks it (verifyCloudFrontUrl).
 */
export function verifySignedRequest(input: VerifyInput): VerifyResult {
  const parts = queryParts(input.url);
  const partnerValues = parts.filter((p) => p.name === PARTNER_PARAM).map((p) => p.value);
  const linkValues = parts.filter((p) => p.name === LINK_PARAM).map((p) => p.value);
  if (partnerValues.length > 1 || linkValues.length > 1) return fail('ambiguous_query');
  const partnerId = partnerValues[0];
  if (!partnerId) return fail('missing');
  const linkId = linkValues[0];
  if (linkId === '') return fail('missing');
  const checked = verifyCloudFrontUrl(input);
  if (!checked.ok) return checked;
  return linkId === undefined ? { ok: true, partnerId, expiresAt: checked.expiresAt } : { ok: true, partnerId, linkId, expiresAt: checked.expiresAt };
}

function queryParts(url: URL): { name: string; value: string; raw: string }[] {
  const query = url.search.startsWith('?') ? url.search.slice(1) : '';
  if (query === '') return [];
  return query.split('&').map((raw) => {
    const eq = raw.indexOf('=');
    return { name: eq === -1 ? raw : raw.slice(0, eq), value: eq === -1 ? '' : raw.slice(eq + 1), raw };
  });
}

/**
 * CloudFront's own check of a signed URL, knowing nothing of partners: the key named by Key-Pair-Id, the
 * signature over the policy (custom, or the canned one rebuilt from the URL and Expires), the policy's time
 * and IP conditions, and the Resource against the URL without the signing parameters.
 */
export function verifyCloudFrontUrl(input: VerifyInput): { ok: true; expiresAt: number } | { ok: false; reason: VerifyFailure } {
  const { url } = input;
  const signing = new Map<string, string[]>();
  const kept: string[] = [];
  for (const part of queryParts(url)) {
    if ((SIGNING_PARAMS as readonly string[]).includes(part.name)) signing.set(part.name, [...(signing.get(part.name) ?? []), part.value]);
    else kept.push(part.raw);
  }
  for (const list of signing.values()) if (list.length > 1) return { ok: false, reason: 'ambiguous_query' };
  const one = (name: string) => signing.get(name)?.[0];
  const policyText = one('Policy');
  const expires = one('Expires');
  const signatureText = one('Signature');
  const keyPairId = one('Key-Pair-Id');
  if (!signatureText || !keyPairId || (policyText === undefined && expires === undefined)) return { ok: false, reason: 'missing' };
  if (policyText !== undefined && expires !== undefined) return { ok: false, reason: 'ambiguous_query' };
  const no = (reason: VerifyFailure) => ({ ok: false as const, reason });

  const algorithmName = one('Hash-Algorithm') ?? 'SHA1';
  if (algorithmName !== 'SHA1' && algorithmName !== 'SHA256') return no('malformed');
  const signature = fromCloudFrontBase64(signatureText);
  if (!signature || signature.length === 0) return no('malformed');

  const publicKey = input.publicKeys.get(keyPairId);
  if (publicKey === undefined) return no('unknown_key');

  // What the request would be without CloudFront's own parameters: the string the Resource must match.
  const resourceUrl = `${url.protocol}//${url.host}${url.pathname}${kept.length > 0 ? `?${kept.join('&')}` : ''}`;

  let policyBytes: Buffer;
  if (policyText !== undefined) {
    const decoded = fromCloudFrontBase64(policyText);
    if (!decoded || decoded.length === 0) return no('malformed');
    policyBytes = decoded;
  } else {
    if (!/^[0-9]{1,12}$/.test(expires ?? '')) return no('malformed');
    // A canned policy is not sent: CloudFront rebuilds it from the URL and Expires, and checks the signature
    // over that, which is what binds the signature to this exact URL.
    policyBytes = Buffer.from(
      JSON.stringify({ Statement: [{ Resource: resourceUrl, Condition: { DateLessThan: { 'AWS:EpochTime': Number(expires) } } }] }),
    );
  }

  let signed: boolean;
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    signed = verify(algorithmName === 'SHA256' ? 'sha256' : 'sha1', policyBytes, key, signature);
  } catch {
    signed = false;
  }
  if (!signed) return no('bad_signature');

  let statement: { Resource?: unknown; Condition?: Condition };
  try {
    const parsed = JSON.parse(policyBytes.toString('utf8')) as { Statement?: unknown };
    // CloudFront accepts exactly one statement.
    if (!Array.isArray(parsed.Statement) || parsed.Statement.length !== 1) return no('malformed');
    statement = parsed.Statement[0] as typeof statement;
    if (typeof statement !== 'object' || statement === null) return no('malformed');
  } catch {
    return no('malformed');
  }
  const condition = statement.Condition;
  if (typeof condition !== 'object' || condition === null) return no('malformed');
  const lessThan = epochOf(condition.DateLessThan);
  if (lessThan === undefined) return no('malformed');
  const greaterThan = condition.DateGreaterThan === undefined ? null : epochOf(condition.DateGreaterThan);
  if (greaterThan === undefined) return no('malformed');
  const nowSeconds = input.now / 1000;
  if (!(nowSeconds < lessThan)) return no('expired');
  if (greaterThan !== null && !(nowSeconds > greaterThan)) return no('not_yet_valid');
  if (condition.IpAddress !== undefined) {
    const cidr = condition.IpAddress['AWS:SourceIp'];
    if (typeof cidr !== 'string') return no('malformed');
    const inRange = ipv4InCidr(input.sourceIp, cidr);
    if (inRange === undefined) return no('malformed');
    if (!inRange) return no('not_covered');
  }
  // No Resource means every object of every distribution that trusts the key: allowed, if unwise.
  if (statement.Resource !== undefined) {
    if (typeof statement.Resource !== 'string') return no('malformed');
    if (!wildcardMatch(statement.Resource, resourceUrl)) return no('not_covered');
  }
  return { ok: true, expiresAt: lessThan * 1000 };
}

function epochOf(cond: { 'AWS:EpochTime'?: unknown } | undefined): number | undefined {
  const v = cond?.['AWS:EpochTime'];
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/**
 * CloudFront's Resource wildcards: `*` any run of characters (empty too), `?` exactly one; everything else
 * literal and case-sensitive. Greedy with backtracking to the last `*`: linear in practice, never exponential.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (c === '*') {
      star = p++;
      mark = t;
    } else if (c !== undefined && (c === '?' || c === text[t])) {
      p++;
      t++;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether an IPv4 address lies in an IPv4 CIDR; undefined when the CIDR is not one (CloudFront has no IPv6 here). */
function ipv4InCidr(ip: string | undefined, cidr: string): boolean | undefined {
  const [net, bitsText = '32'] = cidr.split('/');
  const bits = Number(bitsText);
  const netValue = ipv4Value(net);
  if (netValue === undefined || !/^[0-9]{1,2}$/.test(bitsText) || bits > 32) return undefined;
  const ipValue = ipv4Value(ip?.startsWith('::ffff:') ? ip.slice(7) : ip);
  if (ipValue === undefined) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipValue & mask) >>> 0) === ((netValue & mask) >>> 0);
}

function ipv4Value(ip: string | undefined): number | undefined {
  const m = ip === undefined ? null : /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}
