/**
 * A warning (DESIGN §15) and its stable id: pure TypeScript, no engine, no storage.
 *
 * The id is a name-based UUID (RFC 9562 version 5: SHA-1 of a namespace and a name) of (day, kind, subject),
 * so the same day, kind and subject always give the same id — a re-run or a late batch finds the warning it
 * made before instead of adding one. The same UUID serves as the IDEA record's `ID` and, as `urn:uuid:…`, the
 * Atom entry's id.
 */
import { createHash } from 'node:crypto';
import type { JudgedRow } from './rules.js';

export type WarningKind = 'surge' | 'new' | 'silent';

export interface WarningFigures {
  alerts: number;
  sources: number;
}

export interface Warning {
  id: string;
  /** UTC day the warning is about (for `silent`: the day the sensor crossed the silence threshold). */
  day: string;
  kind: WarningKind;
  /** `tcp/445`, `sid:<id>`, `msg:<text>` or `sensor:<id>`. */
  subject: string;
  /** A signature subject's text (for titles), when known. */
  name?: string;
  /** The subject's figures on the day (a silent sensor: zeros). */
  figures: WarningFigures;
  /** Their medians over the baseline days (a silent sensor: zeros). */
  baseline: WarningFigures;
  /** Active days of the subject in the baseline (surge; 0 for new). */
  activeDays?: number;
  /** When the warning was first raised, and last changed (ISO 8601 UTC). */
  raisedAt: string;
  updatedAt: string;
  /** Silent sensors: the last batch before the silence, and when a later batch cleared the warning. */
  lastSeenAt?: string;
  clearedAt?: string;
}

/** A fixed namespace for alertgraph's warning ids (a random UUID drawn once). */
export const WARNING_NAMESPACE = '6f1d1c0e-3a57-4b8e-9a44-2f0b7c9d5e21';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** RFC 9562 §5.5: SHA-1 over namespace bytes and name, version 5, variant 10. */
export function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The stable id of a warning: the same (day, kind, subject) always gives the same id. */
export function warningId(day: string, kind: WarningKind, subject: string): string {
  // A newline cannot occur in a day or a kind, so the three parts never run into each other.
  return uuidV5(WARNING_NAMESPACE, `${day}\n${kind}\n${subject}`);
}

/** A rule's row as a warning raised at `at`. */
export function fromJudgedRow(row: JudgedRow, at: string): Warning {
  return {
    id: warningId(row.day, row.kind, row.subject),
    day: row.day,
    kind: row.kind,
    subject: row.subject,
    ...(row.name ? { name: row.name } : {}),
    figures: { alerts: Number(row.alerts), sources: Number(row.sources) },
    baseline: { alerts: Number(row.median_alerts), sources: Number(row.median_sources) },
    activeDays: Number(row.active_days),
    raisedAt: at,
    updatedAt: at,
  };
}

/** Newest first: by day, then raised time, then subject (a stable order for every output). */
/** The fields of a warning every reader gets (the partner JSON, the SNS message): what, when, figures, baseline. */
export function warningFields(w: Warning) {
  return {
    id: w.id,
    day: w.day,
    kind: w.kind,
    subject: w.subject,
    ...(w.name ? { name: w.name } : {}),
    figures: w.figures,
    baseline: w.baseline,
    ...(w.activeDays !== undefined ? { activeDays: w.activeDays } : {}),
  };
}

export function newestFirst(a: Warning, b: Warning): number {
  return b.day.localeCompare(a.day) || b.raisedAt.localeCompare(a.raisedAt) || a.kind.localeCompare(b.kind) || a.subject.localeCompare(b.subject);
}

/**
 * Merges the warnings judged for `judgedDays` into the stored ones: a warning with a known id keeps its
 * `raisedAt` and takes the new figures (`updatedAt` moves only when they changed); a surge or new warning of
 * a judged day that the rules no longer give is dropped (a late batch can raise a baseline); everything else
 * is kept as it was.
 */
export function mergeJudged(
  stored: readonly Warning[],
  judged: readonly Warning[],
  judgedDays: ReadonlySet<string>,
): { warnings: Warning[]; added: Warning[]; updated: Warning[]; dropped: Warning[] } {
  const byId = new Map(stored.map((w) => [w.id, w]));
  const fresh = new Map(judged.map((w) => [w.id, w]));
  const added: Warning[] = [];
  const updated: Warning[] = [];
  const dropped: Warning[] = [];
  const out: Warning[] = [];
  for (const w of stored) {
    if (w.kind !== 'silent' && judgedDays.has(w.day) && !fresh.has(w.id)) {
      dropped.push(w);
      continue;
    }
    const next = fresh.get(w.id);
    if (!next) {
      out.push(w);
      continue;
    }
    const same = sameFigures(w, next);
    const merged: Warning = { ...next, raisedAt: w.raisedAt, updatedAt: same ? w.updatedAt : next.updatedAt };
    if (!same) updated.push(merged);
    out.push(merged);
  }
  for (const w of judged) {
    if (!byId.has(w.id)) {
      added.push(w);
      out.push(w);
    }
  }
  out.sort(newestFirst);
  return { warnings: out, added, updated, dropped };
}

function sameFigures(a: Warning, b: Warning): boolean {
  return (
    a.figures.alerts === b.figures.alerts &&
    a.figures.sources === b.figures.sources &&
    a.baseline.alerts === b.baseline.alerts &&
    a.baseline.sources === b.baseline.sources &&
    a.activeDays === b.activeDays
  );
}
