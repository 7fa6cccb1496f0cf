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

/** 128 bits of HMAC-SHA256 (base64url): collisions are negligible at any realistic number of addresses. */
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

function num(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

/**
 * The staging rows of a batch's alerts, as one CSV text. Each distinct address is pseudonymized once per batch;
 * text fields that repeat (signatures, categories) are quoted once per batch.
 */
export function factsCsv(alerts: readonly Alert[], pseudonymKey: Uint8Array): string {
  const names = new Map<string, string>();
  const nets = new Map<string, string>();
  const texts = new Map<string, string>();
  const name = (ip: string): string => {
    let p = names.get(ip);
    if (p === undefined) names.set(ip, (p = pseudonym(pseudonymKey, ip)));
    return p;
  };
  const quoted = (value: string | undefined): string => {
    if (value === undefined) return '';
    let q = texts.get(value);
    if (q === undefined) texts.set(value, (q = text(value)));
    return q;
  };
  const out: string[] = [];
  for (const a of alerts) {
    let net = nets.get(a.srcIp);
    if (net === undefined) nets.set(a.srcIp, (net = sourceNetwork(a.srcIp)));
    out.push(
      `${a.time},${name(a.srcIp)},${net},${num(a.srcPort)},${a.dstIp === undefined ? '' : name(a.dstIp)},${num(a.dstPort)},${a.proto},` +
        `${num(a.sigId)},${quoted(a.signature)},${quoted(a.category)},${num(a.severity)},${isScan(a) ? 'true' : 'false'}\n`,
    );
  }
  return out.join('');
}
