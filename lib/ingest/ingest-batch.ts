/**
 * The ingest core: one signed batch in, one receipt out (DESIGN §4).
 *
 * Order of work, and why:
 *  1. media type and raw size     — cheap refusals first (415, 413)
 *  2. signature, then digest      — nothing is decompressed or parsed for an unauthenticated sender (401)
 *  3. decompress, parse, validate — invalid lines are listed and skipped; a batch with no valid alert and
 *                                   some invalid ones is refused whole (400), so a rejected request counts nothing
 *  4. claim the Idempotency-Key   — a conditional put; a different digest under the same key is a conflict (409)
 *                                   detected before anything is counted
 *  5. archive the raw batch       — `If-None-Match: *`, so the first copy stays
 *  6. the facts                  — one pseudonymized staging object for the batch (DESIGN §13), keyed by
 *                                   sensor and Idempotency-Key: a retry rewrites the same rows, a batch
 *                                   already counted on every day (a duplicate) writes none
 *  7. one contribution per day    — conditional puts; a retry after a crash at any point completes the
 *                                   missing ones and never repeats a counted one; the first day's is put
 *                                   last, and only the request that created it answers 202
 * The facts are written before the contributions, so a counted day always has its facts; the render job
 * compacts only the facts of counted batches and days, so facts of a batch that crashed before its
 * contributions and was never retried are not counted either.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { formatFromContentType, parseBatch } from '../alerts/parse.js';
import type { RejectedAlert } from '../alerts/types.js';
import { countBatch, emptyAggregate, utcDay } from '../counting/aggregate.js';
import { ConflictError, RateLimitedError, RetryLaterError, ValidationError } from '../errors.js';
import { checkContentDigest } from '../signing/content-digest.js';
import { REQUIRED_COMPONENTS } from '../signing/profile.js';
import { verifyRequestSignature, type HttpRequestParts } from '../signing/rfc9421.js';
import { MAX_PACKED_AGGREGATE_BYTES, packAggregate, type BatchLedger } from '../store/ledger.js';
import type { RawArchive } from '../store/raw-archive.js';
import { factsCsv, type Pseudonyms } from '../lake/facts.js';
import type { FactsWriter } from '../lake/store.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../store/table.js';
import type { SensorBudgets } from './rate-limit.js';
import type { SensorKeyCache } from './sensor-keys.js';
import { SETTINGS } from '../settings.js';
import type { SeenMarks } from './seen.js';

export { REQUIRED_COMPONENTS };

export interface IngestLimits {
  horizonDays: number;
  maxBodyBytes: number;
  maxAlertsPerBatch: number;
  /** Distinct UTC days one batch may span. */
  maxDaysPerBatch: number;
  /** Time from the request's start after which storage calls give up with 503 retry_later. */
  deadlineMs: number;
  /** Rejected lines listed in a receipt or error (the count is always complete). */
  maxRejectedListed: number;
  /** Signature `created` window, seconds either side of server time. */
  maxSkewSeconds: number;
}

export const DEFAULT_LIMITS: IngestLimits = {
  horizonDays: SETTINGS.horizonDays.default,
  maxBodyBytes: SETTINGS.maxBodyBytes.default,
  maxAlertsPerBatch: SETTINGS.maxAlertsPerBatch.default,
  maxDaysPerBatch: SETTINGS.maxDaysPerBatch.default,
  deadlineMs: SETTINGS.ingestDeadlineSeconds.default * 1000,
  maxRejectedListed: 100,
  maxSkewSeconds: 300,
};

export interface IngestDeps {
  keys: Pick<SensorKeyCache, 'keyFor' | 'refreshedKeyFor' | 'deployedAt'>;
  /** Each sensor's budget of batches, taken once its signature verifies and before any other work. */
  budgets?: SensorBudgets;
  ledger: BatchLedger;
  archive: RawArchive;
  facts: FactsWriter;
  /** The address pseudonyms of the facts (DESIGN §13): the deployment's key, and those computed so far in this container. */
  pseudonyms: Pseudonyms;
  clock: () => number;
  limits: IngestLimits;
  /** Which batches refresh their sensor's last-seen mark; every batch when absent. */
  seen?: SeenMarks;
}

export interface BatchRequest extends HttpRequestParts {
  body: Uint8Array;
}

export interface Receipt {
  batchId: string;
  sensor: string;
  accepted: number;
  rejected: number;
  skipped: number;
  duplicate: boolean;
  digest: string;
  bytes: number;
  days: Record<string, number>;
  writeUnits: number;
  /**
   * Accepted alerts dated before the sensor's deployment day, with that day. They are counted like any other
   * (a sensor may run before it is registered, and its earlier log is real traffic); the receipt says how many
   * so that an operator can correct the deployment date (`alertgraph sensor add` with `--deployed`). Absent
   * when the registry has no deployment date.
   */
  beforeDeployment?: { deployedAt: string; alerts: number };
  /** The rejected lines with their reasons, up to a cap (`rejected` is the full count). */
  rejectedLines: RejectedAlert[];
}

