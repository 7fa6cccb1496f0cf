/**
 * `rebuild`: recomputes every statistic from the raw archive. Each archived batch is parsed again (with the
 * horizon as of its receipt, so exactly the alerts that were counted then) and its contributions are written
 * again; then the render job rolls up the whole history. Overwrites only: running it twice, or alongside
 * ingest, gives the same counters.
 */
import { gunzipSync } from 'node:zlib';
import { parseBatch } from '../alerts/parse.js';
import { countBatch } from '../counting/aggregate.js';
import { mapLimit } from '../stats/daily.js';
import { packAggregate, type DynamoBatchLedger } from '../store/ledger.js';
import type { S3RawArchive } from '../store/raw-archive.js';
import { RAW_PREFIX } from '../publish/layout.js';

export interface RebuildReport {
  batches: number;
  alerts: number;
  contributions: number;
  unreadable: string[];
}

/** `raw/<day>/<sensor>/<key>.ndjson.gz` → its parts. */
export function parseRawKey(key: string): { day: string; sensor: string; idempotencyKey: string } | undefined {
  const m = /^raw\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/([^/]+)\.ndjson\.gz$/.exec(key);
  return m ? { day: m[1]!, sensor: m[2]!, idempotencyKey: m[3]! } : undefined;
}

export async function rebuildContributions(archive: S3RawArchive, ledger: DynamoBatchLedger): Promise<RebuildReport> {
  const keys: string[] = [];
  for await (const key of archive.listBatchKeys()) if (key.startsWith(RAW_PREFIX)) keys.push(key);
  const report: RebuildReport = { batches: 0, alerts: 0, contributions: 0, unreadable: [] };
  await mapLimit(keys, 8, async (key) => {
    const parts = parseRawKey(key);
    if (!parts) {
      report.unreadable.push(key);
      return;
    }
    const raw = await archive.readBatch(key);
    let alerts;
    try {
      const text = gunzipSync(raw.gzipBody).toString('utf8');
      alerts = parseBatch(text, raw.contentType.startsWith('application/json') ? 'native' : 'ndjson', {
        sensor: parts.sensor,
        now: raw.receivedAt ? Date.parse(raw.receivedAt) : Date.now(),
        maxAlerts: Number.MAX_SAFE_INTEGER,
      }).alerts;
    } catch {
      report.unreadable.push(key);
      return;
    }
    const digest = raw.digest ?? '';
    for (const [day, aggregate] of countBatch(alerts)) {
      await ledger.replaceContribution({ sensor: parts.sensor, idempotencyKey: parts.idempotencyKey, day, digest, packed: packAggregate(aggregate), rawDay: parts.day });
      report.contributions++;
    }
    report.batches++;
    report.alerts += alerts.length;
  });
  return report;
}
