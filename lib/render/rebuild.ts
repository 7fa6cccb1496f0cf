/**
 * `rebuild`: recomputes every statistic from the raw archive. Each archived batch is parsed again (with the
 * horizon as of its receipt, so exactly the alerts that were counted then); its contributions and its staging
 * facts are written again. Then the lake's compacted facts and first-seen table are removed, and the render
 * job rolls up and closes the whole history, compacting every day from the regenerated staging facts.
 * Overwrites only: running it twice, or alongside ingest, gives the same counters and facts.
 *
 * It is also the migration for data counted before the lake existed: those batches have no facts until a
 * rebuild writes them.
 */
import { gunzipSync } from 'node:zlib';
import { parseBatch } from '../alerts/parse.js';
import { countBatch } from '../counting/aggregate.js';
import { mapLimit } from '../util/map-limit.js';
import { packAggregate, type DynamoBatchLedger } from '../store/ledger.js';
import type { S3RawArchive } from '../store/raw-archive.js';
import { FACTS_PREFIX, FIRST_SEEN_PREFIX, RAW_PREFIX } from '../publish/layout.js';
import { factsCsv } from '../lake/facts.js';
import type { S3Lake } from '../lake/store.js';

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

export interface RebuildDeps {
  archive: S3RawArchive;
  ledger: DynamoBatchLedger;
  lake: S3Lake;
  /** The deployment's pseudonym key: the facts must carry the same pseudonyms ingest writes. */
  pseudonymKey: Uint8Array;
}

export async function rebuildFromArchive({ archive, ledger, lake, pseudonymKey }: RebuildDeps): Promise<RebuildReport> {
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
    // Facts first, as ingest writes them (under the batch's earliest day, like its raw copy).
    if (alerts.length > 0) await lake.writeFacts(parts.day, parts.sensor, parts.idempotencyKey, factsCsv(alerts, pseudonymKey));
    for (const [day, aggregate] of countBatch(alerts)) {
      await ledger.replaceContribution({ sensor: parts.sensor, idempotencyKey: parts.idempotencyKey, day, digest, packed: packAggregate(aggregate), rawDay: parts.day });
      report.contributions++;
    }
    report.batches++;
    report.alerts += alerts.length;
  });
  return report;
}

/**
 * Removes the compacted facts and the first-seen table, so that the next close (the whole history, after a
 * rebuild) compacts every day again from the staging facts and recounts first sightings from scratch.
 */
export async function resetLake(lake: S3Lake): Promise<number> {
  const facts = (await lake.list(FACTS_PREFIX)).map((o) => o.key);
  await lake.delete([...facts, ...(await lake.list(FIRST_SEEN_PREFIX)).map((o) => o.key)]);
  return facts.length;
}