export interface IngestResult {
  status: 200 | 202;
  receipt: Receipt;
}

function mediaType(value: string | undefined): 'ndjson' | 'json' {
  const kind = formatFromContentType(value);
  if (kind === undefined) {
    throw new ValidationError(
      'unsupported_media_type',
      `Content-Type ${value ? `"${value}"` : '(missing)'} is not supported: send application/x-ndjson or application/json`,
    );
  }
  return kind;
}

function encoding(value: string | undefined): 'identity' | 'gzip' {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'identity') return 'identity';
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  throw new ValidationError('unsupported_media_type', `Content-Encoding "${value}" is not supported: send gzip or no encoding`);
}

function tooLarge(limit: number): ValidationError {
  return new ValidationError('too_large', `the batch is larger than ${limit} bytes: send smaller batches`, { limitBytes: limit });
}

/** The body's bytes after Content-Encoding (parsed line by line from bytes: lib/alerts/parse.ts says why). */
function decode(body: Uint8Array, enc: 'identity' | 'gzip', limit: number): Buffer {
  if (enc === 'identity') return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  try {
    return gunzipSync(body, { maxOutputLength: limit });
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw new ValidationError('malformed_body', 'the body is not valid gzip');
  }
}

/** Alerts of the batch on days before `deployedAt` (the days' counts are per UTC day, as the deployment date). */
function alertsBefore(days: Record<string, number>, deployedAt: string): number {
  let n = 0;
  for (const [day, count] of Object.entries(days)) if (day < deployedAt) n += count;
  return n;
}

/**
 * The storage calls of one request, bounded by its deadline: past it the request answers 503 retry_later and
 * the sensor retries with the same key. What the abandoned call may still write is what a crash at that point
 * leaves, which the retry completes (exactly once, test/integration/exactly-once.test.ts).
 */
function deadlineOf(startedAt: number, ms: number) {
  return <T>(work: Promise<T>): Promise<T> => {
    const left = startedAt + ms - performance.now();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RetryLaterError('storage did not answer in time; retry with the same Idempotency-Key', 5)), Math.max(0, left));
    });
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  };
}

