/**
 * Where warnings are kept: one private JSON object in the bucket, `lake/warnings.json`.
 *
 * Why an S3 object rather than DynamoDB items: warnings are few (a handful a day, a few thousand a year, a
 * few hundred KB), every reader wants all of them at once (the partner objects, the feed, `alertgraph
 * warnings`), and there is one writer — the render job, which holds the close lease while it runs — so a
 * whole-object rewrite never races. It needs no new table items, indexes or IAM beyond the bucket the job
 * already writes, and the local stack (s3rver) and AWS behave the same. Upserting by id makes every write
 * idempotent: a re-run rewrites the same content.
 */
import { WARNINGS_STORE_KEY } from '../publish/layout.js';
import { newestFirst, type Warning } from './model.js';

/** The object store as the warnings need it (S3Lake has both). */
export interface JsonObjects {
  readJson<T>(key: string): Promise<T | undefined>;
  writeJson(key: string, value: unknown): Promise<void>;
}

interface StoredWarnings {
  version: 1;
  warnings: Warning[];
}

export class WarningStore {
  constructor(private readonly objects: JsonObjects) {}

  /** Every stored warning, newest first (none before the first judgement). */
  async list(): Promise<Warning[]> {
    const stored = await this.objects.readJson<StoredWarnings>(WARNINGS_STORE_KEY);
    return [...(stored?.warnings ?? [])].sort(newestFirst);
  }

  async save(warnings: readonly Warning[]): Promise<void> {
    const body: StoredWarnings = { version: 1, warnings: [...warnings].sort(newestFirst) };
    await this.objects.writeJson(WARNINGS_STORE_KEY, body);
  }
}

/** `alertgraph warnings [--from D]`: every kind, newest first, `from` inclusive. */
export function selectWarnings(warnings: readonly Warning[], from?: string): Warning[] {
  return warnings.filter((w) => !from || w.day >= from).sort(newestFirst);
}
