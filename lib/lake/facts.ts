/**
 * The facts of one batch (DESIGN §13): every counted alert as one pseudonymized row, written by ingest as one
 * small staging object per batch and compacted per UTC day into Parquet by the render job.
 *
 * Why CSV for staging, and not Parquet or Arrow: the ingest function has a tight budget (its CPU per batch at
 * most 2× a bare JSON.parse of the same lines, its cold import at most 1.3× the AWS SDK's) and a columnar
 * writer would blow the import budget on its own. A CSV line per alert is built with a few string
 * concatenations, DuckDB reads it natively, and the object lives only until the day's close compacts it.
 * Measured with `npm run bench` (`ingest.factsCpuOverParse`): building the rows of a 1,000-alert batch costs a
 * small fraction of parsing it. The staging columns are the fact columns minus those the object's key already
 * holds (sensor, batch) or the time gives (day): they are derived when the staging objects are read, so a row
 * costs no repeated sensor name or Idempotency-Key.
 *
 * One object per batch, not per batch and day: a sensor's backfill batch spans several days, and the close's
 * cost on a small machine is mostly one request per object (measured: `bench/history.ts`).
 *
 * Raw addresses never leave this module: `src` and `dst` are keyed HMAC-SHA256 pseudonyms, and `src_net`
 * is the IPv4 /8 or IPv6 /16 the address belongs to, coarse enough to publish in a matrix.
 */
import { createHmac } from 'node:crypto';
import type { Alert } from '../alerts/types.js';
import { isScan } from '../counting/aggregate.js';
import { Pseudonyms } from './pseudonyms.js';

export { Pseudonyms };

/**
 * 128 bits of HMAC-SHA256 (base64url): collisions are negligible at any realistic number of addresses. This is
 * the definition; batches are pseudonymized through `Pseudonyms` (lib/lake/pseudonyms.ts), which gives the same
 * strings at a fraction of the cost.
 */
export function pseudonym(key: Uint8Array, ip: string): string {
  return createHmac('sha256', key).update(ip).digest().subarray(0, 16).toString('base64url');
}

/**
 * The network an address is published under: `a.0.0.0/8` for IPv4, `h::/16` for IPv6 (its first group, RFC
 * 5952 spelling). Input is a normalized address (lib/alerts/ip.ts).
 */
export function sourceNetwork(ip: string): string {
  const colon = ip.indexOf(':');
  if (colon === -1) return `${ip.slice(0, ip.indexOf('.'))}.0.0.0/8`;
  // Normalized IPv6 starts with its first group, or with "::" when that group is zero.
  const first = colon === 0 ? 0 : parseInt(ip.slice(0, colon), 16);
  return first === 0 ? '::/16' : `${first.toString(16)}::/16`;
}

/** The columns of a staging object, in order (no header line). Times are epoch milliseconds. */
export const STAGING_COLUMNS = [
  'time_ms',
  'src',
  'src_net',
  'src_port',
  'dst',
  'dst_port',
  'proto',
  'sig_id',
  'signature',
  'category',
  'severity',
  'sig_scan',
] as const;

/** RFC 4180 text field, always quoted: an empty quoted field is the empty string, an absent one is NULL. */
function text(value: string | undefined): string {
  if (value === undefined) return '';
  return value.includes('"') ? `"${value.replace(/"/g, '""')}"` : `"${value}"`;
}

/**
 * The staging rows of a batch's alerts, as one CSV text. Addresses go through `names` (kept per container on
 * the ingest path, so a source seen in an earlier batch costs a lookup); given a bare key, a fresh set is used.
 */
export function factsCsv(alerts: readonly Alert[], names: Pseudonyms | Uint8Array): string {
  const pseudonyms = names instanceof Pseudonyms ? names : new Pseudonyms(names);
  // Per batch: the network of each source, and signatures and categories quoted once (they repeat).
  const nets = new Map<string, string>();
  const texts = new Map<string, string>();
  let out = '';
  for (const a of alerts) {
    const src = a.srcIp;
    let net = nets.get(src);
    if (net === undefined) nets.set(src, (net = sourceNetwork(src)));
    let signature = '';
    if (a.signature !== undefined) {
      const t = texts.get(a.signature);
      if (t === undefined) texts.set(a.signature, (signature = text(a.signature)));
      else signature = t;
    }
    let category = '';
    if (a.category !== undefined) {
      const t = texts.get(a.category);
      if (t === undefined) texts.set(a.category, (category = text(a.category)));
      else category = t;
    }
    out +=
      `${a.time},${pseudonyms.of(src)},${net},${a.srcPort ?? ''},${a.dstIp === undefined ? '' : pseudonyms.of(a.dstIp)},` +
      `${a.dstPort ?? ''},${a.proto},${a.sigId ?? ''},${signature},${category},${a.severity ?? ''},${isScan(a)}\n`;
  }
  return out;
}