export async function ingestBatch(req: BatchRequest, deps: IngestDeps): Promise<IngestResult> {
  const { limits } = deps;
  const now = deps.clock();
  const within = deadlineOf(performance.now(), limits.deadlineMs);
  const kind = mediaType(req.headers['content-type']);
  const enc = encoding(req.headers['content-encoding']);
  if (req.body.byteLength > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes);

  const signature = await verifyRequestSignature(req, {
    keyLookup: (keyId) => within(deps.keys.keyFor(keyId)),
    refreshKey: (keyId) => within(deps.keys.refreshedKeyFor(keyId)),
    now,
    maxSkewSeconds: limits.maxSkewSeconds,
    requiredComponents: REQUIRED_COMPONENTS,
  });
  const sensor = signature.keyId;
  // Before the digest, decompression, parsing and storage: a sensor (or whoever holds its key) sending more
  // than its budget costs one signature check per request.
  const wait = deps.budgets?.take(sensor, now) ?? 0;
  if (wait > 0) throw new RateLimitedError(`sensor "${sensor}" sent more than ${deps.budgets!.batchesPerSecond} batches a second; retry in ${wait} s`, wait);
  const verified = checkContentDigest(req.headers['content-digest'], req.body);
  // The batch's identity for idempotency is its sha-256, reused from the digest check when the sender sent one.
  const digest = (verified.get('sha-256') ?? createHash('sha256').update(req.body).digest()).toString('base64');

  const idempotencyKey = req.headers['idempotency-key'] ?? '';
  if (!IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
    throw new ValidationError('invalid_idempotency_key', 'Idempotency-Key must be 1–128 characters of A-Z a-z 0-9 . _ : -');
  }

  const decoded = decode(req.body, enc, limits.maxBodyBytes);
  const parsed = parseBatch(decoded, kind === 'json' ? 'native' : 'ndjson', {
    sensor,
    now,
    horizonDays: limits.horizonDays,
    maxAlerts: limits.maxAlertsPerBatch,
    maxRejectedListed: limits.maxRejectedListed,
  });
  if (parsed.alerts.length === 0 && parsed.rejectedCount > 0) {
    throw new ValidationError('invalid_alert', `none of the ${parsed.rejectedCount} alerts in the batch is valid`, {
      rejected: parsed.rejectedCount,
      rejectedLines: parsed.rejected,
    });
  }

  const perDay = countBatch(parsed.alerts);
  // An empty batch is a heartbeat: it records that the sensor reported today, with zero alerts.
  if (perDay.size === 0) perDay.set(utcDay(now), emptyAggregate());
  if (perDay.size > limits.maxDaysPerBatch) {
    throw new ValidationError(
      'too_many_days',
      `the batch spans ${perDay.size} UTC days; at most ${limits.maxDaysPerBatch} are allowed: send one batch per day or a few days`,
      { days: perDay.size, maxDays: limits.maxDaysPerBatch },
    );
  }
  // Packed now, in the form stored, so that an aggregate too big for one item is refused before anything is written.
  const packed = new Map([...perDay].map(([day, agg]) => [day, packAggregate(agg)]));
  if (Math.max(...[...packed.values()].map((p) => p.byteLength)) > MAX_PACKED_AGGREGATE_BYTES) {
    throw new ValidationError('too_large', 'the batch has too many distinct ports or signatures for one batch: send smaller batches');
  }

  const days: Record<string, number> = {};
  for (const [day, agg] of perDay) days[day] = agg.total;
  const deployedAt = deps.keys.deployedAt(sensor);
  const receivedAt = new Date(now).toISOString();
  const receipt: Receipt = {
    batchId: `${sensor}/${idempotencyKey}`,
    sensor,
    accepted: parsed.alerts.length,
    rejected: parsed.rejectedCount,
    skipped: parsed.skipped,
    duplicate: false,
    digest: `sha-256=:${digest}:`,
    bytes: req.body.byteLength,
    days,
    writeUnits: 0,
    ...(deployedAt === undefined ? {} : { beforeDeployment: { deployedAt, alerts: alertsBefore(days, deployedAt) } }),
    rejectedLines: parsed.rejected,
  };

  let writeUnits = 0;
  const dayList = [...perDay.keys()].sort();
  const claim = await within(deps.ledger.claimBatch({
    sensor,
    idempotencyKey,
    digest,
    days: dayList,
    receivedAt,
    receipt: JSON.stringify({ ...receipt, rejectedLines: undefined }),
  }));
  writeUnits += claim.writeUnits;
  if (!claim.created && claim.existing?.digest !== digest) {
    throw new ConflictError(
      'idempotency_conflict',
      `Idempotency-Key "${idempotencyKey}" was already used by this sensor for a batch with a different digest`,
    );
  }

  const archiveDay = dayList[0]!;
  await within(deps.archive.archiveBatch({
    day: archiveDay,
    sensor,
    idempotencyKey,
    body: req.body,
    gzipped: enc === 'gzip',
    contentType: kind === 'json' ? 'application/json' : 'application/x-ndjson',
    digest,
    receivedAt,
  }));

  // A retry (the claim was there) counts only the days still missing; when none is, the batch is a duplicate
  // and writes nothing more.
  const counted = claim.created ? new Set<string>() : await within(deps.ledger.countedDays(sensor, idempotencyKey, dayList));
  const pending = [...packed].filter(([day]) => !counted.has(day));
  if (pending.length > 0 && parsed.alerts.length > 0) {
    await within(deps.facts.writeFacts(archiveDay, sensor, idempotencyKey, factsCsv(parsed.alerts, deps.pseudonyms)));
  }

  // Exactly one request reports the batch as counted (202), however many copies race: the one whose put
  // creates the contribution of the batch's first day. That put comes last, after the other days' puts have
  // succeeded, so its existence means the whole batch is counted; the claim's creator is not necessarily the
  // one (a copy that found the claim may have written the contributions first).
  const [firstDay] = dayList;
  const firstPending = pending.find(([day]) => day === firstDay);
  const others = pending.filter(([day]) => day !== firstDay);
  const put = async ([day, bytes]: [string, Uint8Array]) => {
    const outcome = await within(deps.ledger.putContribution({ sensor, idempotencyKey, day, digest, packed: bytes, rawDay: archiveDay }));
    writeUnits += outcome.writeUnits;
    if (!outcome.created && outcome.existing?.digest !== digest) {
      // Only possible if a claim expired while its contributions remained; refuse rather than mix two batches.
      throw new ConflictError('idempotency_conflict', `Idempotency-Key "${idempotencyKey}" is held by another batch`);
    }
    return outcome.created;
  };
  await Promise.all(others.map(put));
  const countedHere = firstPending !== undefined && (await put(firstPending));

  // A batch for a day before today may land after the render job closed that day: mark the day to re-roll.
  // After the contributions (a mark the job clears before they land would be lost), and on retries too (the
  // first attempt may have crashed between the two).
  // Concurrently: a backfill batch spans up to maxDaysPerBatch days, and one mark after another adds up.
  const today = utcDay(now);
  const marks = await within(Promise.all(dayList.filter((day) => day < today).map((day) => deps.ledger.markDayChanged(day, sensor, receivedAt))));
  for (const units of marks) writeUnits += units;

  // When the sensor last reported, for the silent-sensor warning (DESIGN §15): every accepted batch counts, and
  // the mark is refreshed at most once per interval per container (lib/ingest/seen.ts).
  if (deps.ledger.markSeen && (!deps.seen || deps.seen.due(sensor, now))) writeUnits += await deps.ledger.markSeen(sensor, receivedAt);

  const duplicate = !countedHere;
  receipt.duplicate = duplicate;
  receipt.writeUnits = writeUnits;
  return { status: duplicate ? 200 : 202, receipt };
}
