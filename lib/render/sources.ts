/**
 * Distinct and new source addresses of a closed day, exact, from the raw archive (DESIGN §6).
 * Addresses are turned into keyed HMAC-SHA256 pseudonyms as soon as they are read; only pseudonyms are
 * counted or stored, so statistics never hold a raw address.
 */
import { createHmac } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { parseBatch } from '../alerts/parse.js';
import { utcDay } from '../counting/aggregate.js';
import { mapLimit } from '../stats/daily.js';
import type { StoredContribution } from '../store/ledger.js';
import { rawBatchKey } from '../store/raw-archive.js';

/** 128 bits of HMAC-SHA256 (base64url): collisions are negligible at any realistic number of addresses. */
export function pseudonym(key: Uint8Array, ip: string): string {
  return createHmac('sha256', key).update(ip).digest().subarray(0, 16).toString('base64url');
}

export interface RawReader {
  readBatch(key: string): Promise<{ gzipBody: Uint8Array; contentType: string; receivedAt?: string }>;
}

export interface DaySources {
  pseudonyms: Set<string>;
  /** Signature key → text, collected on the way for chart labels. */
  signatureNames: Record<string, string>;
}

/** Reads every archived batch that contributed to `day` and collects its alerts' source pseudonyms. */
export async function collectDaySources(
  reader: RawReader,
  day: string,
  contributions: { sensor: string; items: readonly StoredContribution[] }[],
  pseudonymKey: Uint8Array,
): Promise<DaySources> {
  const pseudonyms = new Set<string>();
  const signatureNames: Record<string, string> = Object.create(null) as Record<string, string>;
  const jobs = contributions.flatMap(({ sensor, items }) => items.map((c) => ({ sensor, c })));
  await mapLimit(jobs, 16, async ({ sensor, c }) => {
    const raw = await reader.readBatch(rawBatchKey(c.rawDay, sensor, c.idempotencyKey));
    const text = gunzipSync(raw.gzipBody).toString('utf8');
    const parsed = parseBatch(text, raw.contentType.startsWith('application/json') ? 'native' : 'ndjson', {
      sensor,
      // The horizon as of receipt, so exactly the alerts that were counted are read back.
      now: raw.receivedAt ? Date.parse(raw.receivedAt) : Date.parse(`${day}T23:59:59Z`),
      maxAlerts: Number.MAX_SAFE_INTEGER,
    });
    for (const alert of parsed.alerts) {
      if (utcDay(alert.time) !== day) continue;
      pseudonyms.add(pseudonym(pseudonymKey, alert.srcIp));
      if (alert.signature !== undefined) {
        signatureNames[alert.sigId !== undefined ? String(alert.sigId) : `msg:${alert.signature}`] = alert.signature;
      }
    }
  });
  return { pseudonyms, signatureNames };
}
