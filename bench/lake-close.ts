/**
 * Child process of the lake benchmark: runs the project's daily close (lib/lake/close.ts `closeDays`) once,
 * against the bucket the parent staged, as the render function runs it: a process of its own that brings the
 * objects from S3 (here s3rver in the parent process) through the SDK into a scratch directory.
 *
 * `node --import tsx bench/lake-close.ts <args.json>`; prints one JSON line: the close's wall time (closeDays
 * alone: no process start, no module import), its phase split, the figures it computed, and the peak RSS of
 * this process (process.resourceUsage().maxRSS: Node, the SDK and DuckDB; s3rver is not in it).
 */
import { readFile } from 'node:fs/promises';
import { closeDays } from '../lib/lake/close.js';
import { S3Lake } from '../lib/lake/store.js';
import { localS3Client } from '../lib/local/aws-clients.js';
import { silentLog } from '../lib/log.js';

export interface CloseChildArgs {
  s3Endpoint: string;
  bucket: string;
  day: string;
  /** Every batch of the day, `sensor/idempotencyKey` (each batch's earliest day is the day closed). */
  counted: string[];
  scratchDir: string;
  memoryLimit?: string;
}

export interface CloseChildResult {
  closeMs: number;
  ms: { fetch: number; compact: number; figures: number; store: number };
  compactedObjects: number;
  alerts: number;
  sources: number;
  newSources: number;
  sourcesByPort: Record<string, number>;
  maxRssMb: number;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as CloseChildArgs;
  const lake = new S3Lake(localS3Client(args.s3Endpoint), args.bucket);
  const t = performance.now();
  const result = await closeDays({ lake, scratchDir: args.scratchDir, memoryLimit: args.memoryLimit, log: silentLog }, [
    { day: args.day, counted: new Map(args.counted.map((batch) => [batch, args.day])) },
  ]);
  const closeMs = performance.now() - t;
  const figures = result.days.get(args.day);
  const out: CloseChildResult = {
    closeMs,
    ms: result.ms,
    compactedObjects: result.compactedObjects,
    alerts: figures?.alerts ?? 0,
    sources: figures?.sources ?? 0,
    newSources: result.newSources.get(args.day) ?? 0,
    sourcesByPort: figures?.sourcesByPort ?? {},
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
